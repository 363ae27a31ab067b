"""Throughput and latency of `POST /v1/check` under load, every response checked.

Starts `takedown serve` on a free loopback port (two workers by default, one per core
of the reference machine), then, for each number of concurrent clients, sends a
bounded number of requests over keep-alive connections for at most a bounded time,
cycling through the bundled fixtures. Every response must be 200 and the very decision
the engine gives in this process for the same evidence (the whole JSON); any other
counts as an error and the run exits non-zero.

The client is a few lines of asyncio speaking HTTP/1.1 itself: a general-purpose client
would spend more CPU per request than the server does, on the same two cores. Client and
server share the machine, so the numbers are a floor for a server with cores of its own.

Run: .venv/bin/python benchmarks/service_load.py [--clients 1,8,64] [--requests 3000]
     [--seconds 20] [--workers 2] [--fast]
Only loopback is ever addressed; every loop stops after --requests or --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Engine, parse_evidence  # noqa: E402

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cases(fixtures: Path, rules: Path, explain: bool) -> list[tuple[bytes, dict]]:
    """(evidence, the decision the engine gives for it) for every fixture it can decide."""
    engine = Engine.from_paths([rules])
    out = []
    for path in sorted(fixtures.rglob("*.json")):
        body = path.read_bytes()
        evidence, problems = parse_evidence(body, "<body>")
        if evidence is None:
            continue
        try:
            decision = engine.check(evidence, explain=explain)
        except Exception:  # no rule set in force for it: not a /v1/check 200
            continue
        out.append((body, json.loads(json.dumps(decision.as_json(), default=str))))
    return out


@contextlib.contextmanager
def server(rules: Path, workers: int, log: Path):
    port = free_port()
    env = {**os.environ, "TAKEDOWN_API_KEYS": ""}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "serve", "--host", HOST, "--port", str(port),
             "--rules", str(rules), "--workers", str(workers)],
            stdout=sink, stderr=sink, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped:\n{log.read_text()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"http://{HOST}:{port}/readyz", timeout=2) as ready:
                if ready.status == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


class Load:
    """Shared by the clients of one run: what to send, what came back."""

    def __init__(self, requests: list[tuple[bytes, dict]], total: int, seconds: float):
        self.requests = requests
        self.total = total
        self.deadline = time.monotonic() + seconds
        self.sent = 0
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def next(self) -> tuple[bytes, dict] | None:
        if self.sent >= self.total or time.monotonic() > self.deadline:
            return None
        self.sent += 1
        return self.requests[self.sent % len(self.requests)]


async def client(port: int, path: str, load: Load) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while (item := load.next()) is not None:
            body, expected = item
            request = (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                       ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            load.latencies.append(time.perf_counter() - started)
            if status != 200:
                load.errors.append(f"status {status}: {payload[:200]!r}")
            elif json.loads(payload) != expected:
                load.errors.append("a decision differs from the engine's")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def run(port: int, path: str, clients: int, load: Load) -> float:
    started = time.perf_counter()
    await asyncio.gather(*(client(port, path, load) for _ in range(clients)))
    return time.perf_counter() - started


def per_worker(log: Path, offset: int) -> str:
    """How the requests logged after `offset` were shared between the workers."""
    time.sleep(0.2)  # the last log lines
    counts: dict[int, int] = {}
    for line in log.read_bytes()[offset:].splitlines():
        record = json.loads(line)
        if record.get("route") == "/v1/check":
            counts[record["pid"]] = counts.get(record["pid"], 0) + 1
    return "/".join(str(n) for n in sorted(counts.values(), reverse=True))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,64", help="concurrent clients, per run")
    parser.add_argument("--requests", type=int, default=3000, help="at most, per run")
    parser.add_argument("--seconds", type=float, default=20, help="at most, per run")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--fast", action="store_true",
                        help="check with explain=false (outcome and likelihood only)")
    parser.add_argument("--rules", default=str(ROOT / "platform_policies"))
    parser.add_argument("--fixtures", default=str(ROOT / "fixtures"))
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.clients.split(",")]
    explain = not args.fast
    path = "/v1/check" + ("" if explain else "?explain=false")
    requests = cases(Path(args.fixtures), Path(args.rules), explain)
    mean_size = sum(len(b) for b, _ in requests) / len(requests)
    print(f"POST {path}: {len(requests)} fixtures ({mean_size / 1024:.1f} KiB on average), "
          f"{args.workers} workers, {os.cpu_count()} cores shared with the client")
    failed = False
    with tempfile.TemporaryDirectory() as tmp, server(Path(args.rules), args.workers,
                                                      Path(tmp) / "server.log") as port:
        asyncio.run(run(port, path, 8, Load(requests, 200, 10)))  # warm up every worker
        print(f"{'clients':>7} {'requests':>9} {'errors':>6} {'req/s':>8} {'p50 ms':>7} "
              f"{'p90 ms':>7} {'p99 ms':>7} {'max ms':>7}  per worker")
        log = Path(tmp) / "server.log"
        for clients in levels:
            seen = len(log.read_bytes())
            load = Load(requests, args.requests, args.seconds)
            elapsed = asyncio.run(run(port, path, clients, load))
            ms = [x * 1000 for x in load.latencies]
            print(f"{clients:>7} {len(ms):>9} {len(load.errors):>6} {len(ms) / elapsed:>8.0f} "
                  f"{percentile(ms, 0.5):>7.2f} {percentile(ms, 0.9):>7.2f} "
                  f"{percentile(ms, 0.99):>7.2f} {max(ms):>7.2f}  {per_worker(log, seen)}")
            for error in dict.fromkeys(load.errors):
                print(f"  error: {error}")
            failed = failed or bool(load.errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
