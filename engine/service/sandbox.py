"""`/v1/lint` compiles rule text from the network: here it does so in a child process
with limits, so that no text can take a worker's CPU or memory.

Each lint runs `rules.load_text` in a new Python process that first drops to the lowest
CPU priority (nice 19 and, on Linux, SCHED_IDLE: it runs only on a core nothing else
wants), then reads the text, then limits itself (RLIMIT_CPU to `lint_cpu_seconds` more
than its start-up used, RLIMIT_AS to `lint_memory_bytes`) before parsing a byte of it.
A child killed by its CPU limit, or out of memory, is answered 422 with a stable code.

At most `lint_slots` children run at once across all the workers (one lock file per
slot in the shared state directory; by default one fewer than the cores, at least
one), so lints never take more than their share of the machine even at the lowest
priority. A lint waits up to `lint_wait_seconds` for a slot, then gets 429 with
`Retry-After`; one whose child the busy machine does not run in time gets the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

__all__ = ["LintSandbox", "LintRefused"]

# The child's whole program: priority first (its imports already run at the lowest),
# limits after start-up and before the text is parsed. Exit 3 means out of memory.
_CHILD = """
import os, sys, resource
os.nice(19)
try:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
except (AttributeError, OSError):
    pass
import rules
cpu, memory, name = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
data = sys.stdin.buffer.read()
usage = resource.getrusage(resource.RUSAGE_SELF)
limit = int(usage.ru_utime + usage.ru_stime + cpu) + 1
resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
try:
    _, diagnostics = rules.load_text(data, name)
    out = rules.render_json(diagnostics, 1)
except MemoryError:
    os._exit(3)
sys.stdout.buffer.write(out if isinstance(out, bytes) else out.encode("utf-8"))
"""
_OUT_OF_MEMORY = 3


class LintRefused(Exception):
    """The lint was not done: `status` 422 (a limit of the text's own) or 429 (busy)."""

    def __init__(self, status: int, slug: str, title: str, detail: str):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail


class LintSandbox:
    def __init__(self, state_dir: Path, *, cpu_seconds: float, memory_bytes: int,
                 slots: int, wait_seconds: float):
        self.cpu_seconds = cpu_seconds
        self.memory_bytes = memory_bytes
        self.slots = slots or max(1, (os.cpu_count() or 2) - 1)
        self.wait_seconds = wait_seconds
        self._slot_dir = Path(state_dir) / "lint-slots"
        self._slot_dir.mkdir(parents=True, exist_ok=True)
        # Wall time for a child that has a slot: its CPU at the lowest priority on a
        # busy machine, start-up included.
        self.wall_seconds = max(10.0, 4 * cpu_seconds)

    async def lint(self, text: bytes, name: str) -> bytes:
        """The JSON `takedown lint --format json` prints for `text`; raises LintRefused."""
        async with self._slot():
            return await self._run(text, name)

    async def _run(self, text: bytes, name: str) -> bytes:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, str(self.cpu_seconds), str(self.memory_bytes), name,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
        try:
            out, _ = await asyncio.wait_for(child.communicate(text), self.wall_seconds)
        except TimeoutError:
            raise self._busy("the machine is too busy to lint now") from None
        finally:
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
                await child.wait()
        if child.returncode == 0:
            return out
        if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise LintRefused(422, "lint-time-limit", "the rule text takes too long to check",
                              f"checking it used more than {self.cpu_seconds:g} seconds of "
                              "CPU; split the file, or shorten its longest conditions")
        if child.returncode == _OUT_OF_MEMORY:
            raise LintRefused(422, "lint-memory-limit", "the rule text takes too much memory "
                              "to check", f"checking it needed more than "
                              f"{self.memory_bytes // (1 << 20)} MiB; split the file")
        raise LintRefused(422, "lint-failed", "the rule text could not be checked",
                          f"the checking process ended with status {child.returncode}; "
                          "run `takedown lint` on the file to see why")

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            handle = self._try_slot()
            if handle is not None:
                break
            if time.monotonic() >= deadline:
                raise self._busy(f"{self.slots} lints are running already")
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            handle.close()  # releases the lock

    def _try_slot(self):
        for number in range(self.slots):
            handle = open(self._slot_dir / f"slot-{number}", "a+b")  # noqa: SIM115
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return handle
        return None

    def _busy(self, why: str) -> LintRefused:
        return LintRefused(429, "lint-busy", "too many lints in progress",
                           f"{why}; retry after the number of seconds in Retry-After")
