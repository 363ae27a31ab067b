"""What every request goes through, as one plain ASGI middleware: admission, a request
id, the size limit, a log line with timings, metrics, and a last line of defence that
turns any exception into a 500 problem without a traceback.

Admission keeps a worker from taking more than it can answer in time. A check runs on
the event loop, start to end, so requests beyond what the worker can answer do not pile
up here: they wait in the loop's queue, and that wait grows everyone's latency. So a
request is shed when it waited longer than `max_queue_seconds`, counted from when its
headers were read (the protocol, connections.py, stamps it: `RECEIVED_AT`) less how late
the loop was running then (`LoopLag.late`: the bound on its wait in the kernel before
that). The wait is checked twice: when the request reaches this middleware, and again
when its handler first reads the body, after anything the handler awaited first (a
worker following another's reload waits for it, and so do the requests that arrive
meanwhile). A request is also shed when the worker already has `max_in_flight` requests
in progress (those that wait on something, such as a lint's process or a batch's
lines). A request counts as in progress once its body is
in, or its answer has begun: one whose body trickles in (a slow client, cut by the
body deadline) holds no place that others need. A shed request gets 429 at once, before
its body is read, with `Retry-After` and the `overloaded` problem. Shedding is the
service working as designed, so it is never a 5xx: a 5xx always means a fault. Probes
and /metrics are always admitted, so that an overloaded worker is not taken for a dead
one.

Plain ASGI rather than a `BaseHTTPMiddleware`: it costs a few microseconds, and it sees
the body as it arrives, so a body over the limit is refused when its declared length is
read, or (sent in chunks) as soon as it goes past the limit, never parsed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
import weakref
from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.service.logs import log
from engine.service.metrics import Metrics
from engine.service.problems import MEDIA_TYPE, problem_body

__all__ = ["ServiceMiddleware", "BodyTooLarge", "LoopLag", "REQUEST_ID_HEADER", "RECEIVED_AT",
           "loop_lag", "received_now", "accepted_now"]

REQUEST_ID_HEADER = "X-Request-ID"
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_QUIET = {"/healthz", "/readyz", "/metrics"}  # probes and scrapes: logged at debug level
# The key in scope["state"] of the `time.monotonic()` from which a request's wait counts
# (`received_now`); without it (a test client) there is no bound on the wait.
RECEIVED_AT = "received_at"


class _Overloaded(Exception):
    """Raised when the handler first reads the body of a request that waited too long."""


class BodyTooLarge(Exception):
    """Raised while the body is received, as soon as it passes the limit."""

    def __init__(self, limit: int):
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


class LoopLag:
    """How late the event loop is running: how far past due its timer, set every
    `interval` seconds, is now (`late`); `seconds`, how late that timer ran last.

    A request's wait before its worker read its headers is spent in the kernel, in the
    listen queue or the connection's socket buffer, while the loop ran other callbacks.
    Bytes that arrive while the loop is busy are read when it next polls, so that wait is
    at most how long the loop was busy, which is how far past due its timer is when the
    bytes are read: a timer due while a callback holds the loop for D seconds is about D
    past due when the loop polls again. Asked when the bytes are read, not later: once
    the timer has run, its lateness is a past stall's, and a request that arrives after
    the loop caught up did not wait through it. Loop agnostic (any asyncio event loop),
    and a callback every `interval` seconds when idle.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float = 0.02):
        # The loop is not kept: it holds the lag (its timer), and `_LAGS` holds the lag
        # only as long as the loop lives.
        self.interval = interval
        self.seconds = 0.0
        self._due = loop.time() + interval
        loop.call_at(self._due, self._beat, loop)

    def late(self, loop: asyncio.AbstractEventLoop) -> float:
        """How far past due the timer is: 0 while the loop keeps time."""
        return max(0.0, loop.time() - self._due)

    def _beat(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        self.seconds = max(0.0, now - self._due)
        self._due = now + self.interval
        loop.call_at(self._due, self._beat, loop)


_LAGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopLag] = weakref.WeakKeyDictionary()


def loop_lag(loop: asyncio.AbstractEventLoop) -> LoopLag:
    """The lag of `loop`, beating from the first time it is asked for: one a loop, shared
    by the connections that stamp requests and the middleware that admits them."""
    lag = _LAGS.get(loop)
    if lag is None:
        lag = _LAGS[loop] = LoopLag(loop)
    return lag


def received_now(loop: asyncio.AbstractEventLoop) -> float:
    """What the protocol stamps as `RECEIVED_AT` when it reads a request's headers: now,
    less how late the loop is running, the most its bytes can have waited in the
    kernel."""
    return time.monotonic() - loop_lag(loop).late(loop)


def accepted_now(loop: asyncio.AbstractEventLoop) -> float:
    """What the protocol takes as the earliest a new connection's first request can have
    arrived. A connection that waited in the listen queue through a stall is accepted,
    and its protocol told, an iteration or two of the loop after the stall ended, by
    when the loop's timer may have run and caught up: so the stall is counted if the
    loop is late now, or if it was when its timer last ran (which may charge a
    connection that arrived within one `interval` after a stall with it)."""
    lag = loop_lag(loop)
    return time.monotonic() - max(lag.late(loop), lag.seconds)


class ServiceMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int,
                 max_batch_bytes: int, max_in_flight: int = 1 << 30,
                 max_queue_seconds: float = float("inf"), batch_paths: Collection[str] = (),
                 known_paths: Collection[str] = ()):
        self.app = app
        self.metrics = metrics
        self.max_in_flight = max_in_flight
        self.max_queue_seconds = max_queue_seconds
        self.in_flight = 0
        self.max_body_bytes = max_body_bytes
        self.max_batch_bytes = max_batch_bytes
        self.batch_paths = frozenset(batch_paths)
        self.known_paths = frozenset(known_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path not in _QUIET:
            why = self._waited_too_long(scope) or self._is_full()
            if why:
                await self._shed(scope, send, why, _request_id(scope))
                return
        started = time.perf_counter()
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        fields = state["log"] = {}  # what the handler adds to the log line
        limit = self.max_batch_bytes if path in self.batch_paths else self.max_body_bytes
        sizes = {"in": 0, "out": 0}
        status = 0
        is_counted = False
        is_reading = path in _QUIET

        def count() -> None:
            nonlocal is_counted
            if not is_counted:
                is_counted = True
                self.in_flight += 1
                self.metrics.in_flight.inc()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                count()
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            elif message["type"] == "http.response.body":
                sizes["out"] += len(message.get("body", b""))
            await send(message)

        async def receive_limited() -> Message:
            nonlocal is_reading
            if not is_reading:
                is_reading = True
                why = self._waited_too_long(scope)
                if why:
                    raise _Overloaded(why)
            message = await receive()
            if message["type"] == "http.request":
                sizes["in"] += len(message.get("body", b""))
                if sizes["in"] > limit:
                    raise BodyTooLarge(limit)
                if not message.get("more_body", False):
                    count()
            return message

        try:
            declared = _content_length(scope)
            if declared is not None and declared > limit:
                await _too_large(send_with_id, limit, request_id)
            else:
                await self.app(scope, receive_limited, send_with_id)
        except BodyTooLarge as error:
            if not status:
                await _too_large(send_with_id, error.limit, request_id)
        except _Overloaded as error:
            if not status:
                status = 429
                fields["shed"] = True
                await self._shed(scope, send, str(error), request_id)
        except ClientDisconnect:
            fields["disconnected"] = True  # gone, or cut by a deadline: no one to answer
        except Exception:
            # Logged by type and place only (see logs.py); the client gets the request id.
            logging.getLogger("takedown.service").exception(
                "unhandled error", extra={"fields": {"request_id": request_id}})
            if not status:
                await send_with_id(_start(500))
                await send_with_id({"type": "http.response.body", "body": problem_body(
                    500, "internal-error", "internal error",
                    "the service failed to answer; quote the request id when reporting it",
                    request_id=request_id)})
        finally:
            if is_counted:
                self.in_flight -= 1
                self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                path if path in self.known_paths else "unmatched")
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
            self.metrics.duration.labels(template).observe(elapsed)
            quiet = (path in _QUIET and status < 400) or "shed" in fields
            log(logging.DEBUG if quiet else logging.INFO, "request",
                request_id=request_id, method=scope["method"], route=template, status=status,
                duration_ms=round(elapsed * 1000, 3), bytes_in=sizes["in"],
                bytes_out=sizes["out"], **fields)


    def _waited_too_long(self, scope: Scope) -> str:
        """Why the request is shed for its wait, or "" when it is admitted."""
        received = scope.get("state", {}).get(RECEIVED_AT)
        if received is None:
            return ""
        # In the loop's queue since the headers were read, and before that in the
        # kernel's for at most how late the loop was running then (received_now).
        waited = time.monotonic() - received
        if waited <= self.max_queue_seconds:
            return ""
        return (f"the request waited {waited:.1f} seconds for this worker, longer than "
                f"{self.max_queue_seconds:g}")

    def _is_full(self) -> str:
        """Why the request is shed for the requests in progress, or "" when it is not."""
        if self.in_flight >= self.max_in_flight:
            return f"this worker is answering {self.max_in_flight} requests already"
        return ""

    async def _shed(self, scope: Scope, send: Send, why: str, request_id: str) -> None:
        """429 without reading the body; counted, and logged at debug level only: at
        several times the rate the service can take, a line each would be work too."""
        self.metrics.shed.inc()
        body = problem_body(
            429, "overloaded", "the service is overloaded",
            f"{why}; retry after the number of seconds in Retry-After",
            request_id=request_id)
        await send(_start(429, (b"retry-after", b"1"),
                          (b"content-length", str(len(body)).encode()),
                          (REQUEST_ID_HEADER.lower().encode(), request_id.encode())))
        await send({"type": "http.response.body", "body": body})
        log(logging.DEBUG, "request shed", request_id=request_id, method=scope["method"],
            status=429, in_flight=self.in_flight)


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a plain token, so that logs on both sides
    join up; otherwise a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _GIVEN_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such a request before it gets here
    return None


def _start(status: int, *extra: tuple[bytes, bytes]) -> Message:
    return {"type": "http.response.start", "status": status,
            "headers": [(b"content-type", MEDIA_TYPE.encode()), *extra]}


async def _too_large(send: Send, limit: int, request_id: str) -> None:
    await send(_start(413, (b"connection", b"close")))
    await send({"type": "http.response.body", "body": problem_body(
        413, "body-too-large", "request body too large",
        f"the body is larger than {limit} bytes; split the work over several requests",
        request_id=request_id, limit=limit)})
