"""`takedown validate`: how the engine's decisions compare with real cases.

A validation case is an evidence document written only from what a public source says
about a real request (an Oversight Board decision, a press investigation, a police
statement), with an `x-case` block that records, separately, the platform's actual
decision and what a careful reading of the policy in force predicts (validation/README.md
describes the format). This module decides every case and measures:

- agreement with the policy reading (the engine's outcome against the reading's), over
  all cases and over the cases whose facts settle the reading;
- agreement with the platform's actual decision, on the level (page, posts, nothing)
  and on removal (removed or not), where the source reports it;
- the Brier score of the engine's distribution over outcomes, against the policy reading
  and against the platform's decision (the mean, over cases, of the squared differences
  between the predicted probabilities and 1 for the outcome that happened, 0 for the
  others: 0 is perfect, 2 the worst);
- settled cases the engine leaves `undetermined`, which should be none;

and lists each disagreement with what the engine decided, why, and what it lacked.
Nothing here prints: `takedown validate` is engine/cli/validate.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.api import Engine
from engine.decision import OUTCOMES, UNDETERMINED, Decision
from engine.evaluation import NoRulesetInForce
from engine.evidence import load_evidence
from engine.extraction import with_extraction

__all__ = ["CaseResult", "Summary", "validate", "summarise", "render_text", "DEFAULT_CORPUS"]

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "validation"
REMOVALS = ("posts_removed", "page_removed")


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: str  # the file, relative to the corpus
    title: str
    platform: str
    date: str
    topic: str
    reading: str  # the policy reading's outcome
    settled: bool  # whether the source's facts settle the reading
    actual: str  # the platform's actual decision, or "unknown"
    outcome: str  # the engine's
    probability: float
    distribution: dict
    agrees: bool  # with the policy reading
    agrees_actual: bool | None  # on the level; None when the platform's decision is unknown
    removal_agrees: bool | None  # on removed or not
    why: str = ""  # for a disagreement: the engine's reasons and what it lacked
    error: str = ""  # the case could not be decided


@dataclass
class Summary:
    cases: int = 0
    errors: int = 0
    agree: int = 0
    settled: int = 0
    settled_agree: int = 0
    settled_undetermined: int = 0
    actual_known: int = 0
    actual_agree: int = 0
    removal_agree: int = 0
    brier_reading: float | None = None
    brier_actual: float | None = None
    by_platform: dict = field(default_factory=dict)
    by_topic: dict = field(default_factory=dict)

    @property
    def agreement(self) -> float:
        decided = self.cases - self.errors
        return self.agree / decided if decided else 0.0

    def as_json(self) -> dict:
        out = asdict(self)
        out["agreement"] = round(self.agreement, 4)
        return out


def _brier(distribution: dict, outcome: str) -> float:
    return sum((distribution.get(o, 0.0) - (1.0 if o == outcome else 0.0)) ** 2
               for o in OUTCOMES)


def _is_removal(outcome: str) -> bool:
    return outcome in REMOVALS


def _why(decision: Decision) -> str:
    held = [f"{r.ruleset}/{r.rule}" for r in decision.reasons][:3]
    lacking = [m.fact for m in decision.missing][:3]
    parts = [f"rules that hold: {', '.join(held) or 'none'}"]
    if lacking:
        parts.append(f"most decisive unknowns: {', '.join(lacking)}")
    if decision.escalation is not None:
        parts.append(f"escalation: {decision.escalation.text}")
    return "; ".join(parts)


def validate(engine: Engine, directory: Path, extractor=None, extract: str = "found",
             track: Callable[[Sequence], Iterable] = iter) -> list[CaseResult]:
    """Decide every case under `directory` and compare it with its `x-case` block; with
    an `extractor`, after filling in the signals the cases' texts establish, as `takedown
    check --extract` does with `extract` (found or all). `track` wraps the list of files
    (to show progress)."""
    out = []
    for path in track(sorted(directory.rglob("*.json"))):
        name = str(path.relative_to(directory))
        case = _case_block(path)
        if case is None:
            continue  # not a validation case (no x-case block)
        reading = case.get("policy_reading", {})
        actual = case.get("platform_decision", {}).get("outcome", "unknown")
        evidence, problems = load_evidence(path, name)
        if evidence is not None and extractor is not None:
            evidence, problems = with_extraction(extractor, evidence, extract)
        base = dict(case=name, title=str(case.get("title", "")), topic=str(case.get("topic", "")),
                    reading=str(reading.get("outcome", "")),
                    settled=bool(reading.get("settled", False)), actual=str(actual))
        if evidence is None:
            out.append(CaseResult(**base, platform="", date="", outcome="", probability=0.0,
                                  distribution={}, agrees=False, agrees_actual=None,
                                  removal_agrees=None,
                                  error="; ".join(f"{d.code} {d.pointer} {d.message}"
                                                  for d in problems)))
            continue
        try:
            decision = engine.check(evidence, explain=False)
            if decision.outcome != base["reading"]:  # explained only where it disagrees
                decision = engine.check(evidence)
        except NoRulesetInForce as error:
            out.append(CaseResult(**base, platform=evidence.platform,
                                  date=str(evidence.submitted), outcome="", probability=0.0,
                                  distribution={}, agrees=False, agrees_actual=None,
                                  removal_agrees=None, error=str(error)))
            continue
        known = actual in OUTCOMES
        agrees = decision.outcome == base["reading"]
        out.append(CaseResult(
            **base, platform=evidence.platform, date=str(evidence.submitted),
            outcome=decision.outcome, probability=decision.probability,
            distribution=dict(decision.distribution), agrees=agrees,
            agrees_actual=(decision.outcome == actual) if known else None,
            removal_agrees=(_is_removal(decision.outcome) == _is_removal(actual))
            if known else None,
            why="" if agrees else _why(decision)))
    return out


def _case_block(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}  # reported as an evidence error by load_evidence
    block = data.get("x-case") if isinstance(data, dict) else None
    return block if isinstance(block, dict) else None


def summarise(results: Iterable[CaseResult]) -> Summary:
    summary = Summary()
    reading_scores, actual_scores = [], []
    for r in results:
        summary.cases += 1
        if r.error:
            summary.errors += 1
            continue
        summary.agree += r.agrees
        if r.settled:
            summary.settled += 1
            summary.settled_agree += r.agrees
            summary.settled_undetermined += r.outcome == UNDETERMINED
        if r.reading in OUTCOMES:
            reading_scores.append(_brier(r.distribution, r.reading))
        if r.agrees_actual is not None:
            summary.actual_known += 1
            summary.actual_agree += r.agrees_actual
            summary.removal_agree += bool(r.removal_agrees)
            actual_scores.append(_brier(r.distribution, r.actual))
        for key, table in ((r.platform, summary.by_platform), (r.topic, summary.by_topic)):
            row = table.setdefault(key, {"cases": 0, "agree": 0})
            row["cases"] += 1
            row["agree"] += r.agrees
    if reading_scores:
        summary.brier_reading = round(sum(reading_scores) / len(reading_scores), 4)
    if actual_scores:
        summary.brier_actual = round(sum(actual_scores) / len(actual_scores), 4)
    return summary


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "none"


def render_text(results: list[CaseResult], summary: Summary, directory: str) -> str:
    out = [f"{summary.cases} cases in {directory}"
           + (f", {summary.errors} could not be decided" if summary.errors else "")]
    decided = summary.cases - summary.errors
    out.append(f"agreement with the policy reading: {_share(summary.agree, decided)}; "
               f"on cases whose facts settle it: {_share(summary.settled_agree, summary.settled)}")
    out.append(f"settled cases left undetermined: {summary.settled_undetermined}")
    out.append(f"agreement with the platform's decision ({summary.actual_known} known): "
               f"level {_share(summary.actual_agree, summary.actual_known)}, "
               f"removal {_share(summary.removal_agree, summary.actual_known)}")
    out.append(f"Brier score of the distribution: against the policy reading "
               f"{summary.brier_reading}, against the platform's decision {summary.brier_actual}")
    for title, table in (("by platform", summary.by_platform), ("by topic", summary.by_topic)):
        out.append(f"{title}: " + ", ".join(
            f"{key} {row['agree']}/{row['cases']}" for key, row in sorted(table.items())))
    disagreements = [r for r in results if not r.agrees or r.error]
    if disagreements:
        out += ["", "DISAGREEMENTS WITH THE POLICY READING"]
        for r in disagreements:
            if r.error:
                out.append(f"  - {r.case}: not decided: {r.error}")
                continue
            settled = "settled" if r.settled else "not settled by the source"
            out.append(f"  - {r.case} ({r.platform}, {r.date}): engine {r.outcome} "
                       f"({round(r.probability * 100)}%), reading {r.reading} ({settled}), "
                       f"platform {r.actual}")
            out.append(f"      {r.why}")
    return "\n".join(out) + "\n"
