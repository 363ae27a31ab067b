"""The protocol (engine/service/connections.py) on a real loopback socket. Its deadlines:
a client that sends its request a little at a time past a deadline reads 408, and so
does one still sending flat out when it is cut (closed at once, with its bytes unread,
the socket would be reset and the 408 lost), and the connection then ends. Its stamp
of when a request was received, from which admission counts its wait: a request read
while the loop ran late waited through that, one read after it caught up did not."""

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
async def serving(app=echo):
    import uvicorn

    config = DeadlineConfig(app, header_seconds=DEADLINE, body_seconds=DEADLINE,
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


HOLD = 0.6  # how long /hold holds the loop, as a long check does
MAX_QUEUE = 0.3


async def hold_or_answer(scope, receive, send):
    """200 at once, or, on /hold, after holding the loop for `HOLD` seconds."""
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/hold":
        time.sleep(HOLD)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def ask(sock: socket.socket, path: str) -> int:
    """Send a request on `sock` and read its answer (blocking): its status."""
    sock.sendall(f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(4096)
    return int(head.split(b" ", 2)[1])


def clients(port: int) -> tuple[list[int], int]:
    """One client sends a request that holds
    the loop and then at once another, three times; then one more that holds it, and
    while it does a second client connects and sends."""
    import threading

    with socket.create_connection(("127.0.0.1", port)) as one:
        ask(one, "/warm")
        after = []
        for _ in range(3):
            after.append(ask(one, "/hold"))
            after.append(ask(one, "/next"))
        holding = threading.Thread(target=ask, args=(one, "/hold"))
        holding.start()
        time.sleep(HOLD / 3)
        with socket.create_connection(("127.0.0.1", port)) as other:
            during = ask(other, "/during")
        holding.join()
    return after, during


def test_admission_counts_the_stall_a_request_waited_through_and_no_other(monkeypatch):
    """A request sent just after one that held the loop is admitted: it arrived after
    the stall. One sent while the loop is held waited in the kernel through the stall,
    longer than `max_queue_seconds`: 429. The loop's timer beats every 0.2 s here, not
    0.02: a client answers some 40 ms after the stall, past one beat of 0.02 s, and
    admission used to charge a stall as long as the beat after it stood."""
    from engine.service.metrics import Metrics
    from engine.service.middleware import LoopLag, ServiceMiddleware

    monkeypatch.setattr(LoopLag.__init__, "__defaults__", (0.2,))

    app = ServiceMiddleware(hold_or_answer, metrics=Metrics(), max_body_bytes=1 << 20,
                            max_batch_bytes=1 << 20, max_queue_seconds=MAX_QUEUE)

    async def run():
        # The clients in a process of their own, as they are: a thread of this one would
        # wait for the interpreter's lock, and send only once the loop is idle.
        import concurrent.futures
        import multiprocessing

        async with serving(app) as port:
            with concurrent.futures.ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("fork")) as pool:
                return await asyncio.get_running_loop().run_in_executor(pool, clients, port)

    after, during = asyncio.run(run())
    assert after == [200] * 6
    assert during == 429
