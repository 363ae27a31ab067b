"""`takedown serve` for real: a server process on a free loopback port, called with curl
and an HTTP client, reloaded with SIGHUP, its log read back. Then the same with two
worker processes, which must follow a reload made through either of them."""

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.service.conftest import FIXTURE, RULES, bearer

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.log = process, log
        self.url = f"http://127.0.0.1:{port}"
        self.http = httpx2.Client(base_url=self.url, timeout=30)

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def generation(self) -> str:
        return self.http.get("/readyz").json()["generation"]

    def wait_for(self, predicate, what: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; log:\n{self.log.read_text()}")


@contextlib.contextmanager
def serving(rules_dir: Path, log: Path, *options: str, env: dict | None = None):
    port = free_port()
    command = [sys.executable, "-m", "engine.cli", "serve", "--port", str(port), "--rules",
               str(rules_dir), *options]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=sink,
                                   env={**os.environ, **(env or {})})
    server = Server(process, port, log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, f"the server stopped:\n{log.read_text()}"
            with contextlib.suppress(httpx2.TransportError):
                if server.http.get("/readyz").status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the server did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield server
    finally:
        server.http.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("serve-rules") / "rules"
    shutil.copytree(RULES, copy)
    return copy


@pytest.fixture(scope="module")
def server(rules_dir, tmp_path_factory):
    env = {"TAKEDOWN_API_KEYS": ""}  # no keys: loopback only, no Authorization needed
    with serving(rules_dir, tmp_path_factory.mktemp("serve") / "server.log", env=env) as s:
        yield s


def takedown_check_json(path: Path, rules_dir: Path) -> dict:
    done = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(path), "--format",
                           "json", "--rules", str(rules_dir), "--no-extract"],
                          capture_output=True, check=True, timeout=120)
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_gets_the_decision_takedown_check_gives(server, rules_dir):
    done = subprocess.run(["curl", "--silent", "--show-error", "--fail-with-body",
                           "-X", "POST", "--data-binary", f"@{FIXTURE}",
                           f"{server.url}/v1/check"], capture_output=True, check=True, timeout=60)
    served = json.loads(done.stdout)
    expected = takedown_check_json(FIXTURE, rules_dir)
    assert (served["outcome"], served["likelihood"], served["rulesets"]) == (
        expected["outcome"], expected["likelihood"], expected["rulesets"])
    served["evidence"]["name"] = expected["evidence"]["name"]
    assert served == expected


def test_the_log_is_json_lines_with_request_ids_and_no_evidence(server):
    canary = "Canary-51c0 crossing tonight, ask for Ana Pereira"
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    document["target"]["posts"][0]["text"] = canary
    response = server.http.post("/v1/check", content=json.dumps(document),
                                headers={"X-Request-ID": "serve-log-test"})
    assert response.status_code == 200
    server.wait_for(lambda: "serve-log-test" in server.log.read_text(), "the request's log line")
    records = server.records()  # every line is JSON, or this fails
    (line,) = [r for r in records if r.get("request_id") == "serve-log-test"]
    assert line["status"] == 200 and line["route"] == "/v1/check" and line["duration_ms"] > 0
    assert "Canary" not in server.log.read_text() and "Pereira" not in server.log.read_text()
    assert any(r["message"] == "rules loaded" for r in records)


def test_sighup_reloads_and_keeps_the_old_rules_when_the_new_have_errors(server, rules_dir):
    path = sorted(rules_dir.rglob("*.yaml"))[0]
    original = path.read_bytes()
    first = server.generation()
    try:
        path.write_bytes(original + b"\n# edited before SIGHUP\n")
        server.process.send_signal(signal.SIGHUP)
        server.wait_for(lambda: server.generation() != first, "the reload")
        edited = server.generation()
        listed = server.http.get("/v1/rulesets").json()
        assert hashlib.sha256(path.read_bytes()).hexdigest() in {r["sha256"] for r in listed}

        path.write_bytes(original + b"\nrules: [broken\n")
        server.process.send_signal(signal.SIGHUP)
        server.wait_for(lambda: any(r.get("result") == "rejected" for r in server.records()),
                        "the rejected reload")
        assert server.generation() == edited
        (rejected,) = [r for r in server.records() if r.get("result") == "rejected"]
        assert rejected["trigger"] == "SIGHUP" and rejected["diagnostics"]
        assert server.http.post("/v1/check", content=FIXTURE.read_bytes()).status_code == 200
    finally:
        path.write_bytes(original)


def test_two_workers_follow_reloads_and_share_their_metrics(rules_dir, tmp_path):
    keys = {"TAKEDOWN_API_KEYS": "td_serve-test-key"}
    with serving(rules_dir, tmp_path / "workers.log", "--workers", "2", env=keys) as server:
        auth = bearer("td_serve-test-key")
        assert server.http.post("/v1/check", content=FIXTURE.read_bytes()).status_code == 401
        path = sorted(rules_dir.rglob("*.yaml"))[-1]
        original = path.read_bytes()
        try:
            path.write_bytes(original + b"\n# edited for two workers\n")
            report = server.http.post("/v1/admin/reload", headers=auth).json()
            assert report["changed"] is True
            # New connections until both workers have answered (the kernel hands them
            # out); each must answer with the new rule sets.
            sent = 0
            while sent < 200:
                with httpx2.Client(base_url=server.url, timeout=30) as fresh:
                    response = fresh.post("/v1/check", content=FIXTURE.read_bytes(),
                                          headers=auth)
                sent += 1
                assert response.status_code == 200
                assert response.headers["Takedown-Rules-Generation"] == report["generation"]
                if sent >= 10 and len(_pids(server, "/v1/check")) == 2:
                    break
            assert len(_pids(server, "/v1/check")) == 2, "both workers answered"

            def counted() -> float:
                metrics = server.http.get("/metrics").text
                return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                           if line.startswith("takedown_http_requests_total{")
                           and 'route="/v1/check"' in line and 'status="200"' in line)

            server.wait_for(lambda: counted() == sent,
                            "every worker's requests in /metrics, whichever worker answers")

            # SIGHUP goes to the supervisor, which reloads; the workers follow.
            path.write_bytes(original)
            server.process.send_signal(signal.SIGHUP)
            server.wait_for(lambda: server.generation() not in (report["generation"], None),
                            "the workers to follow the supervisor's reload")
            assert server.generation() == report["previous"]
        finally:
            path.write_bytes(original)


def _pids(server: Server, route: str) -> set[int]:
    return {r["pid"] for r in server.records() if r.get("route") == route}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads "
                    "connections over sockets on Linux only")
def test_each_worker_listens_on_a_socket_of_its_own_on_one_port():
    from engine.service.connections import DeadlineConfig
    from engine.service.server import _listening_sockets

    for port in (0, free_port()):
        config = DeadlineConfig("engine.service.app:create_app_from_env", factory=True,
                                host="127.0.0.1", port=port, workers=3,
                                header_seconds=10.0, body_seconds=10.0)
        sockets = _listening_sockets(config)
        try:
            assert len(sockets) == 3
            assert len({s.getsockname() for s in sockets}) == 1
            assert sockets[0].getsockname()[1] != 0
            assert port in (0, sockets[0].getsockname()[1])
            assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
            # Listening already: a connection waits in a queue until its worker takes it.
            with socket.create_connection(sockets[0].getsockname(), timeout=5):
                pass
        finally:
            for s in sockets:
                s.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT spreads "
                    "connections over sockets on Linux only")
def test_a_burst_of_connections_is_spread_over_the_workers(rules_dir, tmp_path):
    """On one shared socket the worker that woke first accepted a whole burst (a client's
    pool opening), and the other core sat idle; with a socket a worker the system spreads
    the connections (32 all to one worker: one chance in two billion)."""
    with serving(rules_dir, tmp_path / "burst.log", "--workers", "2") as server:
        port = int(server.url.rsplit(":", 1)[1])
        body = FIXTURE.read_bytes()
        request = (f"POST /v1/check?explain=false HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                   "Connection: close\r\n\r\n").encode() + body
        connections = [socket.create_connection(("127.0.0.1", port), timeout=30)
                       for _ in range(32)]
        try:
            for connection in connections:
                connection.sendall(request)
            for connection in connections:
                answer = b""
                while chunk := connection.recv(65536):
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        finally:
            for connection in connections:
                connection.close()
        server.wait_for(lambda: sum(r.get("route") == "/v1/check" for r in server.records())
                        == 32, "the 32 requests in the log")
        assert len(_pids(server, "/v1/check")) == 2
