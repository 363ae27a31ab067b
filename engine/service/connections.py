"""Connections that take too long to send their request: 408, and the connection closed.

uvicorn closes a connection idle between requests (its keep-alive timeout), but once a
request's first byte is in, it waits for the rest as long as the client keeps sending,
one byte a second if need be. A few hundred such clients (slowloris) hold a worker's
connections and memory while sending almost nothing. Here a request must have sent its
headers within `header_seconds` of its first byte (or of the connection, for the first
request), and its body within `body_seconds` after its headers; otherwise it gets 408
with the `request-timeout` problem and the connection is closed.

Closed gently: a socket closed with the client's bytes still unread makes the kernel
answer with a reset, and a reset can reach the client before it has read the 408,
which it then never sees. So the protocol sends the 408, shuts its side of the
connection (the client reads the end after the answer), reads and throws away what the
client still sends, and closes when the client does or `LINGER_SECONDS` later, as web
servers do (nginx's lingering close).

The deadlines are kept in the protocol, not in the application: the application never
sees a request whose headers are incomplete. They are armed and disarmed by the parser's
callbacks, so the fast path pays for two timer handles per request. The protocol also
stamps when it read each request's headers, for admission (middleware.py).
"""

from __future__ import annotations

import asyncio
import logging

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from engine.service.logs import log
from engine.service.middleware import RECEIVED_AT, accepted_now, received_now
from engine.service.problems import MEDIA_TYPE, problem_body

__all__ = ["DeadlineConfig", "DeadlineProtocol", "LINGER_SECONDS"]

LINGER_SECONDS = 2.0  # how long a connection cut with 408 reads on before it is closed


class DeadlineConfig(uvicorn.Config):
    """uvicorn's settings, serving with `DeadlineProtocol` and these deadlines. A class
    of its own, not attributes added on the fly: the supervisor pickles it for each
    worker it starts."""

    def __init__(self, app, *, header_seconds: float, body_seconds: float, **options):
        super().__init__(app, http=DeadlineProtocol, **options)
        self.header_seconds = header_seconds
        self.body_seconds = body_seconds


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on headers and one on the body."""

    def __init__(self, config: uvicorn.Config, *args, **kwargs):
        super().__init__(config, *args, **kwargs)
        self.header_seconds = getattr(config, "header_seconds", 10.0)
        self.body_seconds = getattr(config, "body_seconds", 30.0)
        self._deadline: asyncio.TimerHandle | None = None
        self._lingering = False  # cut: what the client still sends is thrown away
        self._accepted: float | None = None  # accepted_now, until its first request is read

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("headers", self.header_seconds)
        self._accepted = accepted_now(self.loop)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._lingering:
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # not the first request of the connection
            self._arm("headers", self.header_seconds)

    def on_headers_complete(self) -> None:
        self._arm("body", self.body_seconds)
        super().on_headers_complete()
        # From when the request may have waited, for admission (middleware.py): now, less
        # how late the loop runs; for a connection's first, from when it may have waited
        # to be accepted. The application's task is created but has not run.
        received = received_now(self.loop)
        if self._accepted is not None:
            received, self._accepted = min(received, self._accepted), None
        self.scope.setdefault("state", {})[RECEIVED_AT] = received

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _arm(self, part: str, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, part)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, part: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        seconds = self.header_seconds if part == "headers" else self.body_seconds
        cycle = self.cycle
        # Headers late: the application has not seen the request, unless an earlier one
        # on the connection is still being answered (then 408 would land inside it).
        # Body late: the application has the request, and learns of the end as a
        # disconnect; anything it sends after is dropped.
        is_free = cycle is None or (cycle.response_complete if part == "headers"
                                    else not cycle.response_started)
        if is_free:
            body = problem_body(408, "request-timeout", "request not received in time",
                                f"the request's {part} did not arrive within {seconds:g} "
                                "seconds; send the whole request at once")
            self.transport.write(b"".join([
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: ", MEDIA_TYPE.encode(),
                b"\r\ncontent-length: ", str(len(body)).encode(),
                b"\r\nconnection: close\r\n\r\n", body]))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self._linger()
        log(logging.INFO, "request timeout", part=part, seconds=seconds, status=408)

    def _linger(self) -> None:
        """Close after the client has read what was written (see the module's text):
        the end of the answer now, the socket when the client closes its side (asyncio
        closes the transport on the client's end, `eof_received`) or on the timer."""
        self._lingering = True
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._deadline = self.loop.call_later(LINGER_SECONDS, self.transport.close)
