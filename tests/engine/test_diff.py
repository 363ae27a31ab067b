"""`takedown diff`: the changes between two versions of a rule set, and the decisions
they turn.

The decisive property: over the fixtures, `diff` lists exactly the decisions that the
policy change flips. The expected flips are computed here without `engine.authoring.diffing`:
from rule-set directories (or registries) in which only one of the two versions is left,
through `Engine.check`, on the date the documented rule gives; and, on the day a version
takes over, from the bundled rule sets themselves, the day before against the day of the
change. Meta's human-exploitation policy is checked pair by pair; for every platform,
each version change of a policy or enforcement rule set that flips a decision of the
fixtures or the validation cases must flip a fixture, so that every change is shown by an
example.
"""

import dataclasses
import datetime
import json
import re
import shutil
from pathlib import Path

import pytest

from engine import Engine, load_evidence
from engine.authoring.diffing import compare_corpus, compare_rulesets, judgement_days
from engine.cli import main
from rules import Registry, changed_parts, load_ruleset, parse, unparse
from tests.engine.support import (
    FIXTURES,
    PINNED_RULES,
    ROOT,
    RULES,
    evidence_paths,
    fixture_id,
    fixture_paths,
)

HUMAN_EXPLOITATION = Path("meta") / "human-exploitation"
# Pairs of versions of Meta's human-exploitation policy, each of which flips decisions.
PAIRS = [("2017-01-01", "2018-04-24"), ("2018-04-24", "2019-09-03"), ("2019-09-03", "2022-12-07"),
         ("2022-12-07", "2023-08-31"), ("2022-12-07", "2023-12-05"), ("2023-08-31", "2023-12-05"),
         ("2024-10-02", "2024-12-27"), ("2024-12-27", "2025-08-29")]


def _diff_json(capsys, *args: str) -> dict:
    status = main(["diff", *args, "--format", "json"])
    out = capsys.readouterr().out
    assert status == 0, out
    return json.loads(out)


def _with_only(rules_dir: Path, version: Path, where: Path) -> Path:
    """A copy of `rules_dir` in which `version` is the only version of its rule set."""
    copy = where / version.stem / rules_dir.name
    shutil.copytree(rules_dir, copy)
    for other in (copy / HUMAN_EXPLOITATION).glob("*.yaml"):
        if other.name != version.name:
            other.unlink()
    return copy


def _covered_fixtures(ruleset):
    """Every evidence file `diff --corpus fixtures` reads that `ruleset` covers."""
    for path in evidence_paths():
        evidence, problems = load_evidence(path)
        assert evidence is not None, problems
        if ruleset.covers(evidence.platform):
            yield path, evidence


def _flips(report: dict) -> dict:
    return {c["evidence"]: (c["old"]["outcome"], c["new"]["outcome"])
            for c in report["decisions"]["changed"] if "outcome" in c["changes"]}


@pytest.mark.parametrize(("old_version", "new_version"), PAIRS)
def test_diff_lists_exactly_the_decisions_the_change_flips(bundled_rules, tmp_path, capsys,
                                                           old_version, new_version):
    old_file = bundled_rules / HUMAN_EXPLOITATION / f"{old_version}.yaml"
    new_file = bundled_rules / HUMAN_EXPLOITATION / f"{new_version}.yaml"
    old, _ = load_ruleset(old_file)
    new, _ = load_ruleset(new_file)
    old_engine = Engine.from_paths([_with_only(bundled_rules, old_file, tmp_path)])
    new_engine = Engine.from_paths([_with_only(bundled_rules, new_file, tmp_path)])
    expected = {}
    for path, evidence in _covered_fixtures(new):
        # The documented date: the submission date, not before both versions apply.
        day = max(evidence.submitted, old.effective_from, new.effective_from)
        before = old_engine.check(evidence, day, explain=False).outcome
        after = new_engine.check(evidence, day, explain=False).outcome
        if before != after:
            expected[fixture_id(path)] = (before, after)
    assert expected, "the change flips no fixture: this test would prove nothing"

    report = _diff_json(capsys, str(old_file), str(new_file), "--corpus", str(FIXTURES),
                        "--rules", str(bundled_rules))
    assert _flips(report) == expected
    assert sorted(report["decisions"]["flips"]) == sorted(expected)


def test_on_the_day_of_a_change_the_flips_are_the_bundled_rule_sets_own(bundled_rules, engine,
                                                                          capsys):
    """With --as-of the day a version takes over, diff agrees with the bundled rule sets
    judged the day before and the day itself, when nothing else changes on that day."""
    old_file = bundled_rules / HUMAN_EXPLOITATION / "2023-08-31.yaml"
    new_file = bundled_rules / HUMAN_EXPLOITATION / "2023-12-05.yaml"
    new, _ = load_ruleset(new_file)
    day = new.effective_from
    eve = day - datetime.timedelta(days=1)
    for ruleset in engine.registry:
        if ruleset.id != new.id:
            dates = {ruleset.effective_from, ruleset.effective_until}
            dates |= {start for p in ruleset.parameters.values() for start, _ in p.values}
            assert day not in dates, f"{ruleset.id} {ruleset.version} also changes on {day}"
    expected = {}
    for path, evidence in _covered_fixtures(new):
        before = engine.check(evidence, eve, explain=False).outcome
        after = engine.check(evidence, day, explain=False).outcome
        if before != after:
            expected[fixture_id(path)] = (before, after)
    assert expected

    report = _diff_json(capsys, str(old_file), str(new_file), "--corpus", str(FIXTURES),
                        "--rules", str(bundled_rules), "--as-of", day.isoformat())
    assert _flips(report) == expected
    assert {c["as_of"]["old"] for c in report["decisions"]["changed"]} == {day.isoformat()}


def test_each_changed_decision_is_given_in_full_on_both_sides(bundled_rules, capsys):
    report = _diff_json(capsys, str(bundled_rules / HUMAN_EXPLOITATION / "2022-12-07.yaml"),
                        str(bundled_rules / HUMAN_EXPLOITATION / "2023-12-05.yaml"),
                        "--corpus", str(FIXTURES), "--rules", str(bundled_rules))
    journalist = next(c for c in report["decisions"]["changed"]
                      if c["evidence"] == "meta/journalist-quotes-advert.json")
    assert journalist["changes"][0] == "outcome"
    assert [r["rule"] for r in journalist["old"]["reasons"]] == ["smuggling-offer"]
    assert [e["exception"] for e in journalist["new"]["exceptions"]] == [
        "condemnation-awareness-or-news"]
    versions = {side: {r["id"]: r["version"] for r in journalist[side]["rulesets"]}
                for side in ("old", "new")}
    assert versions["old"]["meta.human-exploitation"] == "2022-12-07"
    assert versions["new"]["meta.human-exploitation"] == "2023-12-05"
    assert {k: v for k, v in versions["old"].items() if k != "meta.human-exploitation"} == {
        k: v for k, v in versions["new"].items() if k != "meta.human-exploitation"}
    assert "x/account-turkish-boat-adverts.json" in report["decisions"]["not_covered"]


def test_the_date_moves_into_the_period_both_versions_apply_in():
    old, _ = load_ruleset(PINNED_RULES / HUMAN_EXPLOITATION / "2019-09-03.yaml")
    new, _ = load_ruleset(PINNED_RULES / HUMAN_EXPLOITATION / "2022-12-07.yaml")
    day = datetime.date
    assert judgement_days(day(2021, 1, 5), old, new) == (day(2022, 12, 7),) * 2
    assert judgement_days(day(2024, 3, 1), old, new) == (day(2024, 3, 1),) * 2
    ending = dataclasses.replace(old, effective_until=day(2022, 1, 1))
    # Periods that never meet: each version is judged within its own.
    assert judgement_days(day(2024, 3, 1), ending, new) == (day(2021, 12, 31), day(2024, 3, 1))


# What the files say

def _edited(tmp_path: Path, edits: list[tuple[str, str]]) -> Path:
    text = (PINNED_RULES / HUMAN_EXPLOITATION / "2022-12-07.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "new.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _changes(old: Path, new: Path) -> set:
    before, problems = load_ruleset(old)
    after, more = load_ruleset(new)
    assert before is not None and after is not None, problems + more
    return {(c.section, c.item, c.field, c.kind, c.old, c.new, c.parts)
            for c in compare_rulesets(before, after)}


def test_a_change_of_layout_is_no_change(tmp_path, capsys):
    old = PINNED_RULES / HUMAN_EXPLOITATION / "2022-12-07.yaml"
    new = _edited(tmp_path, [(
        "    when: |\n      post.signals.offers_crossing\n      or (post.text mentions crossing"
        " or post.translation mentions crossing)\n         and (post.signals.price is known or"
        " any(c in post.signals.contacts))\n",
        "    when: post.signals.offers_crossing or ((post.text mentions crossing) or"
        " post.translation mentions crossing) and (post.signals.price is known  or  any(c in"
        " post.signals.contacts))  # one line\n")])
    assert _changes(old, new) == set()
    assert main(["diff", str(old), str(new)]) == 0
    assert "say the same thing" in capsys.readouterr().out


def test_changes_are_listed_by_what_they_touch(tmp_path):
    old = PINNED_RULES / HUMAN_EXPLOITATION / "2022-12-07.yaml"
    new = _edited(tmp_path, [
        ("        when: post.context.condemnation or post.context.awareness\n",
         "        when: |\n          post.context.condemnation or post.context.awareness\n"
         "          or post.context.news_reporting\n"),
        ("    values: {2019-09-03: 5}\n", "    values: {2019-09-03: 5, 2024-10-02: 3}\n"),
        ("    confidence: 0.7\n", "    confidence: 0.8\n"),
        ("      says: content that asks someone for a smuggling service\n",
         "      says: content that asks anyone for a smuggling service\n"),
        ("         >= page_violation_limit\n", "         > page_violation_limit\n"),
        ("    en: [small boat, jet boat, boat crossing, crossing, taxi to england, dinghy, "
         "lorry to uk]\n",
         "    en: [small boat, jet boat, speedboat, crossing, taxi to england, dinghy, "
         "lorry to uk]\n"),
    ])
    old_cite = "he, Do not post: content that asks someone for a smuggling service"
    new_cite = "he, Do not post: content that asks anyone for a smuggling service"
    assert _changes(old, new) == {
        ("rules", "smuggling-offer unless condemnation-or-awareness", "when", "changed",
         "post.context.condemnation or post.context.awareness",
         "post.context.condemnation or post.context.awareness or post.context.news_reporting",
         ((None, "post.context.news_reporting"),)),
        ("parameters", "page_violation_limit", "value from 2024-10-02", "added", None, "3", ()),
        ("lexicons", "crossing", "en", "removed", "boat crossing", None, ()),
        ("lexicons", "crossing", "en", "added", None, "speedboat", ()),
        ("rules", "page-for-smuggling", "confidence", "changed", "0.7", "0.8", ()),
        ("rules", "smuggling-request", "cites", "removed", old_cite, None, ()),
        ("rules", "smuggling-request", "cites", "added", None, new_cite, ()),
        ("rules", "page-for-smuggling", "when", "changed",
         "page.signals.advertises_smuggling or page.signals.dedicated or count(p in page.posts "
         "where (p violates smuggling-offer or p violates smuggling-request) and p.posted "
         "within counting_window before request.submitted) >= page_violation_limit",
         "page.signals.advertises_smuggling or page.signals.dedicated or count(p in page.posts "
         "where (p violates smuggling-offer or p violates smuggling-request) and p.posted "
         "within counting_window before request.submitted) > page_violation_limit",
         (("count(p in page.posts where (p violates smuggling-offer or p violates "
           "smuggling-request) and p.posted within counting_window before request.submitted) "
           ">= page_violation_limit",
           "count(p in page.posts where (p violates smuggling-offer or p violates "
           "smuggling-request) and p.posted within counting_window before request.submitted) "
           "> page_violation_limit"),)),
    }


def test_rules_and_exceptions_added_and_removed_between_the_pinned_versions():
    changes = _changes(PINNED_RULES / HUMAN_EXPLOITATION / "2019-09-03.yaml",
                       PINNED_RULES / HUMAN_EXPLOITATION / "2022-12-07.yaml")
    whole = {(c[1], c[3]) for c in changes if c[0] == "rules" and not c[2]}
    assert ("smuggling-request", "added") in whole
    assert ("smuggling-request unless safety-or-asylum-information", "added") in whole
    assert ("rule set", "", "version", "changed", "2019-09-03", "2022-12-07", ()) in changes


def test_the_parts_that_differ_are_the_smallest():
    def tree(text):
        node, problems = parse(text)
        assert node is not None, problems
        return node

    assert changed_parts(tree("count(p in page.posts where p.x) >= 5"),
                         tree("count(p in page.posts where p.x) >= 3")) == [("5", "3")]
    assert changed_parts(tree("a or b or c"), tree("c or (a) or b")) == [
        ("a or b or c", "c or a or b")]
    assert changed_parts(tree("a and b and c"), tree("a and d")) == [
        ("b", None), ("c", None), (None, "d")]
    assert changed_parts(tree("post.x and (post.y or post.z)"),
                         tree("post.x and (post.y or post.w)")) == [("post.z", "post.w")]
    assert changed_parts(tree("post.x"), tree("post.x")) == []


@pytest.mark.parametrize("form", ["text", "markdown"])
def test_reports_for_people_show_both_decisions_side_by_side(bundled_rules, capsys, form):
    status = main(["diff", str(bundled_rules / HUMAN_EXPLOITATION / "2022-12-07.yaml"),
                   str(bundled_rules / HUMAN_EXPLOITATION / "2023-12-05.yaml"),
                   "--corpus", str(FIXTURES / "meta" / "journalist-quotes-advert.json"),
                   "--rules", str(bundled_rules), "--format", form])
    out = capsys.readouterr().out
    assert status == 0
    assert "condemnation-awareness-or-news" in out
    header = next(line for line in out.splitlines() if "2022-12-07" in line and "2023-12-05"
                  in line and "->" not in line)
    assert header.index("2022-12-07") < header.index("2023-12-05")
    if form == "markdown":
        assert "| **outcome** | posts_removed | no_action |" in out


def test_usage_and_rule_errors_have_their_exit_codes(tmp_path, capsys):
    good = PINNED_RULES / HUMAN_EXPLOITATION / "2022-12-07.yaml"
    assert main(["diff", str(good), str(tmp_path / "missing.yaml")]) == 2
    broken = _edited(tmp_path, [("post.signals.solicits_smuggling\n",
                                 "post.signals.solicits_smugling\n")])
    assert main(["diff", str(good), str(broken)]) == 4
    assert "N001" in capsys.readouterr().err


# Every platform: each version change of its policy and enforcement rule sets

PLATFORMS = ("meta", "tiktok", "x", "youtube", "telegram")
VALIDATION = ROOT / "validation"


def _version_changes(registry, platform: str) -> list[tuple]:
    """(old, new) for each pair of consecutive versions of the platform's policy and
    enforcement rule sets, in the order they take over."""
    out = []
    for ruleset_id in registry.ids():
        versions = sorted(registry.versions(ruleset_id), key=lambda r: r.effective_from)
        if versions[0].platform == platform and versions[0].kind in ("policy", "enforcement"):
            out += zip(versions, versions[1:], strict=False)
    return sorted(out, key=lambda pair: (pair[1].effective_from, pair[1].id))


def _corpus(paths) -> list[tuple[str, object]]:
    """The evidence in `paths`, each named by its path from the repository root."""
    out = []
    for path in paths:
        evidence, problems = load_evidence(path)
        assert evidence is not None, (path, problems)
        out.append((str(path.relative_to(ROOT)), evidence))
    return out


def _decisive_changes(old, new, old_params: dict, new_params: dict) -> set[str] | None:
    """The ids of the rules whose decisive parts differ between two versions (condition,
    verdict, severity, subject, exceptions) or that read a parameter value or a lexicon
    that differs; None when priors are declared, which every weighing reads."""
    if old.priors or new.priors:
        return None
    out, names = set(), set()
    for change in compare_rulesets(old, new):
        if change.section == "lexicons":
            names.add(change.item)
        if change.section == "rules" and change.field in ("", "when", "verdict", "severity",
                                                          "applies_to", "priority"):
            out.add(change.item.split(" unless ")[0])
    names |= {k for k in old_params.keys() | new_params.keys()
              if old_params.get(k) != new_params.get(k)}
    for rule in old.rules + new.rules:
        read = set()
        for part in (rule, *rule.exceptions):
            if part.condition is not None:
                read |= set(re.findall(r"[A-Za-z_][\w-]*", unparse(part.condition)))
        if read & names:
            out.add(rule.id)
    return out


class _DayBeforeAndDayOf:
    """Decisions of one engine on the bundled rule sets, the day before a version takes
    over and the day it does, weighed only where the outcome can differ.

    The fast path (Kleene's logic, no weighing) says when it cannot: if every rule set in
    force gives the same results on both days, and every rule whose decisive parts
    changed is settled (holds or surely does not) on both, then it stays settled and the
    same on every branch the weighing could take, because assuming an unknown fact only
    settles more; so the weighed outcome is the same too. Everything else is decided in
    full."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.outcomes: dict = {}
        self.decisive: dict = {}  # the rules a change touches, by version pair

    def outcome(self, name: str, evidence, day: datetime.date) -> str:
        # Keyed by what is in force rather than by the date: the day one version takes
        # over and the day before the next one are usually judged by the same rule sets.
        state = tuple((r.id, r.version, tuple(sorted(r.parameter_values(day).items())))
                      for r in self.engine.rulesets_for(evidence.platform, day))
        if (name, state) not in self.outcomes:
            self.outcomes[name, state] = self.engine.check(evidence, day, explain=False).outcome
        return self.outcomes[name, state]

    def flips(self, corpus, new, first: bool = False) -> dict[str, tuple[str, str]]:
        """The decisions of `corpus` that flip on the day `new` takes over; with `first`,
        only the first found."""
        day = new.effective_from
        eve = day - datetime.timedelta(days=1)
        out = {}
        for name, evidence in corpus:
            if not new.covers(evidence.platform) or self._surely_same(evidence, eve, day):
                continue
            before, after = self.outcome(name, evidence, eve), self.outcome(name, evidence, day)
            if before != after:
                out[name] = (before, after)
                if first:
                    break
        return out

    def _surely_same(self, evidence, eve: datetime.date, day: datetime.date) -> bool:
        before = {run.ruleset.id: run for run in self.engine.run(evidence, eve)[0]}
        after = {run.ruleset.id: run for run in self.engine.run(evidence, day)[0]}
        if before.keys() != after.keys():
            return False
        for ruleset_id, old_run in before.items():
            new_run = after[ruleset_id]
            old, new = old_run.ruleset, new_run.ruleset
            if old.version == new.version and old_run.params == new_run.params:
                continue
            key = (old.id, old.version, new.version, repr(sorted(old_run.params.items())),
                   repr(sorted(new_run.params.items())))
            if key not in self.decisive:
                self.decisive[key] = _decisive_changes(old, new, old_run.params, new_run.params)
            changed = self.decisive[key]
            if changed is None:
                return False
            old_results = {(r.rule, r.post): r for r in old_run.evaluation.results}
            new_results = {(r.rule, r.post): r for r in new_run.evaluation.results}
            for key in old_results.keys() | new_results.keys():
                a, b = old_results.get(key), new_results.get(key)
                if key[0] in changed:
                    # A rule that surely does not hold counts as one that is not there.
                    if (a.holds if a else False) is None or (b.holds if b else False) is None:
                        return False
                    if (a.holds if a else False) != (b.holds if b else False):
                        return False
                elif (a is None) != (b is None) or (a and (a.fires, a.holds, a.exceptions)
                                                    != (b.fires, b.holds, b.exceptions)):
                    return False
        return True


@pytest.fixture(scope="module")
def day_before_and_day_of(engine) -> _DayBeforeAndDayOf:
    return _DayBeforeAndDayOf(engine)


@pytest.fixture(scope="module")
def fixtures_and_cases() -> tuple[list, list]:
    """The fixtures with an expected decision, and the validation cases."""
    return _corpus(fixture_paths()), _corpus(sorted(VALIDATION.rglob("*.json")))


def _rulesets_with_versions() -> list[str]:
    """The id of each rule set of these platforms that has more than one version, from
    the folders (one folder a rule set, named after it), without loading them."""
    return sorted(f"{folder.parent.name}.{folder.name}" for platform in PLATFORMS
                  for folder in (RULES / platform).iterdir()
                  if len(list(folder.glob("*.yaml"))) > 1)


@pytest.mark.parametrize("ruleset_id", _rulesets_with_versions())
def test_every_version_change_that_flips_a_decision_has_a_fixture_that_flips(
        engine, day_before_and_day_of, fixtures_and_cases, ruleset_id):
    """Over the fixtures and the validation cases, each version change of a platform's
    policy or enforcement rule set that flips some decision on the day it takes over
    flips at least one fixture with an expected decision: the change is shown by an
    example, not only by a real case that happens to cross it. (The cases are read only
    for the changes that flip no fixture: one flip settles a change.)"""
    fixtures, cases = fixtures_and_cases
    platform = ruleset_id.split(".")[0]
    changes = [c for c in _version_changes(engine.registry, platform) if c[1].id == ruleset_id]
    assert changes, f"{ruleset_id}: no versions of a policy or enforcement rule set"
    unshown = {}
    for old, new in changes:
        if day_before_and_day_of.flips(fixtures, new, first=True):
            continue
        flips = day_before_and_day_of.flips(cases, new)
        if flips:
            unshown[f"{new.id} {old.version} -> {new.version}"] = flips
    assert not unshown, f"version changes no fixture shows flipping: {unshown}"


def _takes_over_alone(registry, new) -> bool:
    """Whether nothing but `new` changes for its platform on the day it takes over."""
    day = new.effective_from
    for ruleset in registry:
        if ruleset.id != new.id and ruleset.covers(new.platform):
            dates = {ruleset.effective_from, ruleset.effective_until}
            dates |= {start for p in ruleset.parameters.values() for start, _ in p.values}
            if day in dates:
                return False
    return True


# A couple of changes for each platform, each of which flips fixtures: diff is run on
# these; the test above covers every change with the cheaper day-before, day-of reading.
# (Meta's human-exploitation policy has its own tests above.)
ON_THE_DAY = [("tiktok.account-enforcement", "2023-02-02"), ("tiktok.human-smuggling", "2020-01-08"),
              ("youtube.strikes", "2019-02-25"), ("telegram.terms-of-service", "2024-09-24")]
# Changes on a day another rule set of the platform also changes: judged on the date diff
# documents, with only one version of the rule set left.
DOCUMENTED_DATE = [("x.enforcement", "2019-04-01"), ("tiktok.human-smuggling", "2024-05-17")]


def _pair(registry, ruleset_id: str, version: str) -> tuple:
    versions = sorted(registry.versions(ruleset_id), key=lambda r: r.effective_from)
    index = next(i for i, r in enumerate(versions) if r.version == version)
    return versions[index - 1], versions[index]


def _fixture_corpus(new) -> list:
    return [(fixture_id(path), evidence) for path, evidence in _covered_fixtures(new)]


@pytest.mark.parametrize(("ruleset_id", "version"), ON_THE_DAY)
def test_on_the_day_a_version_takes_over_diff_flips_what_the_bundled_rule_sets_flip(
        engine, day_before_and_day_of, ruleset_id, version):
    old, new = _pair(engine.registry, ruleset_id, version)
    assert _takes_over_alone(engine.registry, new), f"{ruleset_id} {version} shares its day"
    corpus = _fixture_corpus(new)
    expected = day_before_and_day_of.flips(corpus, new)
    assert expected, "the change flips no fixture: this test would prove nothing"
    report = compare_corpus(old, new, engine.registry, ((n, e, []) for n, e in corpus),
                            as_of=new.effective_from)
    assert {c.evidence: (c.old.outcome, c.new.outcome) for c in report.flips} == expected


@pytest.mark.parametrize(("ruleset_id", "version"), DOCUMENTED_DATE)
def test_diff_lists_the_flips_of_one_version_change_on_any_platform(engine, ruleset_id,
                                                                      version):
    # Each version as its own file declares it, open-ended, as `takedown diff` reads it.
    platform, name = ruleset_id.split(".", 1)
    versions = [v.version for v in _pair(engine.registry, ruleset_id, version)]
    old, new = (load_ruleset(RULES / platform / name / f"{v}.yaml")[0] for v in versions)
    others = [r for r in engine.registry if r.id != ruleset_id]
    old_engine = Engine(Registry(others + [old]))
    new_engine = Engine(Registry(others + [new]))
    corpus = _fixture_corpus(new)
    expected = {}
    for name, evidence in corpus:
        day = max(evidence.submitted, old.effective_from, new.effective_from)
        before = old_engine.check(evidence, day, explain=False).outcome
        after = new_engine.check(evidence, day, explain=False).outcome
        if before != after:
            expected[name] = (before, after)
    assert expected, "the change flips no fixture: this test would prove nothing"
    report = compare_corpus(old, new, engine.registry, ((n, e, []) for n, e in corpus))
    assert {c.evidence: (c.old.outcome, c.new.outcome) for c in report.flips} == expected
