"""`takedown test --coverage`: what the tests embedded in each rule-set version exercised
of it, collected on the traced path, and `--fail-under`.

Most tests use one small rule set, `POLICY`, whose items are known by heart: a post rule
with an exception, a page rule comparing a count with a parameter whose value changes
during the version, and a `within` window on another parameter. Each test adds the
embedded tests it needs and checks exactly which sides of which items they showed.
"""

import json
import shutil
from pathlib import Path

import pytest

from engine import Engine
from engine.authoring.coverage import Coverage, thresholds_of
from engine.authoring.testing import run_tests
from engine.cli import main
from engine.cli.test import COVERAGE_JSON
from rules import ExpressionOrigin, Scope, check_condition, load_registry, parse, unparse
from rules import types as t
from tests.engine.support import FIXTURES, RULES

POLICY = """\
ruleset: meta.smuggling
platform: meta
surfaces: [facebook, instagram]
version: "2023-01-01"
effective: {from: 2023-01-01}
language: 1
sources:
  he:
    title: "Meta Community Standards: Human Exploitation"
    url: https://transparency.meta.com/policies/community-standards/human-exploitation/
    retrieved: 2023-01-01
parameters:
  page_violation_limit:
    unit: count
    values: {2019-09-03: 3, 2023-06-01: 2, 2030-01-01: 1}
  counting_window:
    unit: days
    values: {2019-09-03: 90}
rules:
  smuggling-offer:
    applies_to: post
    cites:
      source: he
      section: Do not post
      says: posts may not offer to smuggle people across borders
    when: post.signals.offers_crossing
    verdict: violates
    unless:
      condemnation:
        cites:
          source: he
          section: Policy rationale
          says: posts that denounce smuggling are allowed
        when: post.context.condemnation
        verdict: allowed
  page-for-smuggling:
    applies_to: page
    cites:
      source: he
      section: Do not post
      says: a Page that keeps offering crossings is removed
    when: |
      count(p in page.posts
            where p violates smuggling-offer
              and p.posted within counting_window before request.submitted)
        >= page_violation_limit
    verdict: remove_page
"""

NEXT = POLICY.replace('version: "2023-01-01"\neffective: {from: 2023-01-01}',
                      'version: "2024-01-01"\neffective: {from: 2024-01-01}')


def post(pid: str, posted: str, offers: bool | None, condemnation: bool | None = False) -> dict:
    out = {"id": pid, "posted": posted, "text": "Boat to England on Saturday",
           "signals": {}, "context": {}}
    if offers is not None:
        out["signals"]["offers_crossing"] = offers
    if condemnation is not None:
        out["context"]["condemnation"] = condemnation
    return out


def case(name: str, submitted: str, posts: list[dict], expect: dict, as_of: str = "") -> str:
    """One embedded test, as YAML (JSON is YAML), indented under `tests:`."""
    document = {"name": name,
                "evidence": {"request": {"id": "t", "submitted": submitted},
                             "target": {"platform": "facebook", "kind": "page",
                                        "posts": posts}},
                "expect": expect}
    if as_of:
        document["as_of"] = as_of
    return "  - " + json.dumps(document) + "\n"


ONE_ADVERT = case("one advert is removed, the Page stays", "2023-03-01",
                  [post("p1", "2023-02-20", True)], {"outcome": "posts_removed"})
CONDEMNED = case("a post condemning smugglers stays up", "2023-03-01",
                 [post("p1", "2023-02-20", True, condemnation=True)], {"outcome": "no_action"})
TWO_ADVERTS_LATER = case("two recent adverts bring the Page down from June 2023", "2023-07-01",
                         [post("p1", "2023-06-20", True), post("p2", "2023-06-21", True),
                          post("p3", "2022-01-01", True), post("p4", "2023-06-22", False)],
                         {"outcome": "page_removed"})


def write(directory: Path, *files: tuple[str, str]) -> Path:
    folder = directory / "rules" / "meta" / "smuggling"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (folder / name).write_text(text, encoding="utf-8")
    return directory / "rules"


def key(item) -> tuple:
    """How the tests below name an item: (kind, name), and for a parameter value the
    first day of its period too."""
    if item.kind == "parameter":
        return item.kind, item.name, str(item.period[0])
    return item.kind, item.name


def covered(tmp_path: Path, *files: tuple[str, str]) -> dict:
    """{version: {key(item): item}} for the rule sets in `files`, from the API."""
    registry, diagnostics = load_registry([write(tmp_path, *files)])
    assert not [d for d in diagnostics if d.is_error], diagnostics
    coverage = Coverage()
    results = run_tests(Engine(registry), list(registry), coverage)
    assert all(r.passed for r in results), [r.failures for r in results]
    return {c.ruleset.version: {key(i): i for i in c.items} for c in coverage.report()}


def sides(item) -> dict:
    return {side: len(item.seen.get(side, ())) for side in item.sides}


def test_one_test_shows_one_side_of_each_item(tmp_path):
    items = covered(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n" + ONE_ADVERT))["2023-01-01"]

    assert sides(items["rule", "smuggling-offer"]) == {"fires": 1, "does_not_fire": 0}
    assert sides(items["exception", "condemnation"]) == {"taken": 0, "not_taken": 1}
    assert sides(items["rule", "page-for-smuggling"]) == {"fires": 0, "does_not_fire": 1}
    count = ("threshold", "count(p in page.posts where p violates smuggling-offer and p.posted "
             "within counting_window before request.submitted) >= page_violation_limit")
    window = ("threshold", "p.posted within counting_window before request.submitted")
    assert sides(items[count]) == {"met": 0, "missed": 1}
    assert sides(items[window]) == {"met": 1, "missed": 0}
    assert items[count].owner == items[window].owner == "page-for-smuggling"
    assert not any(i.is_covered for i in items.values() if i.kind != "parameter")


def test_tests_together_cover_both_sides(tmp_path):
    text = POLICY + "tests:\n" + ONE_ADVERT + CONDEMNED + TWO_ADVERTS_LATER
    items = covered(tmp_path, ("2023-01-01.yaml", text))["2023-01-01"]

    assert all(i.is_covered for i in items.values() if i.kind != "parameter"), [
        (i.kind, i.name, i.missing) for i in items.values() if not i.is_covered]
    offer = items["rule", "smuggling-offer"]
    assert offer.seen["does_not_fire"] == ("two recent adverts bring the Page down from June 2023",)
    assert items["exception", "condemnation"].seen["taken"] == (
        "a post condemning smugglers stays up",)


def test_parameter_values_count_in_their_period_within_the_version(tmp_path):
    text = POLICY + "tests:\n" + ONE_ADVERT
    files = [("2023-01-01.yaml", text), ("2024-01-01.yaml", NEXT)]
    by_version = covered(tmp_path, *files)
    values = [i for i in by_version["2023-01-01"].values() if i.kind == "parameter"]

    # The limit of 3 from 2019 is in force from the version's start; 2 from 2023-06-01 to
    # the next version; 1 from 2030 never during this version, so it is no item of it.
    periods = {(i.name, str(i.period[0]), str(i.period[1])) for i in values}
    assert periods == {("page_violation_limit", "2023-01-01", "2023-06-01"),
                       ("page_violation_limit", "2023-06-01", "2024-01-01"),
                       ("counting_window", "2023-01-01", "2024-01-01")}
    used = {(i.name, str(i.period[0])) for i in values if i.is_covered}
    assert used == {("page_violation_limit", "2023-01-01"), ("counting_window", "2023-01-01")}
    # The last version runs on: the value of 2030 is one of its items.
    later = [i for i in by_version["2024-01-01"].values() if i.kind == "parameter"]
    assert {(i.name, str(i.period[0]), str(i.period[1])) for i in later} == {
        ("page_violation_limit", "2024-01-01", "2030-01-01"),
        ("page_violation_limit", "2030-01-01", "None"), ("counting_window", "2024-01-01", "None")}


def test_only_the_tests_of_a_version_count_for_it(tmp_path):
    # The test in the 2023 file is judged on its own version; the 2024 file has none.
    files = [("2023-01-01.yaml", POLICY + "tests:\n" + ONE_ADVERT + CONDEMNED),
             ("2024-01-01.yaml", NEXT)]
    by_version = covered(tmp_path, *files)

    assert not any(i.seen for i in by_version["2024-01-01"].values())
    assert any(i.seen for i in by_version["2023-01-01"].values())


def test_other_rule_sets_evaluated_by_a_test_gain_nothing(tmp_path):
    other = POLICY.replace("ruleset: meta.smuggling", "ruleset: meta.smuggling-copy")
    files = [("2023-01-01.yaml", POLICY + "tests:\n" + ONE_ADVERT)]
    registry, _ = load_registry([write(tmp_path, *files)])
    copy, _ = load_registry([write(tmp_path / "other", ("2023-01-01.yaml", other))])
    both = list(registry) + list(copy)
    from rules import Registry

    coverage = Coverage()
    run_tests(Engine(Registry(both)), both, coverage)
    report = {c.ruleset.id: c for c in coverage.report()}

    assert report["meta.smuggling"].count("rule")[0] == 0  # one side each, none covered
    assert any(i.seen for i in report["meta.smuggling"].items)
    assert report["meta.smuggling-copy"].tests == 0
    assert not any(i.seen for i in report["meta.smuggling-copy"].items)


def test_unknown_answers_cover_no_side(tmp_path):
    unassessed = case("an unassessed post leaves the offer unknown", "2023-03-01",
                      [post("p1", "2023-02-20", None, condemnation=None)],
                      {"bounds": {"lower": "no_action", "upper": "posts_removed"}})
    items = covered(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n" + unassessed))["2023-01-01"]

    offer = items["rule", "smuggling-offer"]
    assert not offer.seen and offer.unknown == ("an unassessed post leaves the offer unknown",)
    assert offer.missing == ("fires", "does_not_fire")


def test_thresholds_are_comparisons_and_windows_that_read_a_parameter():
    scope = Scope("page", {"limit": t.COUNT, "window": t.DURATION}, frozenset(), {}, "policy")

    def found(text: str) -> list[str]:
        node, _ = parse(text)
        result = check_condition(node, scope, ExpressionOrigin.plain(text))
        return [unparse(x) for x in thresholds_of(result.condition)]

    assert found("page.followers >= 5") == []
    assert found("page.followers >= 5 and page.followers < limit") == ["page.followers < limit"]
    # The window inside the quantifier is a threshold; the count compared with 2 is not.
    assert found("count(p in page.posts where p.posted within window before "
                 "request.submitted) + 1 >= 2") == [
        "p.posted within window before request.submitted"]
    assert found("page.created within window * 2 before request.submitted") == [
        "page.created within window * 2 before request.submitted"]


def test_coverage_does_not_change_what_tests_decide(tmp_path):
    registry, _ = load_registry([write(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n"
                                                  + ONE_ADVERT + TWO_ADVERTS_LATER))])
    plain = run_tests(Engine(registry), list(registry))
    measured = run_tests(Engine(registry), list(registry), Coverage())
    assert [(r.passed, r.actual) for r in plain] == [(r.passed, r.actual) for r in measured]


# The command line

def test_cli_prints_a_table_and_writes_json_to_the_default_path(tmp_path, monkeypatch, capsys):
    rules_dir = write(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n" + ONE_ADVERT),
                      ("2024-01-01.yaml", NEXT))
    monkeypatch.chdir(tmp_path)
    assert main(["test", "--rules", str(rules_dir), "--coverage"]) == 0
    out = capsys.readouterr().out

    assert "1 passed, 0 failed" in out
    rows = {line.split()[1]: line.split() for line in out.splitlines()
            if line.startswith("meta.smuggling")}
    assert rows["2023-01-01"][2:5] == ["1", "0/2", "0/1"]  # tests, rules, exceptions
    assert rows["2024-01-01"][2] == "0" and rows["2024-01-01"][-1] == "0%"
    assert "rule `smuggling-offer`: no test shows it not firing" in out
    assert "exception `condemnation`: no test shows it taken" in out

    document = json.loads((tmp_path / COVERAGE_JSON).read_text(encoding="utf-8"))
    assert [(r["ruleset"], r["version"], r["tests"]) for r in document["rulesets"]] == [
        ("meta.smuggling", "2023-01-01", 1), ("meta.smuggling", "2024-01-01", 0)]
    first = document["rulesets"][0]
    assert first["summary"]["rules"] == {"covered": 0, "total": 2}
    offer = next(i for i in first["items"] if i["name"] == "smuggling-offer")
    assert offer == {"kind": "rule", "name": "smuggling-offer", "line": 20, "covered": False,
                     "missing": ["does_not_fire"],
                     "seen": {"fires": ["one advert is removed, the Page stays"],
                              "does_not_fire": []}}
    assert document["total"]["tests"] == 1


def test_cli_fail_under(tmp_path, capsys):
    text = POLICY + "tests:\n" + ONE_ADVERT + CONDEMNED + TWO_ADVERTS_LATER
    rules_dir = write(tmp_path, ("2023-01-01.yaml", text))
    report = tmp_path / "coverage.json"
    arguments = ["test", "--rules", str(rules_dir), "--coverage-json", str(report)]

    assert main([*arguments, "--fail-under", "50"]) == 0
    percent = json.loads(report.read_text(encoding="utf-8"))["rulesets"][0]["percent"]
    assert 50 < percent < 100  # the 2030 value of the limit is never used
    capsys.readouterr()
    assert main([*arguments, "--fail-under", "100"]) == 1
    err = capsys.readouterr().err
    assert f"coverage under 100%: meta.smuggling 2023-01-01 ({percent:.1f}%)" in err


@pytest.mark.parametrize("value", ["120", "-1", "most"])
def test_cli_fail_under_must_be_a_percentage(value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["test", "--fail-under", value])
    assert stop.value.code == 2


def test_cli_verbose_lists_covered_items(tmp_path, capsys):
    rules_dir = write(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n" + ONE_ADVERT
                                 + CONDEMNED + TWO_ADVERTS_LATER))
    assert main(["test", "--rules", str(rules_dir), "--coverage-json",
                 str(tmp_path / "c.json"), "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "rule `smuggling-offer`: covered" in out
    assert "parameter `page_violation_limit` from 2030-01-01 on: no test judged in its " \
           "period reads it" in out


# The bundled rule sets: the goal this report exists for.

def test_every_bundled_rule_and_exception_is_tested_both_ways(tmp_path):
    # A copy, as the other engine tests read: the rule files are edited while tests run.
    # Their tests name fixtures by relative path, so the fixtures come along.
    for folder in (RULES, FIXTURES):
        shutil.copytree(folder, tmp_path / folder.name)
    registry, _ = load_registry([tmp_path / RULES.name])
    coverage = Coverage()
    results = run_tests(Engine(registry), list(registry), coverage)
    assert [r.case.name for r in results if not r.passed] == []
    untested = [f"{c.ruleset.path}:{item.line}: {item.describe()} misses {item.missing}"
                for c in coverage.report() for item in c.items
                if item.kind in ("rule", "exception") and not item.is_covered]
    assert untested == []
