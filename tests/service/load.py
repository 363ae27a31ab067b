"""A load client for the service drills: HTTP/1.1 over asyncio, a few lines of its own.

A general-purpose client spends more CPU per request than the server does, on the same
two cores. Requests are sent open loop (at a fixed rate, whatever the answers) or
closed loop (each client sends again when answered). A request that meets a connection
reset before any byte of its answer (a worker killed under it) is sent again on a new
connection, once the reset is counted: POST /v1/check is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

__all__ = ["Answer", "Client", "Run", "percentile"]


@dataclass
class Answer:
    status: int
    seconds: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    resent: int = 0
    unanswered: int = 0
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
                "shed": sum(a.status == 429 for a in self.answers),
                "server_errors": sum(a.status >= 500 for a in self.answers),
                "resent_after_reset": self.resent, "unanswered": self.unanswered}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Client:
    def __init__(self, port: int, path: str, body: bytes, *, attempts: int = 5):
        self.port, self.path, self.body = port, path, body
        self.attempts = attempts
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                        f"application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                        ).encode() + body

    async def send(self, run: Run) -> Answer | None:
        for _ in range(self.attempts):
            connection = self._idle.pop() if self._idle else await asyncio.open_connection(
                "127.0.0.1", self.port)
            reader, writer = connection
            started = time.perf_counter()
            try:
                writer.write(self.request)
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                _close(writer)
                run.resent += 1  # no byte of an answer: the request was not answered
                continue
            answer = await _rest(reader, head, started)
            if answer.headers.get("connection") == "close":
                _close(writer)
            else:
                self._idle.append(connection)
            run.answers.append(answer)
            return answer
        run.unanswered += 1
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
        for _, writer in self._idle:
            _close(writer)
        self._idle.clear()


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
