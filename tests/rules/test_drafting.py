"""Drafting advice (`takedown lint --drafting`, rules/drafting.py): what a reviewer looks
for in a rule file that is otherwise valid. The rows of tests/rules/test_codes.py produce
each code once; these tests pin where each check stops, and that the items of the
drafting checklist already covered by always-on checks stay covered."""

import datetime
import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.cli.common import DEFAULT_RULES
from rules import load_registry, load_text
from rules.drafting import COPIED_WORDS, STALE_AFTER_DAYS, check_drafting
from tests.rules.test_codes import BASE, before_rules, changed, with_exceptions

TODAY = datetime.date(2023, 1, 1)  # BASE's source was read on 2022-12-07
SAYS = "says: offers to smuggle people across borders}"
EXCERPT = ("We do not allow content that offers or asks for smuggling of people across "
           "international borders, or that helps others to do so.")


def advice(text: str, today: datetime.date = TODAY, **options) -> list[tuple[str, str]]:
    """(code, message) of the drafting advice on `text`, which must load cleanly."""
    ruleset, diagnostics = load_text(text, "rules.yaml")
    assert ruleset is not None, [(d.code, d.message) for d in diagnostics]
    return [(d.code, d.message) for d in check_drafting(text, "rules.yaml", today, **options)]


def with_excerpt(text: str, excerpt: str = EXCERPT) -> str:
    return changed("    retrieved: 2022-12-07\n",
                   f"    retrieved: 2022-12-07\n    excerpts:\n      - {json.dumps(excerpt)}\n",
                   text)


def test_base_needs_no_advice():
    assert advice(BASE) == []


def test_the_bundled_rule_sets_need_no_advice_on_the_day_they_were_read():
    registry, _ = load_registry([DEFAULT_RULES])
    found = []
    for ruleset in registry:
        read = max(s.retrieved for s in ruleset.sources.values())
        found += check_drafting(Path(ruleset.path).read_bytes(), ruleset.path, read)
    assert [(d.location.file, d.code, d.message) for d in found] == []


# W006: the paraphrase

@pytest.mark.parametrize(("says", "problem"), [
    ('" "', "is empty"),
    ('"..."', "has no words: '...'"),
    ("TBD", "is a placeholder: 'TBD'"),
    ("TODO paraphrase the clause", "is a placeholder: 'TODO paraphrase the clause'"),
    ("do not post", "only repeats the section heading"),
    ('"Meta Community Standards: Human Exploitation"', "only repeats the source's title"),
])
def test_a_paraphrase_that_says_nothing(says: str, problem: str):
    assert advice(changed(SAYS, f"says: {says}}}")) == [
        ("W006", f"the paraphrase of `smuggling-offer` {problem}")]


def test_exceptions_and_lists_of_citations_are_read_too():
    text = with_exceptions(
        "      condemnation:\n"
        "        cites:\n"
        "          - {source: he, section: Policy rationale, says: condemning smuggling is allowed}\n"
        "          - {source: he, section: Policy rationale, says: tbd}\n"
        "        when: post.context.condemnation\n"
        "        verdict: allowed\n")
    assert advice(text) == [("W006", "the paraphrase of `condemnation` is a placeholder: 'tbd'")]


def test_a_short_paraphrase_in_other_words_is_fine():
    assert advice(changed(SAYS, "says: no selling of crossings}")) == []


# W007 and W009: when the source was read

def test_a_source_is_stale_after_a_year_by_default():
    read = datetime.date(2022, 12, 7)
    assert advice(BASE, read + datetime.timedelta(days=STALE_AFTER_DAYS)) == []
    later = read + datetime.timedelta(days=STALE_AFTER_DAYS + 1)
    assert advice(BASE, later) == [
        ("W007", f"the source `he` was read on 2022-12-07, 366 days before {later}")]


def test_the_age_of_staleness_is_an_option():
    assert [c for c, _ in advice(BASE, datetime.date(2023, 3, 8), stale_after_days=90)] == ["W007"]


def test_a_source_read_after_today():
    assert advice(BASE, datetime.date(2022, 12, 6)) == [
        ("W009", "the source `he` was read on 2022-12-07, after 2022-12-06")]


# W008: copying the source

def test_a_copied_run_of_words_is_found_whatever_the_case_accents_and_punctuation():
    says = 'says: "Content that OFFERS, or asks for, smuggling of people across international borders"}'
    (found,) = check_drafting(with_excerpt(changed(SAYS, says)), "rules.yaml", TODAY)
    assert (found.code, found.message) == (
        "W008", "the paraphrase of `smuggling-offer` copies 12 words of excerpt 1 of source `he`")
    # The caret runs under the copied words, from `Content` to `borders`.
    line = with_excerpt(changed(SAYS, says)).splitlines()[found.location.line - 1]
    assert line[found.location.column - 1:found.location.end_column - 1] == (
        "Content that OFFERS, or asks for, smuggling of people across international borders")


def test_fewer_words_in_common_are_a_paraphrase():
    words = EXCERPT.split()[3:3 + COPIED_WORDS - 1]  # seven words of the excerpt
    says = f"says: {' '.join(words)} is not allowed}}"
    assert advice(with_excerpt(changed(SAYS, says))) == []
    longer = EXCERPT.split()[3:3 + COPIED_WORDS]
    assert [c for c, _ in advice(with_excerpt(changed(SAYS, f"says: {' '.join(longer)}}}")))] == [
        "W008"]


def test_copies_of_the_title_or_note_and_in_a_description_are_found():
    note = ("    note: the change log says that the policy now covers asking to be smuggled "
            "across a border\n")
    text = changed("    retrieved: 2022-12-07\n", "    retrieved: 2022-12-07\n" + note)
    text = changed("    verdict: violates\n",
                   "    verdict: violates\n    description: since 2022 the policy now covers "
                   "asking to be smuggled across a border too\n", text)
    assert advice(text) == [
        ("W008", "the description of `smuggling-offer` copies 11 words of the note of source `he`")]


def test_only_the_cited_source_is_compared():
    other = ("  other:\n    title: Another document\n"
             "    url: https://transparency.meta.com/policies/other/\n"
             "    retrieved: 2022-12-07\n"
             f"    excerpts: [{json.dumps(EXCERPT)}]\n")
    text = changed("rules:\n", other + "rules:\n",
                   changed(SAYS, "says: content that offers or asks for smuggling of people "
                                 "across international borders}"))
    assert advice(text) == []


def test_excerpts_are_checked_by_the_schema():
    text = changed("    retrieved: 2022-12-07\n",
                   "    retrieved: 2022-12-07\n    excerpts: We do not allow smuggling.\n")
    _, diagnostics = load_text(text, "rules.yaml")
    assert [(d.code, d.pointer) for d in diagnostics] == [("S003", "/sources/he/excerpts")]


# The rest of the drafting checklist is checked on every run, before any advice.

@pytest.mark.parametrize(("code", "pointer", "text"), [
    ("S001", "/rules/smuggling-offer",
     changed("    cites: {source: he, section: Do not post, " + SAYS + "\n", "")),
    ("S001", "/sources/he", changed("    retrieved: 2022-12-07\n", "")),
    ("S001", "/parameters/price_floor",
     before_rules("parameters:\n  price_floor:\n    values: {2019-09-03: 5}\n")),
    ("W001", "/parameters/limit",
     before_rules("parameters:\n  limit:\n    unit: count\n    values: {2019-09-03: 5}\n"
                  "    estimated: press reports\n")),
    ("R003", "/rules/smuggling-offer/unless/uk-only",
     with_exceptions(*(f"      {name}:\n"
                       "        cites: {source: he, section: Policy rationale, says: it is allowed}\n"
                       f"        when: {when}\n        verdict: {verdict}\n"
                       for name, when, verdict in (
                           ("news", "post.context.news_reporting", "allowed"),
                           ("uk-only", 'post.language == "en"', "geo_block"))))),
    ("W003", "/lexicons/crossing",
     before_rules('lexicons:\n  crossing:\n    en: [small boat, "!!"]\n')),
])
def test_the_checklist_items_that_are_always_checked(code: str, pointer: str, text: str):
    _, diagnostics = load_text(text, "rules.yaml")
    assert any(d.code == code and d.pointer.startswith(pointer) for d in diagnostics), [
        (d.code, d.pointer) for d in diagnostics]


# The command line

def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def codes_of(capsys) -> list[str]:
    return [d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]]


def test_cli_gives_advice_only_when_asked(tmp_path, capsys):
    path = write(tmp_path, changed(SAYS, "says: TODO}"))
    assert main(["lint", "--format", "json", str(path)]) == 0
    assert codes_of(capsys) == []
    assert main(["lint", "--format", "json", "--drafting", "--today", "2023-01-01",
                 str(path)]) == 0  # advice is never an error
    assert codes_of(capsys) == ["W006"]


def test_cli_today_and_stale_after(tmp_path, capsys):
    path = write(tmp_path, BASE)
    main(["lint", "--format", "json", "--drafting", "--today", "2023-06-01", str(path)])
    assert codes_of(capsys) == []
    main(["lint", "--format", "json", "--drafting", "--today", "2023-06-01",
          "--stale-after", "30", str(path)])
    assert codes_of(capsys) == ["W007"]


def test_cli_defaults_to_the_real_date(tmp_path, capsys):
    path = write(tmp_path, BASE)  # read in 2022: more than a year before any day this runs
    main(["lint", "--format", "json", "--drafting", str(path)])
    assert codes_of(capsys) == ["W007"]


def test_cli_gives_no_advice_on_a_file_with_errors(tmp_path, capsys):
    path = write(tmp_path, changed(SAYS, "says: TODO}", changed("verdict: violates",
                                                               "verdict: remove")))
    assert main(["lint", "--format", "json", "--drafting", "--today", "2023-01-01",
                 str(path)]) == 1
    assert codes_of(capsys) == ["S004"]


def test_cli_refuses_a_date_that_is_not_one(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["lint", "--drafting", "--today", "tomorrow", str(write(tmp_path, BASE))])
    assert stop.value.code == 2
