"""A load client for the service drills: HTTP/1.1 over asyncio, a few lines of its own.

A general-purpose client spends more CPU per request than the server does, on the same
two cores. Requests are sent open loop (at a fixed rate, whatever the answers) or
closed loop (each client sends again when answered).

Connections are kept alive and reused, as a client of the service would; one idle for
`IDLE_SECONDS` is dropped rather than reused, as the server closes those it has kept idle
for 5 s (uvicorn's keep-alive timeout) and a request written into one is lost unread. A
request that meets a connection closed or reset before any byte of its answer is sent
again on a new connection, and counted: on a reused connection (one the server closed
while idle, or a killed worker's), or on a new one (taken by a worker killed before it
answered). POST /v1/check is idempotent, so sending it again is what a client should do.
A new connection refused, or not accepted within `CONNECT_SECONDS` (the listen queue
full), is counted too: the server took nothing. A request is given up after `attempts`
such failures in a row: unanswered if one of them was accepted, not accepted otherwise.
A request without the head of its answer within `ANSWER_SECONDS` is unanswered too, so
that a request the server holds forever fails the drill rather than hangs it.

The client keeps at most `max_sockets` connections open (half its file-descriptor limit
unless told): a request that would need one more is not sent, and counted as such
("client limit"), so that a server which answers too slowly fails the drill's figures
rather than the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import resource
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Answer", "Client", "Run", "percentile"]

IDLE_SECONDS = 4.0
CONNECT_SECONDS = 10.0
ANSWER_SECONDS = 120.0


@dataclass
class Answer:
    status: int
    seconds: float
    headers: dict[str, str]
    body: bytes
    connect_seconds: float = 0.0  # of `seconds`, opening the connection (0 when reused)


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    reset_reused: int = 0  # closed or reset before any byte of an answer, then sent again
    reset_new: int = 0
    cut_mid_answer: int = 0  # the head of an answer read, then the connection ended: sent again
    refused: int = 0  # a new connection refused or not accepted in time: nothing was sent
    not_accepted: int = 0  # given up, no attempt's connection accepted
    client_limit: int = 0  # not sent: the client had `max_sockets` connections open
    unanswered: int = 0  # given up, an attempt's connection accepted and cut
    seconds: float = 0.0

    def statuses(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for answer in self.answers:
            out[answer.status] = out.get(answer.status, 0) + 1
        return dict(sorted(out.items()))

    def p99_ms(self, status: int = 200) -> float:
        return percentile([a.seconds * 1000 for a in self.answers if a.status == status], 0.99)

    def summary(self) -> dict:
        ok = [a for a in self.answers if a.status == 200]
        return {"sent": len(self.answers) + self.unanswered, "statuses": self.statuses(),
                "ok_per_second": round(len(ok) / self.seconds, 1) if self.seconds else 0,
                "p50_ms": round(percentile([a.seconds * 1000 for a in ok], 0.5), 1),
                "p99_ms": round(self.p99_ms(), 1),
                "p99_all_ms": round(percentile([a.seconds * 1000 for a in self.answers], 0.99), 1),
                "max_ms": round(max((a.seconds for a in self.answers), default=0) * 1000, 1),
                "shed": sum(a.status == 429 for a in self.answers),
                "server_errors": sum(a.status >= 500 for a in self.answers),
                "reset_reused_connection": self.reset_reused,
                "reset_new_connection": self.reset_new, "cut_mid_answer": self.cut_mid_answer,
                "refused": self.refused,
                "not_accepted": self.not_accepted, "unanswered": self.unanswered,
                "client_limit": self.client_limit}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Client:
    def __init__(self, port: int, path: str, body: bytes, *, attempts: int = 5,
                 max_sockets: int | None = None):
        self.port, self.path, self.body = port, path, body
        self.attempts = attempts
        self.max_sockets = max_sockets or raised_descriptor_limit() // 2
        self.sockets = 0  # connections open, idle or in use
        # (reader, writer, idle since): taken from the right, the most recently used
        # first; the oldest, at the left, are dropped once idle for IDLE_SECONDS.
        self._idle: deque[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = deque()
        self.request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                        f"application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                        ).encode() + body

    def _reusable(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        now = time.perf_counter()
        while self._idle and now - self._idle[0][2] > IDLE_SECONDS:
            self._close(self._idle.popleft()[1])
        if not self._idle:
            return None
        reader, writer, _ = self._idle.pop()
        return reader, writer

    async def send(self, run: Run) -> Answer | None:
        failures = 0
        was_accepted = False
        connection = self._reusable()
        while failures < self.attempts:
            is_reused = connection is not None
            started = time.perf_counter()
            connect_seconds = 0.0
            if connection is None:
                if self.sockets >= self.max_sockets:
                    run.client_limit += 1
                    return None
                self.sockets += 1
                try:
                    connection = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", self.port), CONNECT_SECONDS)
                    connect_seconds = time.perf_counter() - started
                except (ConnectionRefusedError, TimeoutError):
                    self.sockets -= 1
                    run.refused += 1
                    failures += 1
                    continue
                except OSError as error:  # out of descriptors after all: not sent
                    self.sockets -= 1
                    if error.errno not in (errno.EMFILE, errno.ENFILE):
                        raise
                    run.client_limit += 1
                    return None
            reader, writer = connection
            head = None
            try:
                writer.write(self.request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ANSWER_SECONDS)
                answer = await _rest(reader, head, started)
            except TimeoutError:
                self._close(writer)
                run.unanswered += 1
                return None
            except (ConnectionError, asyncio.IncompleteReadError):
                # Cut before any byte of an answer, or after its head (a worker killed
                # between head and body, having read the request): sent again.
                self._close(writer)
                connection = None
                if head is not None:
                    run.cut_mid_answer += 1
                elif is_reused:
                    run.reset_reused += 1
                else:
                    run.reset_new += 1
                if not is_reused:
                    failures += 1
                    was_accepted = True
                continue
            answer.connect_seconds = connect_seconds
            if answer.headers.get("connection") == "close":
                self._close(writer)
            else:
                self._idle.append((reader, writer, time.perf_counter()))
            run.answers.append(answer)
            return answer
        if was_accepted:
            run.unanswered += 1
        else:
            run.not_accepted += 1
        return None

    async def open_loop(self, rate: float, seconds: float, run: Run | None = None) -> Run:
        """`rate` requests a second for `seconds`, each sent on time whatever the answers."""
        run = run or Run()
        tasks = []
        started = time.perf_counter()
        for number in range(int(rate * seconds)):
            delay = started + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.send(run)))
        await asyncio.gather(*tasks)
        run.seconds = time.perf_counter() - started
        return run

    async def closed_loop(self, clients: int, seconds: float) -> Run:
        run = Run()
        deadline = time.perf_counter() + seconds

        async def one() -> None:
            while time.perf_counter() < deadline:
                await self.send(run)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        run.seconds = time.perf_counter() - started
        return run

    def close(self) -> None:
        for _, writer, _ in self._idle:
            self._close(writer)
        self._idle.clear()

    def _close(self, writer: asyncio.StreamWriter) -> None:
        self.sockets -= 1
        _close(writer)


def raised_descriptor_limit() -> int:
    """This process's limit on open files, raised to the hard limit first."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft if soft != resource.RLIM_INFINITY else 65536


async def _rest(reader: asyncio.StreamReader, head: bytes, started: float) -> Answer:
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name:
            headers[name.strip().lower().decode()] = value.strip().decode("latin-1")
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Answer(status, time.perf_counter() - started, headers, body)


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
