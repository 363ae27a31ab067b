"""Where the engine tests find things, and small helpers they share."""

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "fixtures"
META = FIXTURES / "meta"
RULES = ROOT / "platform_policies"
# Frozen copies of the first Meta rule sets, for tests of how a decision is built and
# explained: those need rules that do not change under them.
PINNED_RULES = Path(__file__).with_name("rulesets")
# The first fixtures, one for each kind of outcome; the pinned rule sets were written for them.
CORE = [META / name for name in (
    "page-two-adverts.json", "page-dedicated-to-crossings.json", "asylum-question-allowed.json",
    "group-unassessed.json", "request-for-smuggler.json")]
DECISION_SCHEMA = ROOT / "engine" / "decision.schema.json"
EVIDENCE_SCHEMA = ROOT / "engine" / "evidence.schema.json"


# Folders of evidence that replay a scenario rather than pin a decision each: they carry
# no `x-expect`, and the tests of what they feed check them as a whole.
SCENARIOS = {
    "nca-2020": "the NCA's January-May 2020 referrals replayed with the platforms' responses: "
                "a scenario checked as a whole by tests/audit/test_rejections.py against the "
                "decisions of the rule sets in force, not decisions pinned one by one (its "
                "Twitter and YouTube requests had no 2020 rule set to pin them to when it was "
                "written)",
}


def is_scenario(path: Path) -> bool:
    return path.relative_to(FIXTURES).parts[0] in SCENARIOS


def evidence_paths() -> list[Path]:
    """Every evidence file under fixtures/, scenarios included: what a command given the
    folder reads (`takedown diff --corpus fixtures`)."""
    return sorted(FIXTURES.rglob("*.json"))


def fixture_paths() -> list[Path]:
    """Every evidence fixture with the decision it expects, including those added after
    these tests were written; not the scenarios."""
    return [p for p in evidence_paths() if not is_scenario(p)]


def scenario_paths() -> list[Path]:
    return [p for p in evidence_paths() if is_scenario(p)]


def fixture_id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


@cache
def decision_validator() -> Draft202012Validator:
    schema = json.loads(DECISION_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def decision_schema_errors(document: dict) -> list[str]:
    """Every way `document` breaks the decision schema, each with where; empty if valid."""
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in decision_validator().iter_errors(document)]
