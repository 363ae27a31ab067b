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
from engine.cli import main
from engine.evaluation import BEFORE_HISTORY_DAYS

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
        elif decision.before_history:
            gaps.append(f"{day}: decided before the encoded history ({decision.before_history})")
    assert not gaps, f"{platform} is not covered on {len(gaps)} days:\n" + "\n".join(gaps)


@pytest.mark.parametrize("platform", [*sorted(FIRST_DAYS), "facebook", "instagram"])
def test_a_request_shortly_before_the_history_is_decided_under_its_first_versions(
        engine: Engine, platform: str):
    first = min(r.effective_from for r in engine.registry
                if r.kind == "policy" and r.platform != "any" and r.covers(platform))
    evidence = _request(platform)
    early = first - datetime.timedelta(days=400)
    decision = engine.check(evidence, as_of=early, explain=False)
    assert decision.before_history == first.isoformat()
    assert decision.as_of == early.isoformat()
    versions = {(r.id, r.version) for r in engine.registry.in_force(platform, first)}
    assert {(r.id, r.version) for r in decision.rulesets} == versions
    same_day = engine.check(evidence, as_of=first, explain=False)
    assert (decision.outcome, decision.distribution) == (same_day.outcome, same_day.distribution)
    assert same_day.before_history == ""
    too_early = first - datetime.timedelta(days=BEFORE_HISTORY_DAYS + 1)
    with pytest.raises(NoRulesetInForce):
        engine.check(evidence, as_of=too_early, explain=False)
    strict = Engine(engine.registry, before_history_days=0)
    with pytest.raises(NoRulesetInForce):
        strict.check(evidence, as_of=early, explain=False)


def test_strict_dates_on_the_command_line(tmp_path, capsys):
    source = tmp_path / "case.json"
    source.write_text(json.dumps(_request("facebook").document), encoding="utf-8")
    assert main(["check", str(source), "--as-of", "2015-09-10"]) == 0
    assert "Before the encoded history" in capsys.readouterr().out
    assert main(["check", str(source), "--as-of", "2015-09-10", "--strict-dates"]) == 4
    assert "V007" in capsys.readouterr().err
