"""Intake: turning an evidence document into a case to store.

The decision is made on the evidence as submitted, under the rule sets in force on the
request's submission date, with its explanation (the report quotes it). Then the
evidence and the decision's quotations of it are redacted, and the redacted evidence
is checked again, so that what is stored can always be replayed.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.api import Engine
from engine.audit.records import Case
from engine.audit.redaction import RedactionRule, mask_decision, redact
from engine.evidence import Evidence, parse_evidence

__all__ = ["IntakeError", "prepare_case"]


class IntakeError(Exception):
    """Evidence that cannot become a case (its redacted form is no longer valid)."""


def prepare_case(engine: Engine, evidence: Evidence, rules: Sequence[RedactionRule],
                 source: str) -> Case:
    """The case for `evidence`, ready for `CaseStore.record_case`.

    Raises `engine.NoRulesetInForce` when no rule set covers the request, and
    `IntakeError` when a redaction rule breaks the evidence."""
    decision = engine.check(evidence, explain=True)
    stored, redactions = redact(evidence.document, rules)
    checked, problems = parse_evidence(stored, source)
    if checked is None:
        first = problems[0]
        raise IntakeError(f"redaction makes the evidence invalid at {first.pointer}: "
                          f"{first.message}; narrow the redaction rule's fields")
    return Case(
        request_id=decision.request, platform=decision.platform, submitted=decision.as_of,
        asks=evidence.request.get("asks"), source=source, evidence=stored,
        evidence_digest=evidence.digest, stored_digest=checked.digest,
        redactions=tuple(redactions),
        decision=mask_decision(decision.as_json(), stored, rules))
