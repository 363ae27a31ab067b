"""Many requests at once: NDJSON in, one decision (or one error) per line out, in input order.

What it owns: reading lines lazily, deciding them in chunks on every core, and handing the
answers back in the order of the input, in constant memory. A bounded window of chunks is
in flight at any time (`BatchOptions.window` per process), so a file of any size is read
only as fast as it is decided. What it must not do: print, exit or parse arguments (the
command line does), or know about clusters (`engine.cluster` reuses `decide_lines`).

Each worker process builds its own `Engine` once, from the rule-set paths, and keeps it
for every chunk it is given: rule sets are compiled once per process, never per chunk.
Chunks are small on purpose: a page with an open request costs far more than one whose
evidence settles it, and with large chunks one slow chunk holds back every answer after
it while the other cores idle.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from engine.api import Engine
from engine.documents import no_ruleset_diagnostic
from engine.evaluation import BEFORE_HISTORY_DAYS, NoRulesetInForce
from engine.evidence import parse_evidence
from engine.extraction import with_extraction

__all__ = ["BatchOptions", "Line", "Answer", "decide_lines", "check_lines", "read_lines",
           "default_jobs", "STATUS_OK", "STATUS_EVIDENCE", "STATUS_RULES"]

# The exit statuses a line can give, as the command line numbers them (engine.cli).
STATUS_OK, STATUS_EVIDENCE, STATUS_RULES = 0, 3, 4

Line = tuple[int, bytes]      # its number in the input (from 1), and its bytes
Answer = tuple[int, str, int]  # the line's number, its output line (JSON), its status


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How every line of a batch is decided; picklable, so that each worker can build the
    same engine from it."""

    rules: tuple[str, ...]
    source: str = "-"  # the input's name: evidence is named `source:line`
    as_of: datetime.date | None = None
    platform: str | None = None
    extract: str = "found"  # off, found or all (engine.extraction.with_extraction)
    explain: bool = True  # False: the fast path, decisions without explanations
    before_history_days: int = BEFORE_HISTORY_DAYS
    chunk: int = 8    # lines per task
    window: int = 4   # chunks in flight per process

    def engine(self) -> Engine:
        return Engine.from_paths([Path(p) for p in self.rules], self.before_history_days)


def default_jobs() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_lines(stream: Iterable[bytes]) -> Iterator[Line]:
    """The non-blank lines of `stream`, numbered as in the file (blank ones still count)."""
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


class _Decider:
    """An engine and its extractor, built once per process."""

    def __init__(self, options: BatchOptions, engine: Engine | None = None):
        self.options = options
        self.engine = engine or options.engine()
        self.extractor = None
        if options.extract != "off":
            from engine.extraction import Extractor

            self.extractor = Extractor.from_rulesets(self.engine.registry)

    def answer(self, number: int, line: bytes) -> Answer:
        options = self.options
        name = f"{options.source}:{number}"
        evidence, problems = parse_evidence(line, name)
        if evidence is not None and self.extractor is not None:
            evidence, problems = with_extraction(self.extractor, evidence, options.extract)
        if evidence is None:
            record: dict = {"line": number, "error": [d.as_json() for d in problems]}
            status = STATUS_EVIDENCE
        else:
            try:
                record = self.engine.check(evidence, options.as_of, options.platform,
                                           explain=options.explain).as_json()
                status = STATUS_OK
            except NoRulesetInForce as error:
                record = {"line": number,
                          "error": [no_ruleset_diagnostic(error, name).as_json()]}
                status = STATUS_RULES
        return number, json.dumps(record, ensure_ascii=False), status


def decide_lines(decider: _Decider, lines: Iterable[Line]) -> list[Answer]:
    return [decider.answer(number, line) for number, line in lines]


# One decider per worker process, built by the pool's initializer.
_WORKER: _Decider | None = None


def _start_worker(options: BatchOptions) -> None:
    global _WORKER
    _WORKER = _Decider(options)


def _decide_chunk(chunk: list[Line]) -> list[Answer]:
    assert _WORKER is not None, "the pool's initializer builds the decider"
    return decide_lines(_WORKER, chunk)


def _chunks(lines: Iterable[Line], size: int) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_lines(lines: Iterable[Line], options: BatchOptions, jobs: int = 1,
                engine: Engine | None = None,
                on_answer: Callable[[], None] | None = None) -> Iterator[Answer]:
    """Decide every line, yielding the answers in input order.

    With `jobs` above 1 the lines go in chunks of `options.chunk` to a pool of `jobs`
    processes, at most `jobs * options.window` chunks in flight: the input is read no
    further ahead than that. `engine`, one already built from `options`, is used as it is
    by a single process; without it, the rule sets are loaded here first, so that their
    errors raise `RulesError` once, in this process, before any line is read."""
    if jobs <= 1:
        decider = _Decider(options, engine)
        for number, line in lines:
            yield decider.answer(number, line)
        return
    if engine is None:
        options.engine()  # rule-set errors surface here, once, not in every worker
    # fork shares the loaded modules with the workers; each still builds its own engine.
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    in_flight: deque[Future[list[Answer]]] = deque()
    limit = jobs * options.window
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                             initargs=(options,)) as pool:
        for chunk in _chunks(lines, options.chunk):
            in_flight.append(pool.submit(_decide_chunk, chunk))
            while len(in_flight) >= limit:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()
