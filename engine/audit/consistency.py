"""Consistency: is a platform's response to one request what its own published policy,
as it stood on the day of the request, calls for?

`replay` evaluates the stored evidence again under the rule sets in force on the
submission date (and under each later version, to say whether a newer policy would
decide differently); `assess` sets the platform's latest response beside the bounds
of that decision; `case_report` gathers everything an auditor's letter needs, as JSON:
the clauses the evidence satisfies with the evidence quoted and the matched text
spans, the thresholds with their figures, the missing facts, the integrity of the
record. Wording belongs to `engine.audit.reports`; nothing here renders.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from engine.api import Engine
from engine.audit.pointers import resolve_pointer
from engine.audit.records import Case, Dispute, Response, latest
from engine.decision import outcome_of, rank
from engine.evaluation import NoRulesetInForce
from engine.evidence import parse_evidence

__all__ = ["STATUSES", "ASKED", "Finding", "Replay", "assess", "replay",
           "case_report", "leads_to", "clauses_of", "field_label"]

STATUSES = ("consistent", "inconsistent", "undetermined", "pending")
# What a request asks for, as the outcome that would grant it.
ASKED = {"remove_page": "page_removed", "remove_posts": "posts_removed",
         "geo_block": "geo_blocked"}


def leads_to(verdict: str) -> str:
    """The outcome a rule with this verdict leads to when it holds."""
    return outcome_of({(verdict, "")})


@dataclass(frozen=True, slots=True)
class Finding:
    status: str  # one of STATUSES
    direction: str | None  # "short": less than the policy requires; "beyond": more than it supports
    actual: str | None  # what the platform did (its latest final response), None if pending
    owed: str  # the least the policy requires, within what was asked
    ceiling: str  # the most that could be owed, within what was asked
    supported: str  # the most the policy supports
    asked: str | None

    def as_json(self) -> dict:
        return asdict(self)


def assess(decision: Mapping, asks: str | None, response: Response | None) -> Finding:
    """Compare a response with the decision's bounds.

    The lower bound is what the policy surely requires, the upper bound what it could
    require if the unknown facts were confirmed. Neither is owed beyond what was
    asked: a platform that removes the posts it was asked to remove has done its part
    even if its policy would also take the page down."""
    lower, upper = decision["bounds"]["lower"], decision["bounds"]["upper"]
    asked = ASKED.get(asks or "")
    owed = min(lower, asked, key=rank) if asked else lower
    ceiling = min(upper, asked, key=rank) if asked else upper
    if response is None or not response.is_final:
        return Finding("pending", None, None, owed, ceiling, upper, asked)
    actual = rank(response.outcome)
    if actual < rank(owed):
        status, direction = "inconsistent", "short"
    elif actual > rank(upper):
        status, direction = "inconsistent", "beyond"
    elif actual >= rank(ceiling):
        status, direction = "consistent", None
    else:
        status, direction = "undetermined", None
    return Finding(status, direction, response.outcome, owed, ceiling, upper, asked)


# Replay

@dataclass(frozen=True, slots=True)
class Replay:
    decision: dict  # the decision the report rests on
    is_replayed: bool  # False when the stored evidence could not be evaluated again
    reproduces: bool | None  # the replay gives the recorded outcome, bounds and likelihood
    notes: tuple[str, ...]
    rulesets: tuple[dict, ...]  # each: id, version, kind, sha256, recorded_sha256
    later: tuple[dict, ...]  # each later change of version: from, rulesets, outcome, ...

    def as_json(self) -> dict:
        out = asdict(self)
        del out["decision"]
        return out


def _summary(decision: Mapping) -> tuple:
    return (decision["outcome"], decision["bounds"]["lower"], decision["bounds"]["upper"],
            decision["likelihood"])


def replay(engine: Engine, case: Case) -> Replay:
    """Evaluate the stored evidence under the rule sets in force on the submission date
    and under every later version for the platform."""
    recorded = case.decision
    evidence, problems = parse_evidence(case.evidence, case.source)
    if evidence is None:
        return Replay(recorded, False, None, (
            "the stored evidence no longer passes the evidence schema "
            f"({problems[0].message}); the report rests on the decision recorded then",),
            tuple(_ruleset_rows(recorded)), ())
    day = datetime.date.fromisoformat(case.submitted)
    try:
        replayed = engine.check(evidence, as_of=day, platform=case.platform).as_json()
    except NoRulesetInForce as error:
        return Replay(recorded, False, None, (
            f"{error} in the rule sets given; the report rests on the decision recorded then",),
            tuple(_ruleset_rows(recorded)), ())
    recorded_hashes = {(r["id"], r["version"]): r["sha256"] for r in recorded["rulesets"]}
    rows = _ruleset_rows(replayed, recorded_hashes)
    same_rules = (len(rows) == len(recorded_hashes)
                  and all(r["sha256"] == r["recorded_sha256"] for r in rows))
    notes = []
    reproduces = _summary(replayed) == _summary(recorded)
    basis = replayed
    if not same_rules:
        notes.append("the rule sets in force on that date are not the ones recorded (a file "
                     "was edited or a version added since); the report rests on the replay")
    if not reproduces and same_rules:
        basis = recorded
        notes.append("the replay differs from the decision recorded although the rule sets "
                     "are the same (the stored evidence is redacted, or the engine changed); "
                     "the report rests on the decision recorded then")
    later = _later_versions(engine, evidence, case, day, rows, basis)
    return Replay(basis, True, reproduces, tuple(notes), tuple(rows), tuple(later))


def _ruleset_rows(decision: Mapping, recorded: Mapping | None = None) -> list[dict]:
    """The rule sets a decision used, each with the hash recorded for that version (None
    if the recording did not use it); without `recorded`, the decision is the recording."""
    return [{"id": r["id"], "version": r["version"], "kind": r["kind"], "sha256": r["sha256"],
             "recorded_sha256": r["sha256"] if recorded is None
             else recorded.get((r["id"], r["version"]))}
            for r in decision["rulesets"]]


def _later_versions(engine: Engine, evidence, case: Case, day: datetime.date,
                    rows: list[dict], basis: Mapping) -> list[dict]:
    starts = sorted({r.effective_from for r in engine.registry
                     if r.covers(case.platform) and r.effective_from > day})
    current = {(r["id"], r["version"]) for r in rows}
    out = []
    for start in starts:
        try:
            decision = engine.check(evidence, as_of=start, platform=case.platform, explain=False)
        except NoRulesetInForce:
            continue
        versions = {(r.id, r.version) for r in decision.rulesets}
        changed = sorted(versions - current)
        current = versions
        if not changed:
            continue
        out.append({"from": start.isoformat(),
                    "rulesets": [{"id": i, "version": v} for i, v in changed],
                    "outcome": decision.outcome, "likelihood": decision.likelihood,
                    "bounds": {"lower": decision.bounds[0], "upper": decision.bounds[1]},
                    "differs": decision.outcome != basis["outcome"]})
    return out


# The parts of the letter

def _post_index(evidence: Mapping) -> dict[str, int]:
    return {str(p.get("id")): i for i, p in enumerate(evidence.get("target", {}).get("posts", []))}


def _text_at(evidence: Mapping, pointer: str) -> tuple[str, str] | None:
    """The text at `pointer` and the pointer it really lives at: an English post has no
    translation of its own, the rules read its text."""
    found = resolve_pointer(evidence, pointer)
    if isinstance(found, str):
        return found, pointer
    if pointer.endswith("/translation"):
        sibling = pointer[:-len("translation")] + "text"
        found = resolve_pointer(evidence, sibling)
        if isinstance(found, str):
            return found, sibling
    return None


def field_label(pointer: str, evidence: Mapping) -> str:
    """A pointer as people read it: `/target/posts/0/signals/offers_crossing` is
    "post p1: offers crossing"."""
    parts = pointer.strip("/").split("/")
    if parts[:2] == ["target", "posts"] and len(parts) > 2 and parts[2].isdigit():
        posts = evidence.get("target", {}).get("posts", [])
        index = int(parts[2])
        subject = f"post {posts[index].get('id', index)}" if index < len(posts) else "a post"
        rest = parts[3:]
    elif parts[0] == "target":
        subject, rest = "the page", parts[1:]
    elif parts[0] == "request":
        subject, rest = "the request", parts[1:]
    else:
        subject, rest = "the evidence", parts
    words = [p.replace("_", " ") for p in rest if p != "signals"]
    return f"{subject}: {' › '.join(words)}" if words else subject


def _quote_label(pointer: str, evidence: Mapping) -> str:
    label = field_label(pointer, evidence)
    if pointer.endswith("/text"):
        language = resolve_pointer(evidence, pointer[:-len("text")] + "language")
        return label.replace(": text", f": text ({language})" if language else ": text")
    return label


def _quotes(reason: Mapping, evidence: Mapping) -> list[dict]:
    by_pointer: dict[str, dict] = {}
    if reason.get("post") is not None:
        index = _post_index(evidence).get(str(reason["post"]))
        if index is not None:
            for name in ("text", "translation"):
                pointer = f"/target/posts/{index}/{name}"
                if isinstance(resolve_pointer(evidence, pointer), str):
                    by_pointer[pointer] = {"pointer": pointer, "highlights": []}
    for span in reason.get("spans", []):
        found = _text_at(evidence, span["pointer"])
        if found is None:
            continue
        entry = by_pointer.setdefault(found[1], {"pointer": found[1], "highlights": []})
        mark = {"start": span["start"], "end": span["end"], "label": span["label"],
                "by": span.get("by")}
        if mark not in entry["highlights"]:
            entry["highlights"].append(mark)
    out = []
    for pointer, entry in by_pointer.items():
        entry["text"] = resolve_pointer(evidence, pointer)
        entry["label"] = _quote_label(pointer, evidence)
        entry["highlights"].sort(key=lambda m: (m["start"], m["end"]))
        out.append(entry)
    return out


def _subject(reason: Mapping, evidence: Mapping) -> dict:
    post = None
    if reason.get("post") is not None:
        index = _post_index(evidence).get(str(reason["post"]))
        post = evidence["target"]["posts"][index] if index is not None else None
    return {
        "subject": reason["subject"], "post": reason.get("post"),
        "posted": post.get("posted") if post else None,
        "url": post.get("url") if post else None,
        "quotes": _quotes(reason, evidence),
        "evidence": [{"pointer": item["pointer"], "label": field_label(item["pointer"], evidence),
                      "value": item["value"]} for item in reason.get("evidence", [])],
    }


def clauses_of(decision: Mapping, evidence: Mapping, actual: str | None,
               key: str = "reasons") -> list[dict]:
    """The rules that hold, one entry per clause with every post (or the page) it holds
    on; `honoured` says whether the platform's action meets what the clause leads to."""
    versions = {r["id"]: r["version"] for r in decision["rulesets"]}
    clauses: dict[tuple[str, str], dict] = {}
    for reason in decision.get(key, []):
        entry = clauses.get((reason["ruleset"], reason["rule"]))
        if entry is None:
            outcome = leads_to(reason["verdict"])
            entry = clauses[(reason["ruleset"], reason["rule"])] = {
                "key": f"{reason['ruleset']}/{reason['rule']}", "ruleset": reason["ruleset"],
                "version": versions.get(reason["ruleset"]), "rule": reason["rule"],
                "title": reason["title"], "message": reason["message"],
                "verdict": reason["verdict"], "leads_to": outcome,
                "confidence": reason["confidence"], "citations": reason["citations"],
                "honoured": None if actual is None or key != "reasons"
                else rank(actual) >= rank(outcome),
                "subjects": []}
        entry["subjects"].append(_subject(reason, evidence))
    return list(clauses.values())


def _redaction_summary(case: Case) -> dict:
    by_rule: dict[str, int] = {}
    for item in case.redactions:
        by_rule[item["rule"]] = by_rule.get(item["rule"], 0) + 1
    return {"count": len(case.redactions), "by_rule": by_rule,
            "places": [dict(item) for item in case.redactions]}


def case_report(case: Case, responses: Sequence[Response], disputes: Sequence[Dispute],
                played: Replay, verification, record_hash: str = "",
                calibrated: Mapping | None = None, prepared: str | None = None) -> dict:
    """Everything the consistency report for one case says, as JSON. `verification` is
    the store's (`CaseStore.verify`), `record_hash` the hash of the case's record."""
    decision = played.decision
    response = latest(responses)
    finding = assess(decision, case.asks, response)
    evidence = case.evidence
    request = evidence.get("request", {})
    target = evidence.get("target", {})
    problem = verification.first_problem
    return {
        "kind": "takedown.audit.case",
        "prepared": prepared,
        "case": {"id": case.id, "record": case.seq, "recorded_at": case.recorded_at,
                 "request_id": case.request_id, "platform": case.platform,
                 "submitted": case.submitted, "asks": case.asks, "source": case.source,
                 "evidence_digest": case.evidence_digest, "stored_digest": case.stored_digest,
                 "engine": case.decision.get("engine", {})},
        "request": {"referrer": request.get("referrer", {}), "grounds": request.get("grounds", []),
                    "asks": request.get("asks"),
                    "target": {k: target.get(k) for k in ("platform", "kind", "name", "url")},
                    "posts": len(target.get("posts", []))},
        "prediction": {"outcome": decision["outcome"], "bounds": decision["bounds"],
                       "likelihood": decision["likelihood"],
                       "recorded_outcome": case.outcome,
                       "recorded_likelihood": case.likelihood,
                       "calibrated": dict(calibrated) if calibrated else None},
        "response": _response_json(response) if response else None,
        "responses": [_response_json(r) for r in responses],
        "disputes": [{"date": d.date, "text": d.text, "clauses": list(d.clauses), "by": d.by,
                      "source": d.source, "record": d.seq} for d in disputes],
        "finding": finding.as_json(),
        "clauses": clauses_of(decision, evidence, finding.actual),
        "deficiencies": clauses_of(decision, evidence, finding.actual, key="deficiencies"),
        "thresholds": decision.get("thresholds", []),
        "missing": decision.get("missing", []),
        "exceptions": decision.get("exceptions", []),
        "errors": decision.get("errors", []),
        "replay": played.as_json(),
        "redactions": _redaction_summary(case),
        "integrity": {"record": case.seq, "hash": record_hash,
                      "intact": verification.is_intact,
                      "problem": str(problem) if problem else None,
                      "records": verification.records,
                      "head": {"record": verification.head.seq, "hash": verification.head.hash}
                      if verification.head else None},
    }


def _response_json(response: Response) -> dict:
    return {"date": response.date, "outcome": response.outcome, "reason": response.reason,
            "notes": response.notes, "source": response.source, "record": response.seq}
