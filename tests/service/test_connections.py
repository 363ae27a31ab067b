"""The protocol's deadlines (engine/service/connections.py) on a real loopback socket: a
client that sends its request a little at a time past a deadline reads 408, and so does
one still sending flat out when it is cut (closed at once, with its bytes unread, the
socket would be reset and the 408 lost), and the connection then ends."""

import asyncio
import contextlib
import json
import socket
import time

from engine.service.connections import LINGER_SECONDS, DeadlineConfig

DEADLINE = 0.4
CLIENTS = 20  # half slow with their headers, half flooding their body


async def echo(scope, receive, send):
    """An application that reads the whole body and answers 200."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def serving():
    import uvicorn

    config = DeadlineConfig(echo, header_seconds=DEADLINE, body_seconds=DEADLINE,
                            loop="asyncio", lifespan="off", log_level="critical")
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def drip(port: int, part: str) -> tuple[bytes, float]:
    """Send a request's headers ten bytes every 20 ms, or its headers at once and then a
    body without end as fast as the server reads it; what the server answers and when
    the connection ended."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    head = b"POST /v1/check HTTP/1.1\r\nhost: x\r\ncontent-length: 100000000000\r\n"

    async def send():
        if part == "headers":
            for at in range(0, len(head), 10):
                writer.write(head[at:at + 10])
                await writer.drain()
                await asyncio.sleep(0.02)
            await asyncio.sleep(60)
            return
        writer.write(head + b"\r\n")
        chunk = b"x" * 65536
        while True:
            writer.write(chunk)
            await writer.drain()

    sending = asyncio.create_task(send())
    try:
        answer = await asyncio.wait_for(reader.read(), 10)
    except ConnectionResetError:
        answer = b"reset"
    finally:
        sending.cancel()
        with contextlib.suppress(BaseException):
            await sending
        writer.close()
    return answer, time.monotonic() - started


def test_a_client_still_sending_when_cut_reads_its_408_then_the_end():
    async def run():
        async with serving() as port:
            return await asyncio.gather(*(drip(port, part) for part in ("headers", "body")
                                          for _ in range(CLIENTS // 2)))

    for answer, seconds in asyncio.run(run()):
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
        problem = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert problem["status"] == 408 and "request-timeout" in problem["type"]
        # Cut at the deadline; the client, still sending, is closed on after the linger.
        assert DEADLINE <= seconds < DEADLINE + LINGER_SECONDS + 1
