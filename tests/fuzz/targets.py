"""The fuzz targets: each reader of untrusted input, fed arbitrary bytes.

A target returns normally on any input the reader handles as documented (a value, or
diagnostics that render), and raises `AssertionError` (or whatever the reader raised)
on anything else: an exception escaping the reader, a diagnostic that cannot be
rendered, a result that breaks a law the rest of the program relies on. Those are the
crashes the fuzzer looks for.

| target | reader | beyond "never raises" |
|---|---|---|
| `rule_file` | `rules.load_text` | diagnostics render (caret under the text); a rule set without errors compiles and runs on an empty target |
| `expression` | `rules.parse`, then the checker | a tree prints and parses back to itself; a condition the checker accepts gives the same value compiled and interpreted |
| `evidence` | `engine.parse_evidence` | valid evidence is decided (or has no rule set in force), and the decision is JSON |
| `batch` | the service's streamed NDJSON reader | one output line per non-blank input line, in order; the answer does not depend on how the body was cut into chunks |
| `responses_csv` | `engine.audit.sheet.read_sheet` | problems name a line; a sheet without problems names only cases that exist, on or after their submission |
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "platform_policies"
FIXTURES = ROOT / "fixtures"

__all__ = ["Target", "TARGETS", "ROOT"]


@dataclass(frozen=True)
class Target:
    name: str
    check: Callable[[bytes], None]
    seeds: Callable[[], Iterator[bytes]]
    max_len: int  # longest input libFuzzer makes


# --- rule files ------------------------------------------------------------------------------

def check_rule_file(data: bytes) -> None:
    import rules
    from rules.evaluation import run_rules

    ruleset, diagnostics = rules.load_text(data, "fuzz.yaml")
    text = data.decode("utf-8", errors="replace")
    rules.render_text(diagnostics, {"fuzz.yaml": text})
    json.loads(rules.render_json(diagnostics, 1))
    assert all(d.code in rules.codes.REGISTRY for d in diagnostics), diagnostics
    if ruleset is None:
        assert rules.has_errors(diagnostics), "no rule set, yet no error said why"
        return
    assert not rules.has_errors(diagnostics)
    compiled = rules.compile_ruleset(ruleset)
    run_rules(compiled, {"posts": [{}]}, {}, ruleset.parameter_values(ruleset.effective_from))


def seed_rule_files() -> Iterator[bytes]:
    for path in sorted(RULES.rglob("*.yaml")):
        yield path.read_bytes()


# --- expressions -----------------------------------------------------------------------------

@cache
def _expression_world():
    """What conditions are checked and evaluated against: the scope of the property
    tests (every field of the vocabulary, a parameter of each unit, a lexicon) and a
    few pieces of evidence with known, unknown and partly known values."""
    from tests.rules import strategies as s

    empty = s.Evidence({"posts": [{}]}, {"submitted": datetime.date(2024, 1, 1)}, (None,), None)
    return s, [empty, *s.evidence_pool(12, max_posts=3)]


def check_expression(data: bytes) -> None:
    import rules
    from rules.compiler import compile_conditions
    from rules.diagnostics import ExpressionOrigin
    from rules.reference import evaluate
    from tests.rules.test_properties import same

    text = data.decode("utf-8", errors="replace")
    node, diagnostics = rules.parse(text)
    rules.render_text(diagnostics, {})
    if node is None:
        assert diagnostics, "no tree, yet no diagnostic said why"
        return
    printed = rules.unparse(node)
    again, problems = rules.parse(printed)
    assert not problems and again == node, (text, printed, problems)
    s, evidences = _expression_world()
    for level in s.LEVELS:
        result = rules.check_condition(node, s.scope(level), ExpressionOrigin.plain(text))
        rules.render_text(result.diagnostics, {})
        if rules.has_errors(result.diagnostics) or result.condition is None:
            continue
        functions, _ = compile_conditions([("c", result.condition)], s.LEXICONS)
        for ev in evidences:
            verdicts = ev.verdicts()
            for post in ev.subjects(level):
                fast = functions["c"](post, ev.page, ev.request, s.PARAMETER_VALUES, verdicts)
                slow = evaluate(result.condition, {"post": post, "page": ev.page,
                                                   "request": ev.request},
                                s.PARAMETER_VALUES, verdicts, s.LEXICONS)
                assert same(fast, slow), (text, level, fast, slow)


def seed_expressions() -> Iterator[bytes]:
    import rules

    registry, _ = rules.load_registry([RULES])
    seen = set()
    for ruleset in registry:
        for rule in ruleset.all_rules():
            if rule.when and rule.when not in seen:
                seen.add(rule.when)
                yield rule.when.encode()


# --- evidence --------------------------------------------------------------------------------

@cache
def _engine():
    from engine import Engine

    return Engine.from_paths([RULES])


def check_evidence(data: bytes) -> None:
    import rules
    from engine.evaluation import NoRulesetInForce
    from engine.evidence import parse_evidence

    evidence, problems = parse_evidence(data, "fuzz.json")
    rules.render_text(problems, {})
    if evidence is None:
        assert problems, "no evidence, yet no problem said why"
        assert all(d.code in rules.codes.REGISTRY for d in problems), problems
        return
    try:
        decision = _engine().check(evidence, explain=False)
    except NoRulesetInForce:
        return
    json.dumps(decision.as_json(), ensure_ascii=False, allow_nan=False, default=str)


def _evidence_files() -> list[Path]:
    return sorted([*FIXTURES.rglob("*.json"), *(ROOT / "validation").rglob("*.json")])


def seed_evidence() -> Iterator[bytes]:
    for path in _evidence_files():
        yield path.read_bytes()


# --- NDJSON batches, as the service reads them ------------------------------------------------

@cache
def _batch_service():
    from engine.service.app import Service
    from engine.service.generations import RuleStore
    from engine.service.metrics import Metrics
    from engine.service.settings import Settings

    state = Path(tempfile.mkdtemp(prefix="takedown-fuzz-"))
    store = RuleStore(RULES, state)
    store.start()
    return Service(Settings(rules_dir=RULES, state_dir=state), store, Metrics())


def _serve_batch(body: bytes, chunk: int) -> list[bytes]:
    """What /v1/check/batch answers for `body` sent in chunks of `chunk` bytes."""
    from engine.service.app import _BatchResponse

    service = _batch_service()
    response = _BatchResponse(service, service.store.current(), None, None, False, {})
    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [{"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
                for i, piece in enumerate(pieces)]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(response({"type": "http", "state": {"request_id": "fuzz"}}, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    if status != 200:
        assert status == 422 and not body, (status, out[:200])
        return []
    return out.split(b"\n")


def check_batch(data: bytes) -> None:
    # The first byte cuts the body into chunks (1 to 256 bytes); the rest is the body.
    if not data:
        return
    chunk, body = data[0] + 1, data[1:]
    lines = _serve_batch(body, chunk)
    if not body:
        return
    assert lines[-1] == b"", "the answer ends with a newline"
    records = [json.loads(line) for line in lines[:-1]]
    expected = [number for number, line in enumerate(body.split(b"\n"), start=1)
                if line.strip()]
    assert len(records) == len(expected), (len(records), expected)
    for number, record in zip(expected, records, strict=True):
        if "error" in record:
            assert record["line"] == number and record["error"], record
        else:
            assert "outcome" in record, record
    assert lines == _serve_batch(body, len(body)), "the answer depends on the chunks"


def seed_batches() -> Iterator[bytes]:
    lines = [path.read_bytes().replace(b"\n", b" ") for path in sorted(FIXTURES.rglob("*.json"))]
    for start in range(0, len(lines), 3):
        group = lines[start:start + 3]
        yield bytes([start % 200]) + b"\n".join(group) + b"\n{not json\n\n"


# --- responses sheets --------------------------------------------------------------------------

CASE_DATES = {"C-000001": "2023-04-12", "C-000002": "2024-01-10", "C-000003": "2024-01-10"}
CASES_BY_REQUEST = {"NCA-2023-0412": ["C-000001"], "R-2": ["C-000002", "C-000003"]}


def check_responses_csv(data: bytes) -> None:
    from engine.audit.records import RESPONSE_OUTCOMES
    from engine.audit.sheet import read_sheet

    handle, name = tempfile.mkstemp(suffix=".csv", dir=_scratch())
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        for skip in (False, True):
            sheet = read_sheet(name, CASE_DATES, CASES_BY_REQUEST, skip_unrecorded=skip)
            for problem in sheet.problems:
                str(problem)
                assert problem.line >= 0, problem
            if sheet.problems:
                continue
            for response in sheet.responses:
                assert response.case_id in CASE_DATES, response
                assert response.date >= CASE_DATES[response.case_id], response
                assert response.outcome in RESPONSE_OUTCOMES, response
            for dispute in sheet.disputes:
                assert dispute.case_id in CASE_DATES, dispute
    finally:
        os.unlink(name)


@cache
def _scratch() -> str:
    shm = Path("/dev/shm")
    return tempfile.mkdtemp(prefix="takedown-fuzz-", dir=shm if shm.is_dir() else None)


def seed_responses() -> Iterator[bytes]:
    yield (b"request_id,date,outcome,reason,notes,dispute,disputed_clauses\n"
           b"NCA-2023-0412,2023-04-19,rejected,No violation,,Escalated,"
           b"meta.human-exploitation/smuggling-offer\n"
           b"R-2,2024-02-01,page removed,,,,\n"
           b"NCA-9,2024-02-01,withheld,,,,\n")
    yield b"case_id;date;outcome\nC-000002;2024-01-11;no_action\nC-000003;2024-01-09;pending\n"
    yield b"\xef\xbb\xbfcase\tresponse date\tresponse\nC-000001\t2023-05-01\tposts only\n"
    for path in sorted(FIXTURES.rglob("*.csv")):
        yield path.read_bytes()


TARGETS = {target.name: target for target in (
    Target("rule_file", check_rule_file, seed_rule_files, 64 * 1024),
    Target("expression", check_expression, seed_expressions, 2048),
    Target("evidence", check_evidence, seed_evidence, 64 * 1024),
    Target("batch", check_batch, seed_batches, 64 * 1024),
    Target("responses_csv", check_responses_csv, seed_responses, 16 * 1024),
)}
