"""Bodies over the configured size get 413 before they are parsed: at once when their
declared length is over, or as soon as a chunked body goes past the limit. A batch
that goes past its limit after decisions have gone out ends with an error line."""

import asyncio
import dataclasses
import json

import httpx2
import pytest
from starlette.testclient import TestClient

from engine.service.app import create_app
from tests.service.conftest import ADMIN_KEY, FIXTURE, bearer, one_line

LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def small_app(app):
    """The service with a 16 KiB limit (48 KiB for batches), on the same rule sets."""
    settings = dataclasses.replace(app.state.service.settings, max_body_bytes=LIMIT,
                                   max_batch_bytes=3 * LIMIT)
    return create_app(settings, store=app.state.service.store)


@pytest.fixture(scope="module")
def small(small_app):
    with TestClient(small_app, headers=bearer(ADMIN_KEY)) as client:
        yield client


def post_streamed(app, path: str, body: bytes, size: int = 1024):
    """POST `body` in chunks of `size` without a Content-Length, the app reading each
    chunk as it arrives (the test client would read the whole body first)."""

    async def chunks():
        for start in range(0, len(body), size):
            yield body[start:start + size]

    async def post():
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver",
                                      headers=bearer(ADMIN_KEY)) as client:
            return await client.post(path, content=chunks())

    return asyncio.run(post())


def padded(size: int) -> bytes:
    """Valid evidence of about `size` bytes: its fixture with spaces after it."""
    body = FIXTURE.read_bytes()
    return body + b" " * max(0, size - len(body))


def test_under_the_limit_is_evaluated(small):
    assert small.post("/v1/check", content=padded(LIMIT)).status_code == 200


@pytest.mark.parametrize("path", ["/v1/check", "/v1/explain", "/v1/lint", "/v1/check/batch"])
def test_a_declared_length_over_the_limit_is_refused_unread(small, path):
    limit = 3 * LIMIT if path.endswith("batch") else LIMIT
    response = small.post(path, content=padded(limit + 1))
    assert response.status_code == 413
    problem = response.json()
    assert problem["type"].endswith("/body-too-large") and problem["limit"] == limit
    assert response.headers["connection"] == "close"


def test_a_chunked_body_is_cut_off_at_the_limit(small_app):
    response = post_streamed(small_app, "/v1/check", padded(4 * LIMIT))
    assert response.status_code == 413


def test_the_refusal_happens_before_parsing(small, app):
    rejected = app.state.service.metrics.rejected
    before = {s.labels["code"]: s.value for s in next(iter(rejected.collect())).samples}
    small.post("/v1/check", content=b"{" * (2 * LIMIT))  # would be E001 if parsed
    after = {s.labels["code"]: s.value for s in next(iter(rejected.collect())).samples}
    assert after == before


def test_a_batch_over_its_limit_ends_with_an_error_line(small_app):
    line = one_line(FIXTURE) + b"\n"
    body = line * (4 * 3 * LIMIT // len(line))  # about four times the batch limit
    response = post_streamed(small_app, "/v1/check/batch", body)
    assert response.status_code == 200
    records = [json.loads(x) for x in response.text.splitlines()]
    decisions, last = records[:-1], records[-1]
    assert decisions and all(r["outcome"] == "posts_removed" for r in decisions)
    assert last["line"] == len(decisions) + 1
    assert [d["code"] for d in last["error"]] == ["E003"]


def test_a_chunked_batch_over_its_limit_before_any_decision_is_413(small_app):
    response = post_streamed(small_app, "/v1/check/batch", b" " * (4 * LIMIT))
    assert response.status_code == 413


def lint_app(app, **limits):
    settings = dataclasses.replace(app.state.service.settings, **limits)
    return create_app(settings, store=app.state.service.store)


def test_lint_past_its_cpu_time_is_422(app):
    from tests.service.test_drills import worst_rule_text

    with TestClient(lint_app(app, lint_cpu_seconds=0.001), headers=bearer(ADMIN_KEY)) as c:
        response = c.post("/v1/lint", content=worst_rule_text())
    assert response.status_code == 422
    assert response.json()["type"].endswith("/lint-time-limit")


def test_lint_past_its_memory_is_422(app):
    from tests.service.test_drills import worst_rule_text

    with TestClient(lint_app(app, lint_memory_bytes=64 << 20), headers=bearer(ADMIN_KEY)) as c:
        response = c.post("/v1/lint", content=worst_rule_text())
    assert response.status_code == 422
    assert response.json()["type"].rsplit("/", 1)[1] in ("lint-memory-limit", "lint-failed")


def test_a_lint_without_a_slot_is_429_with_retry_after(app, tmp_path):
    import fcntl

    busy = lint_app(app, lint_slots=1, lint_wait_seconds=0.2)
    slot = busy.state.service.linter._slot_dir / "slot-0"
    with open(slot, "a+b") as held, TestClient(busy, headers=bearer(ADMIN_KEY)) as c:
        fcntl.flock(held, fcntl.LOCK_EX)
        response = c.post("/v1/lint", content=b"ruleset: x\n")
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert response.json()["type"].endswith("/lint-busy")


def test_past_max_in_flight_requests_are_shed_with_429(app):
    shedding = lint_app(app, max_in_flight=0)
    with TestClient(shedding, headers=bearer(ADMIN_KEY)) as c:
        response = c.post("/v1/check", content=FIXTURE.read_bytes())
        assert c.get("/readyz").status_code == 200  # probes are always admitted
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/overloaded")
    assert shedding.state.service.metrics.shed._value.get() == 1


def test_a_request_that_waited_past_max_queue_seconds_is_shed_with_429(app):
    import time

    from engine.service.middleware import RECEIVED_AT

    shedding = lint_app(app, max_queue_seconds=1.0)

    async def read_long_ago(scope, receive, send):  # what the protocol stamps, 5 s ago
        if scope["type"] == "http":
            scope.setdefault("state", {})[RECEIVED_AT] = time.monotonic() - 5
        await shedding(scope, receive, send)

    with TestClient(read_long_ago, headers=bearer(ADMIN_KEY)) as c:
        response = c.post("/v1/check", content=FIXTURE.read_bytes())
        assert c.get("/readyz").status_code == 200
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert "waited 5.0 seconds" in response.json()["detail"]


def test_a_request_held_up_before_it_reads_its_body_is_shed_when_it_does(app):
    """Time a handler spends before it reads the body (here: following a reload that
    another worker made, which the test makes take 0.3 s) counts as waiting: past
    `max_queue_seconds`, 429 when the body is first read, before any of it is parsed."""
    import time

    from engine.service.middleware import RECEIVED_AT

    shedding = lint_app(app, max_queue_seconds=0.2)
    store = shedding.state.service.store

    class SlowToFollow:
        def __getattr__(self, name):
            return getattr(store, name)

        def is_stale(self):
            return True

        def follow(self):
            time.sleep(0.3)
            return store.current()

    shedding.state.service.store = SlowToFollow()

    async def stamped(scope, receive, send):  # what the protocol does as headers are read
        if scope["type"] == "http":
            scope.setdefault("state", {})[RECEIVED_AT] = time.monotonic()
        await shedding(scope, receive, send)

    try:
        with TestClient(stamped, headers=bearer(ADMIN_KEY)) as c:
            response = c.post("/v1/check", content=FIXTURE.read_bytes())
    finally:
        shedding.state.service.store = store
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/overloaded")
    assert "waited 0.3 seconds" in response.json()["detail"]
    assert shedding.state.service.metrics.shed._value.get() == 1


def test_the_loop_lag_is_how_late_the_loop_runs_when_asked():
    """While a callback holds the loop for 0.5 s, bytes that arrive wait in the kernel:
    read right after it, they are stamped as received 0.5 s earlier. Once the loop has
    caught up, a request read then waited through nothing, whatever the last stall."""
    import time

    from engine.service.middleware import loop_lag, received_now

    async def measure() -> tuple[float, float, float, float]:
        loop = asyncio.get_running_loop()
        lag = loop_lag(loop)
        await asyncio.sleep(0.05)
        idle = lag.late(loop)
        time.sleep(0.5)  # a callback that holds the loop
        busy = lag.late(loop)  # what a request read as the loop polls again is charged
        stamped = time.monotonic() - received_now(loop)
        await asyncio.sleep(0.001)  # the loop catches up: its timer runs
        return idle, busy, stamped, time.monotonic() - received_now(loop)

    idle, busy, stamped, after = asyncio.run(measure())
    assert idle < 0.25  # a timer's lateness on a machine busy with other tests
    assert 0.45 <= busy < 1.5 and 0.45 <= stamped < 1.5
    assert after < 0.25
