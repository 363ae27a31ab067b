"""The service under load and faults, against `takedown serve --workers 2` on loopback.

One server, one code path, two sizes (tests/drills.py): `make test` runs each part for a
few seconds, `make drills-service` (TAKEDOWN_DRILLS=long) for a minute per rate. Every
figure is reported, and kept in out/drills/ by `make drills`, for
docs/reliability-service.md.

1. The saturation rate, closed loop; then 1x, 2x and 4x it, open loop: no 5xx (shed load
   is 429), the p99 and the load shed. During the 1x run one worker is stopped with
   SIGTERM: it answers what it has taken before it exits, and is replaced. During the 2x
   run one is killed with SIGKILL: it is replaced, and the requests it had taken, cut
   before any byte of an answer, are sent again by the client (tests/service/load.py);
   no request ends unanswered. During every run the rule files change and the supervisor
   gets SIGHUP (every 2 s, every 0.5 s in the short form): no response names one
   generation and carries the rule-set hashes of another.
2. Slow clients: connections that send their headers, or their body, a byte a second
   get 408 and are closed at the deadline, while every other request is answered 200.
3. Worst-case rule text sent to /v1/lint in parallel while /v1/check is measured; in the
   long form its p99 must stay within twice what it was before, plus 20 ms.

The slow-client and lint drills send /v1/check half the saturation rate measured first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import time
from pathlib import Path

import pytest

import rules
from tests.drills import IS_LONG, report, size
from tests.service.conftest import FIXTURE, RULES
from tests.service.load import Client, Run, percentile
from tests.service.test_serve import serving

# serial: `make test` runs these alone, after the rest (which run in parallel), so that
# the rates they measure are the server's and not shared with other tests.
pytestmark = [pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
              pytest.mark.serial]

SECONDS = size(2.0, 60.0)  # per rate
RELOAD_EVERY = size(0.5, 2.0)
HEADER_SECONDS, BODY_SECONDS = size(1.0, 10.0), size(1.0, 10.0)
SLOW_HEADS, SLOW_BODIES = size(30, 300), size(20, 200)
LINTS = size(4, 16)
GENERATION = "takedown-rules-generation"


@pytest.fixture(scope="module")
def saturation(server) -> dict:
    """The rate of 200s 16 clients get, each sending again when answered (closed loop):
    what the server can answer on this machine now. The other drills run at a share of
    it, so that their "normal" load is normal whatever the machine."""
    client = Client(server.port, "/v1/check", FIXTURE.read_bytes())

    async def measure() -> Run:
        await client.closed_loop(8, 1.0)  # warm both workers
        return await client.closed_loop(16, size(2.0, 20.0))

    run = asyncio.run(measure())
    client.close()
    rate = sum(a.status == 200 for a in run.answers) / run.seconds
    return {"clients": 16, "rate": rate, **run.summary()}


def normal_rate(saturation: dict) -> float:
    """Half the saturation rate: the load the slow-client and lint drills measure under."""
    return round(saturation["rate"] / 2, 1)


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("drill-rules") / "rules"
    import shutil

    shutil.copytree(RULES, copy)
    return copy


@pytest.fixture(scope="module")
def server(rules_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("drill")
    config = folder / "service.toml"
    config.write_text(f"header_seconds = {HEADER_SECONDS}\nbody_seconds = {BODY_SECONDS}\n",
                      encoding="utf-8")
    with serving(rules_dir, folder / "server.log", "--workers", "2", "--config", str(config),
                 "--log-level", "warning", env={"TAKEDOWN_API_KEYS": ""}) as s:
        s.port = int(s.url.rsplit(":", 1)[1])
        yield s


def generation_id(rules_dir: Path) -> str:
    """What generations.RuleStore names the directory's files (a hash of the listing)."""
    listing = hashlib.sha256()
    for path in rules.rule_files([rules_dir]):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        listing.update(f"{path.relative_to(rules_dir).as_posix()}\0{digest}\n".encode())
    return listing.hexdigest()


class Reloader:
    """Edits one rule file FIXTURE's decision uses, in turn to one of two contents, and
    sends SIGHUP; knows each content's generation and the file's hash in it."""

    def __init__(self, server, rules_dir: Path):
        self.server = server
        decision = json.loads(server.http.post("/v1/check", content=FIXTURE.read_bytes()).text)
        used = decision["rulesets"][0]
        info = server.http.get(f"/v1/rulesets/{used['id']}/{used['version']}").json()
        self.ruleset = (used["id"], used["version"])
        self.path = rules_dir / info["path"]
        self.original = self.path.read_bytes()
        self.contents = [self.original, self.original + b"\n# edited by the reload drill\n"]
        self.expected: dict[str, str] = {}  # generation -> the file's sha256 in it
        for content in self.contents:
            self.path.write_bytes(content)
            self.expected[generation_id(rules_dir)] = hashlib.sha256(content).hexdigest()
        self.path.write_bytes(self.original)
        self.reloads = 0

    async def run(self, every: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            self.reloads += 1
            self.path.write_bytes(self.contents[self.reloads % 2])
            self.server.process.send_signal(signal.SIGHUP)

    def mixed(self, run: Run) -> tuple[int, set[str]]:
        """How many 200s carry the hash of a generation other than the one they name,
        and the generations seen."""
        mixed, seen = 0, set()
        for answer in run.answers:
            if answer.status != 200:
                continue
            generation = answer.headers[GENERATION]
            seen.add(generation)
            used = {(r["id"], r["version"]): r["sha256"]
                    for r in json.loads(answer.body)["rulesets"]}
            if self.expected.get(generation) != used.get(self.ruleset):
                mixed += 1
        return mixed, seen

    def restore(self) -> None:
        self.path.write_bytes(self.original)
        self.server.process.send_signal(signal.SIGHUP)


def workers(server) -> set[int]:
    """The supervisor's worker processes (multiprocessing's spawned children)."""
    out = set()
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    for pid in children.read_text().split():
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"resource_tracker" not in command:
                out.add(int(pid))
    return out


async def kill_one(server, after: float, signum: signal.Signals) -> dict:
    """Send `signum` to one worker after `after` seconds; the time until a new one is
    running."""
    await asyncio.sleep(after)
    before = workers(server)
    victim = min(before)
    os.kill(victim, signum)
    killed = time.monotonic()
    while True:
        await asyncio.sleep(0.05)
        now = workers(server) - {victim}
        if len(now) == len(before) and now != before - {victim}:
            return {"signal": signum.name, "pid": victim,
                    "replaced_after_s": round(time.monotonic() - killed, 2)}
        if time.monotonic() - killed > 60:
            return {"signal": signum.name, "pid": victim, "replaced_after_s": None}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_load_at_1x_2x_4x_with_a_worker_killed_and_reloads(server, rules_dir, saturation):
    reloader = Reloader(server, rules_dir)
    client = Client(server.port, "/v1/check", FIXTURE.read_bytes())

    async def drill() -> dict:
        rate = saturation["rate"]
        figures = {"saturation": saturation, "runs": []}
        stop = asyncio.Event()
        reloading = asyncio.create_task(reloader.run(RELOAD_EVERY, stop))
        runs = {}
        for factor in (1, 2, 4):
            run = Run()
            signum = {1: signal.SIGTERM, 2: signal.SIGKILL}.get(factor)
            kill = (asyncio.create_task(kill_one(server, SECONDS / 3, signum))
                    if signum else None)
            await client.open_loop(rate * factor, SECONDS, run)
            runs[factor] = run
            entry = {"factor": factor, "rate": round(rate * factor), **run.summary()}
            if kill is not None:
                entry["worker_signalled"] = await kill
            figures["runs"].append(entry)
        stop.set()
        await reloading
        mixed = sum(reloader.mixed(r)[0] for r in runs.values())
        seen = set().union(*(reloader.mixed(r)[1] for r in runs.values()))
        figures["reloads"] = {"sighup_sent": reloader.reloads, "generations_seen": len(seen),
                              "mixed_responses": mixed}
        client.close()
        return figures

    try:
        figures = asyncio.run(drill())
    finally:
        reloader.restore()
    report("service-load", {"load_average": os.getloadavg(), **figures})
    for run in figures["runs"]:
        assert run["server_errors"] == 0, run
        assert run["unanswered"] == 0, run
        assert set(run["statuses"]) <= {200, 429}, run
    for run in figures["runs"][:2]:
        assert run["worker_signalled"]["replaced_after_s"] is not None, run
    assert figures["reloads"]["mixed_responses"] == 0
    assert figures["reloads"]["generations_seen"] == 2
    assert figures["runs"][2]["shed"] > 0, "4x the saturation rate sheds load"


async def slow_client(port: int, part: str) -> tuple[int | None, float]:
    """A connection sending a request's headers (or, after whole headers, its body) a
    byte a second; returns (the status it got, or None, and when the server closed it)."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
    # A valid request line and headers so far, then a byte a second: of the value of a
    # header that never ends, or of the body.
    writer.write(head + (b"\r\n" if part == "body" else b"X-Slow: "))
    answer = b""

    async def drip() -> None:
        while True:
            await asyncio.sleep(1.0)
            writer.write(b"x")
            await writer.drain()

    dripping = asyncio.create_task(drip())
    try:
        answer = await asyncio.wait_for(reader.read(), 60)
    except (ConnectionError, TimeoutError):
        pass
    finally:
        dripping.cancel()
        with contextlib.suppress(BaseException):
            await dripping
        writer.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, time.monotonic() - started


def test_slow_clients_are_cut_at_the_deadlines_and_do_not_starve_others(server, saturation):
    client = Client(server.port, "/v1/check", FIXTURE.read_bytes())
    rate, seconds = normal_rate(saturation), size(3.0, 20.0)

    async def drill() -> dict:
        await client.closed_loop(4, 0.5)
        before = await client.open_loop(rate, seconds)
        slow = [asyncio.create_task(slow_client(server.port, "headers"))
                for _ in range(SLOW_HEADS)]
        slow += [asyncio.create_task(slow_client(server.port, "body"))
                 for _ in range(SLOW_BODIES)]
        await asyncio.sleep(0.2)
        during = await client.open_loop(rate, seconds)
        results = await asyncio.gather(*slow)
        client.close()
        heads, bodies = results[:SLOW_HEADS], results[SLOW_HEADS:]
        return {"rate": rate, "before": before.summary(), "during": during.summary(),
                "slow_headers": _cut(heads), "slow_bodies": _cut(bodies),
                "header_seconds": HEADER_SECONDS, "body_seconds": BODY_SECONDS}

    figures = asyncio.run(drill())
    report("service-slow-clients", {"load_average": os.getloadavg(), **figures})
    # Every slow connection is cut with 408, which it reads: the server shuts its side
    # and reads on before it closes (connections.py), or the client's bytes still
    # unread would make the kernel reset the connection, 408 unread.
    for cut, count in ((figures["slow_headers"], SLOW_HEADS),
                       (figures["slow_bodies"], SLOW_BODIES)):
        assert cut["statuses"] == {"408": count}, cut
    assert figures["slow_headers"]["max_s"] < HEADER_SECONDS + 5
    assert figures["slow_bodies"]["max_s"] < BODY_SECONDS + 5
    assert figures["during"]["server_errors"] == 0
    assert figures["during"]["statuses"] == {200: figures["during"]["sent"]}


def _cut(results) -> dict:
    statuses: dict[str, int] = {}
    for status, _ in results:
        name = "reset" if status is None else str(status)
        statuses[name] = statuses.get(name, 0) + 1
    times = [t for _, t in results]
    return {"connections": len(results), "statuses": statuses,
            "median_s": round(percentile(times, 0.5), 2), "max_s": round(max(times), 2)}


def worst_rule_text() -> bytes:
    """The costliest rule file found: the largest a file may be (1 MiB), of distinct
    rules each with a regular expression and a list (2.4 s of CPU to check, in-process,
    on the reference machine)."""
    source = (RULES / "legal/eu/dsa-notice/2023-08-25.yaml").read_text(encoding="utf-8")
    head, rest = source.split("\nrules:\n", 1)
    rule = "\n".join(rest.split("\n")[:29])
    out, total, number = [head, "rules:"], len(head), 0
    while total < 1_000_000:
        text = (rule.replace("notice-lacks-explanation", f"r{number}")
                .replace('"youtube"', f'"yt{number}"').replace("{0,2}", f"{{0,{number % 90 + 2}}}"))
        out.append(text)
        total += len(text) + 1
        number += 1
    return "\n".join(out).encode("utf-8")


def test_worst_case_lints_in_parallel_leave_check_answering(server, saturation):
    client = Client(server.port, "/v1/check", FIXTURE.read_bytes())
    text = worst_rule_text()
    rate, seconds = normal_rate(saturation), size(4.0, 20.0)

    async def lint() -> tuple[int, str, float]:
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"POST /v1/lint HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                     f"{len(text)}\r\n\r\n".encode() + text)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int([x for x in head.split(b"\r\n") if x.lower().startswith(b"content-length")
                      ][0].split(b":")[1])
        body = json.loads(await reader.readexactly(length))
        writer.close()
        slug = body.get("type", "").rsplit("/", 1)[-1] if status != 200 else "report"
        return status, slug, time.monotonic() - started

    async def drill() -> dict:
        await client.closed_loop(4, 0.5)
        before = await client.open_loop(rate, seconds)
        lints = [asyncio.create_task(lint()) for _ in range(LINTS)]
        during = await client.open_loop(rate, seconds)
        answers = await asyncio.gather(*lints)
        client.close()
        kinds: dict[str, int] = {}
        for status, slug, _ in answers:
            kinds[f"{status} {slug}"] = kinds.get(f"{status} {slug}", 0) + 1
        return {"rate": rate, "lints": LINTS, "lint_bytes": len(text), "answers": kinds,
                "slowest_lint_s": round(max(t for *_, t in answers), 2),
                "before": before.summary(), "during": during.summary()}

    figures = asyncio.run(drill())
    report("service-lint", {"load_average": os.getloadavg(), **figures})
    assert all(k.split()[0] in ("200", "422", "429") for k in figures["answers"]), figures
    assert figures["during"]["statuses"] == {200: figures["during"]["sent"]}
    if IS_LONG:  # a few seconds on a shared machine are too noisy to hold to a bound
        assert figures["during"]["p99_ms"] <= 2 * figures["before"]["p99_ms"] + 20
