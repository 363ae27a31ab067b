"""Every platform the referrals went to has its policy and its enforcement in force on
every day from the first day of its history to today, so that a request to it gets a
decision rather than `NoRulesetInForce` (exit 4 on the command line).

The table is the data: a platform (as evidence names it) and the first day its rule sets
must cover. A platform whose history is extended adds or moves its row. The days walked
are the 1st and the 15th of every month, and the first day of every version of a rule
set covering the platform together with the day before it, where gaps would show.
"""

import datetime
import json

import pytest

from engine import Engine, NoRulesetInForce, parse_evidence

FIRST_DAYS = {
    "twitter": datetime.date(2019, 1, 1),
    "x": datetime.date(2019, 1, 1),
    "youtube": datetime.date(2019, 1, 1),
    "tiktok": datetime.date(2019, 1, 1),
}
# Every day must be decided by at least one rule set of each of these kinds.
KINDS = {"policy", "enforcement"}


def _days(engine: Engine, platform: str, first: datetime.date,
          last: datetime.date) -> list[datetime.date]:
    days = {datetime.date(y, m, d) for y in range(first.year, last.year + 1)
            for m in range(1, 13) for d in (1, 15)}
    for ruleset in engine.registry:
        if ruleset.covers(platform):
            start = ruleset.effective_from
            days |= {start, start - datetime.timedelta(days=1)}
    return sorted(d for d in days if first <= d <= last)


def _request(platform: str):
    evidence, problems = parse_evidence(json.dumps({
        "request": {"id": f"coverage-{platform}", "submitted": "2019-01-01",
                    "referrer": {"kind": "law_enforcement", "jurisdiction": "GB"}},
        "target": {"platform": platform, "kind": "account",
                   "posts": [{"id": "p1", "text": "Boat to England, WhatsApp +44 7700 900123",
                              "signals": {"offers_crossing": True}}]},
    }))
    assert evidence is not None, problems
    return evidence


@pytest.mark.parametrize("platform", sorted(FIRST_DAYS))
def test_every_day_gets_a_decision(engine: Engine, platform: str):
    evidence = _request(platform)
    today = datetime.date.today()
    gaps = []
    for day in _days(engine, platform, FIRST_DAYS[platform], today):
        try:
            decision = engine.check(evidence, as_of=day, explain=False)
        except NoRulesetInForce:
            gaps.append(f"{day}: no rule set")
            continue
        missing = KINDS - {r.kind for r in decision.rulesets}
        if missing:
            gaps.append(f"{day}: no {', '.join(sorted(missing))} rule set")
    assert not gaps, f"{platform} is not covered on {len(gaps)} days:\n" + "\n".join(gaps)
