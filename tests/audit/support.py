"""Where the audit tests find things, and the helpers they share."""

import datetime
import itertools
import json
import os
from pathlib import Path

from engine import load_evidence
from engine.audit.intake import prepare_case
from engine.audit.records import Case
from engine.audit.redaction import DEFAULT_RULES

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "fixtures"
RULES = ROOT / "platform_policies"
RESPONSES = FIXTURES / "responses.csv"
PAGE_TWO_ADVERTS = FIXTURES / "meta" / "page-two-adverts.json"
# The January-May 2020 referrals replayed, with the platforms' responses: a store of its
# own (tests/audit/test_rejections.py), not part of the sample store of fixtures/.
NCA_2020 = FIXTURES / "nca-2020"
NCA_2020_RESPONSES = NCA_2020 / "responses.csv"


_databases = itertools.count()


def new_store_location(backend: str, request, tmp_path: Path) -> str:
    """Where a new, empty store can be made: a SQLite file, or an empty database on the
    session's PostgreSQL server (the fixture `postgres_server`, taken from `request`)."""
    if backend == "sqlite":
        return str(tmp_path / f"cases-{next(_databases)}.db")
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"cases_{os.getpid()}_{next(_databases)}")


def clock(*moment: int):
    """A clock that always says the same time (2026-01-01 12:00 UTC unless told)."""
    fixed = datetime.datetime(*(moment or (2026, 1, 1, 12)), tzinfo=datetime.UTC)
    return lambda: fixed


def fixture_folders() -> list[Path]:
    """The folders of fixtures that `fixtures/responses.csv` answers: all but scenarios."""
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p != NCA_2020)


def fixture_paths() -> list[Path]:
    return sorted(path for folder in fixture_folders() for path in folder.rglob("*.json"))


def case_for(engine, path: Path, redaction=DEFAULT_RULES) -> Case:
    evidence, problems = load_evidence(path)
    assert evidence is not None, problems
    return prepare_case(engine, evidence, redaction, str(path.relative_to(ROOT)))


def a_case(request_id: str = "R-1", platform: str = "facebook", submitted: str = "2024-01-10",
           outcome: str = "posts_removed", lower: str | None = None, upper: str | None = None,
           likelihood: float = 0.9, digest: str | None = None, asks: str = "remove_page",
           reasons: list | None = None) -> Case:
    """A small hand-made case, for tests of the store that need no engine."""
    decision = {"request": request_id, "platform": platform, "as_of": submitted,
                "outcome": outcome, "likelihood": likelihood,
                "bounds": {"lower": lower or outcome, "upper": upper or outcome},
                "rulesets": [{"id": "meta.human-exploitation", "version": "2022-12-07",
                              "sha256": "ab" * 32, "kind": "policy", "outcome": outcome,
                              "fired": []}],
                "posts": [], "reasons": reasons or [], "thresholds": [], "exceptions": [],
                "missing": [], "deficiencies": [], "errors": [],
                "engine": {"name": "takedown", "version": "0.1.0"},
                "evidence": {"digest": digest or request_id * 4, "name": "x.json"}}
    evidence = {"request": {"id": request_id, "submitted": submitted, "asks": asks},
                "target": {"platform": platform, "kind": "page"}}
    return Case(request_id, platform, submitted, asks, "x.json", evidence,
                digest or json.dumps(request_id), "stored", (), decision)


def reason(rule: str = "smuggling-offer", verdict: str = "violates", confidence: float = 0.9,
           ruleset: str = "meta.human-exploitation", post: str | None = "p1") -> dict:
    return {"ruleset": ruleset, "rule": rule, "verdict": verdict,
            "subject": "post" if post else "page", "post": post, "title": rule,
            "message": "", "confidence": confidence,
            "citations": [{"source": "s", "title": "Policy", "section": "Do not post",
                           "says": "no smuggling", "url": "https://example.invalid/policy"}],
            "evidence": [], "spans": []}
