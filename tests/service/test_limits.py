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
