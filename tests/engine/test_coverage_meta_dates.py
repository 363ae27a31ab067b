"""A request to Facebook or to Instagram gets a decision on every date from 2017-01-01 to
today: some Meta rule set is in force on the 1st and the 15th of every month, on the first
day of every Meta version and on the day before it.

One engine and one small piece of evidence: the walk checks that rule sets are in force
and run, not what they decide (the fixtures and the tests in the rule files do that).
"""

import datetime

import pytest

from engine import Engine, NoRulesetInForce, parse_evidence
from tests.engine.support import RULES

START = datetime.date(2017, 1, 1)
SURFACES = ["facebook", "instagram"]

ENGINE = Engine.from_paths([RULES])

EVIDENCE = """{
  "request": {"id": "walk-1", "submitted": "2020-01-15"},
  "target": {"platform": "facebook", "kind": "post",
             "posts": [{"id": "p1", "text": "Boat to England, message me",
                        "signals": {"offers_crossing": true}, "context": "none"}]}
}"""


def _days() -> list[datetime.date]:
    """The 1st and 15th of each month from START to today, and every Meta version's first
    day and the day before it (from START on)."""
    today = datetime.date.today()
    days = set()
    year, month = START.year, START.month
    while datetime.date(year, month, 1) <= today:
        days.update(d for d in (datetime.date(year, month, 1), datetime.date(year, month, 15))
                    if d <= today)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for ruleset in ENGINE.registry:
        if ruleset.platform == "meta":
            for day in (ruleset.effective_from, ruleset.effective_from - datetime.timedelta(days=1)):
                if START <= day <= today:
                    days.add(day)
    return sorted(days)


def test_every_meta_version_starts_in_the_walk():
    days = set(_days())
    meta = [r for r in ENGINE.registry if r.platform == "meta"]
    assert meta
    assert {r.effective_from for r in meta} <= days
    assert START in days


@pytest.mark.parametrize("surface", SURFACES)
def test_a_request_gets_a_decision_on_every_date(surface):
    evidence, problems = parse_evidence(EVIDENCE)
    assert evidence is not None, problems
    undecided = []
    for day in _days():
        try:
            decision = ENGINE.check(evidence, as_of=day, platform=surface, explain=False)
        except NoRulesetInForce:
            undecided.append(day.isoformat())
            continue
        assert any(r["id"].startswith("meta.") for r in decision.as_json()["rulesets"]), day
    assert not undecided, f"no rule set covers {surface} on {undecided}"
