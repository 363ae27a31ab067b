"""`takedown test`: the tests embedded in rule files, their report, and the JUnit XML that
CI systems read, checked with a standard JUnit parser (junitparser)."""

import json
import shutil

from junitparser import Failure, JUnitXml

from engine.cli import main
from tests.engine.support import FIXTURES, RULES
from tests.engine.test_coverage import CONDEMNED, ONE_ADVERT, POLICY, case, post, write

FAILING = case("an advert is expected to bring the Page down, and does not", "2023-03-01",
               [post("p1", "2023-02-20", True)], {"outcome": "page_removed"})


def test_junit_xml_is_read_by_a_junit_parser(tmp_path, capsys):
    rules_dir = write(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n" + ONE_ADVERT + CONDEMNED
                                 + FAILING))
    report = tmp_path / "junit.xml"
    assert main(["test", "--rules", str(rules_dir), "--junit", str(report)]) == 1
    assert "2 passed, 1 failed" in capsys.readouterr().out

    xml = JUnitXml.fromfile(str(report))
    suites = list(xml)
    assert [s.name for s in suites] == ["meta.smuggling@2023-01-01"]
    (suite,) = suites
    assert (suite.tests, suite.failures) == (3, 1)
    cases = {c.name: c for c in suite}
    assert set(cases) == {json.loads(t[4:])["name"] for t in (ONE_ADVERT, CONDEMNED, FAILING)}
    failing = cases["an advert is expected to bring the Page down, and does not"]
    assert not failing.is_passed and failing.classname == "meta.smuggling.2023-01-01"
    (failure,) = failing.result
    assert isinstance(failure, Failure)
    assert failure.message == "outcome: expected page_removed, got posts_removed"
    assert "bounds posts_removed .. posts_removed" in failure.text
    assert all(c.is_passed and c.result == [] for n, c in cases.items() if c is not failing)
    assert all(c.time >= 0 for c in suite)


def test_junit_xml_of_the_bundled_tests(tmp_path, capsys):
    for folder in (RULES, FIXTURES):
        shutil.copytree(folder, tmp_path / folder.name)
    report = tmp_path / "junit.xml"
    status = main(["test", "--rules", str(tmp_path / RULES.name), "--junit", str(report)])
    summary = capsys.readouterr().out.splitlines()[-1]
    assert status == 0, summary

    xml = JUnitXml.fromfile(str(report))
    passed = int(summary.split()[0])
    assert xml.tests == passed and xml.failures == 0
    assert sum(s.tests for s in xml) == passed == sum(1 for s in xml for _ in s)
    assert "meta.human-exploitation@2022-12-07" in {s.name for s in xml}


def test_a_test_judged_outside_its_version_fails(tmp_path, capsys):
    outside = case("judged before the version starts", "2023-03-01",
                   [post("p1", "2023-02-20", True)], {"outcome": "posts_removed"},
                   as_of="2022-06-01")
    rules_dir = write(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n" + outside))
    assert main(["test", "--rules", str(rules_dir)]) == 1
    out = capsys.readouterr().out
    assert "the case runs as of 2022-06-01, when version 2023-01-01 was not in force" in out


def test_only_the_named_files_are_tested(tmp_path, capsys):
    rules_dir = write(tmp_path, ("2023-01-01.yaml", POLICY + "tests:\n" + ONE_ADVERT + FAILING),
                      ("2024-01-01.yaml", POLICY.replace('"2023-01-01"', '"2024-01-01"').replace(
                          "{from: 2023-01-01}", "{from: 2024-01-01}") + "tests:\n"
                       + case("an advert in 2024", "2024-03-01", [post("p1", "2024-02-20", True)],
                              {"outcome": "posts_removed"})))
    newer = rules_dir / "meta" / "smuggling" / "2024-01-01.yaml"
    assert main(["test", "--rules", str(rules_dir), "--verbose", str(newer)]) == 0
    out = capsys.readouterr().out
    assert "ok   " in out and "an advert in 2024" in out and "1 passed, 0 failed" in out
