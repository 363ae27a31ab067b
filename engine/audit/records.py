"""The values the case store keeps: cases, platform responses and disputes.

A case is a request as it was submitted (the evidence, redacted as configured, and the
decision we predicted); responses and disputes are appended to it over time and never
change it. These are plain frozen values with a JSON body each: the ledger hashes the
body, the tables index a few of its fields. Nothing here knows about databases.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["RESPONSE_OUTCOMES", "PENDING", "ACTED", "Case", "Response", "Dispute",
           "response_outcome", "OUTCOME_ALIASES", "latest"]

PENDING = "pending"
# What a platform did, in the engine's order of outcomes, and `pending` for no decision yet.
RESPONSE_OUTCOMES = ("page_removed", "posts_removed", "geo_blocked", "no_action", PENDING)
ACTED = frozenset({"page_removed", "posts_removed", "geo_blocked"})

# The words teams write in their spreadsheets for each outcome (compared after lowering
# case and turning spaces and hyphens into underscores). "Accepted" is not one: it does
# not say at which level, and a row that says it is refused rather than guessed.
OUTCOME_ALIASES = {
    "page_removed": "page_removed", "page": "page_removed", "removed_page": "page_removed",
    "account_removed": "page_removed",
    "channel_removed": "page_removed", "group_removed": "page_removed",
    "posts_removed": "posts_removed", "posts": "posts_removed", "posts_only": "posts_removed",
    "removed_posts": "posts_removed",
    "geo_blocked": "geo_blocked", "geo_block": "geo_blocked", "withheld": "geo_blocked",
    "geoblocked": "geo_blocked", "restricted_in_country": "geo_blocked",
    "no_action": "no_action", "rejected": "no_action", "refused": "no_action",
    "declined": "no_action", "none": "no_action",
    "pending": PENDING, "open": PENDING, "acknowledged": PENDING, "awaiting": PENDING,
}


def response_outcome(text: str) -> str | None:
    """The outcome a spreadsheet's word stands for, or None if it is not one we know."""
    key = "_".join(text.strip().lower().replace("-", " ").split())
    return OUTCOME_ALIASES.get(key)


@dataclass(frozen=True, slots=True)
class Case:
    """A request as submitted, with the decision predicted for it.

    `evidence_digest` is the digest of the evidence as submitted (the decision carries
    it too); `stored_digest` that of the evidence as stored, after `redactions`.
    `id`, `seq` (its ledger record) and `recorded_at` are given by the store.
    """

    request_id: str
    platform: str
    submitted: str  # YYYY-MM-DD: the date that selects the rule sets in force
    asks: str | None
    source: str  # where the evidence came from, e.g. its file name
    evidence: dict
    evidence_digest: str
    stored_digest: str
    redactions: tuple[dict, ...]
    decision: dict  # Decision.as_json(), with personal data masked as in `evidence`
    id: str = ""
    seq: int = 0
    recorded_at: str = ""

    @property
    def outcome(self) -> str:
        return self.decision["outcome"]

    @property
    def likelihood(self) -> float:
        return float(self.decision["likelihood"])

    @property
    def rulesets(self) -> list[dict]:
        """The rule sets the decision used: id, version and sha256 of each."""
        return [{"id": r["id"], "version": r["version"], "sha256": r["sha256"]}
                for r in self.decision["rulesets"]]

    def body(self) -> dict:
        out = _body(self, ("id", "seq", "recorded_at"))
        out["rulesets"] = self.rulesets
        out["engine"] = self.decision.get("engine", {})
        out["as_of"] = self.decision.get("as_of")
        return out

    @classmethod
    def from_body(cls, body: dict, case_id: str, seq: int, recorded_at: str) -> Case:
        return _from_body(cls, body, id=case_id, seq=seq, recorded_at=recorded_at)


@dataclass(frozen=True, slots=True)
class Response:
    """What the platform answered, on which date, at which level, and why it said so."""

    case_id: str
    date: str  # YYYY-MM-DD
    outcome: str  # one of RESPONSE_OUTCOMES
    reason: str = ""  # the reason the platform gave
    notes: str = ""  # the team's own notes
    source: str = ""  # "cli", or the spreadsheet and line it came from
    seq: int = 0
    recorded_at: str = ""

    @property
    def is_final(self) -> bool:
        return self.outcome != PENDING

    def body(self) -> dict:
        return _body(self, ("case_id", "seq", "recorded_at"))

    @classmethod
    def from_body(cls, body: dict, case_id: str, seq: int, recorded_at: str) -> Response:
        return _from_body(cls, body, case_id=case_id, seq=seq, recorded_at=recorded_at)


def latest(responses: Sequence[Response] | None) -> Response | None:
    """The platform's current position: its last response by date (the store gives
    responses oldest first)."""
    return responses[-1] if responses else None


@dataclass(frozen=True, slots=True)
class Dispute:
    """A dispute raised against a platform's response, naming the clauses it rests on."""

    case_id: str
    date: str
    text: str
    clauses: tuple[str, ...] = ()  # rule keys, e.g. meta.human-exploitation/smuggling-offer
    by: str = ""
    source: str = ""
    seq: int = 0
    recorded_at: str = ""

    def body(self) -> dict:
        return _body(self, ("case_id", "seq", "recorded_at"))

    @classmethod
    def from_body(cls, body: dict, case_id: str, seq: int, recorded_at: str) -> Dispute:
        return _from_body(cls, body, case_id=case_id, seq=seq, recorded_at=recorded_at)


def _body(value, leave_out: tuple[str, ...]) -> dict:
    out = {}
    for f in dataclasses.fields(value):
        if f.name not in leave_out:
            item = getattr(value, f.name)
            out[f.name] = list(item) if isinstance(item, tuple) else item
    return out


def _from_body(cls, body: dict, **given: Any):
    """The value a body describes; lists at the top level become tuples again, what is
    below them (the evidence, the decision) stays JSON."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in body.items() if k in names}
    return cls(**values, **given)
