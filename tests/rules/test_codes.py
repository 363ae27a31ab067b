"""Every diagnostic code in rules.codes has a test that produces it.

The table `CASES` is the test: each row is a small, realistic rule file made from `BASE`,
a minimal valid rule set, with one change, and names the code that change must produce.
For expression errors the row also gives the line and column in the YAML file, counted by
hand, so that a position computed inside the expression string and mapped back to the
file (through plain, quoted, literal `|` and folded `>` scalars) is checked exactly.
Version codes need two files of one rule set, loaded together by `load_registry`; V007
needs a request that no rule set covers, checked with `takedown check`.

The E family (evidence) is produced by the engine, not by rule files, and is left out; so
is the X family (signal extraction), whose codes tests/engine/test_extraction.py produces,
the D family (statements of reasons), whose codes tests/audit/test_statements.py produces,
and the B family (batches on a Dask cluster), whose codes tests/engine/test_cluster.py produces.
"""

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli import main
from rules import drafting, load_registry, load_text
from rules.checker import MAX_PATTERN_LENGTH
from rules.codes import REGISTRY, explain
from rules.document import MAX_FILE_BYTES, MAX_NESTING
from rules.lexicon import MAX_ENTRIES
from rules.parser import MAX_DEPTH, MAX_EXPRESSION_LENGTH

# Line numbers are part of the table below: change this text and recount them.
BASE = """\
ruleset: meta.human-exploitation
title: Meta Community Standards, Human Exploitation
platform: meta
version: "2022-12-07"
effective: {from: 2022-12-07}
language: 1
sources:
  he:
    title: "Meta Community Standards: Human Exploitation"
    url: https://transparency.meta.com/policies/community-standards/human-exploitation/
    retrieved: 2022-12-07
rules:
  smuggling-offer:
    applies_to: post
    cites: {source: he, section: Do not post, says: offers to smuggle people across borders}
    when: post.signals.offers_crossing
    verdict: violates
"""
WHEN = "    when: post.signals.offers_crossing\n"  # line 16; the expression starts at column 11


def changed(old: str, new: str, text: str = BASE) -> str:
    """`text` with the one occurrence of `old` replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def when(condition: str) -> str:
    """BASE with another condition for its rule (written from line 16, column 5)."""
    return changed(WHEN, f"    when: {condition}\n")


def before_rules(block: str) -> str:
    """BASE with top-level keys (parameters, lexicons...) added just before `rules:`."""
    return changed("rules:\n", block + "rules:\n")


def exception(exc_id: str, condition: str, verdict: str) -> str:
    """One exception under `unless:`, four lines long (id, cites, when, verdict)."""
    return (f"      {exc_id}:\n"
            "        cites: {source: he, section: Policy rationale, says: condemning smuggling is allowed}\n"
            f"        when: {condition}\n"
            f"        verdict: {verdict}\n")


def with_exceptions(*exceptions: str) -> str:
    """BASE with exceptions for its rule: `unless:` is line 18, the first id line 19."""
    return BASE + "    unless:\n" + "".join(exceptions)


PAGE_RULE = """\
  page-for-smuggling:
    applies_to: page
    cites: {source: he, section: Do not post, says: pages that sell crossings}
    when: page.signals.dedicated
    verdict: remove_page
"""  # appended to BASE: lines 18 to 22, its condition at line 21, column 11

# An earlier version of the same rule set, for the version checks.
OLDER = changed('version: "2022-12-07"\neffective: {from: 2022-12-07}',
                'version: "2019-09-03"\neffective: {from: 2019-09-03, until: 2023-01-01}')


def parameter(unit: str, values: str, extra: str = "") -> str:
    return f"parameters:\n  price_floor:\n    unit: {unit}\n{extra}    values: {values}\n"


def request(platform: str, day: str) -> dict:
    """Evidence: a takedown request for a post on `platform`, submitted on `day`."""
    return {"request": {"id": "NCA-0001", "submitted": day, "asks": "remove_posts"},
            "target": {"platform": platform, "kind": "post",
                       "posts": [{"id": "p1", "text": "boat to the UK, 3000 GBP",
                                  "signals": {"offers_crossing": True}}]}}


@dataclass(frozen=True)
class Case:
    code: str
    name: str
    text: str | bytes = ""
    # For version codes: (file name, text) pairs written to one directory.
    files: tuple[tuple[str, str], ...] = ()
    # With `files`: evidence checked against them with `takedown check`.
    evidence: dict | None = None
    # (line, column) of the first diagnostic with `code`, counted by hand in the file.
    at: tuple[int, int] | None = None
    # For `files`: the file the diagnostic must point into.
    in_file: str = ""
    # For drafting codes: the day `takedown lint --drafting` runs on (its `--today`).
    drafting: str = ""


CASES = [
    # Y: the YAML file
    Case("Y001", "unquoted colon in a value",
         changed("    verdict: violates\n",
                 "    verdict: violates\n    message: note: the post offers a crossing\n"),
         at=(18, 18)),
    Case("Y002", "a rule with two verdicts",
         changed("    verdict: violates\n", "    verdict: violates\n    verdict: remove_page\n"),
         at=(18, 5)),
    Case("Y003", "an anchor on a citation", changed("cites: {", "cites: &do-not-post {"),
         at=(15, 12)),
    Case("Y004", "a !!set tag", changed("platform: meta\n",
                                        "platform: meta\nsurfaces: !!set {facebook, instagram}\n"),
         at=(4, 11)),
    Case("Y005", "a Latin-1 file",
         changed("title: Meta Community Standards, Human Exploitation",
                 "title: Standards communautaires de Meta, exploitation humaine, traversée"
                 ).encode("latin-1"),
         at=(1, 1)),
    # L: limits on untrusted input
    Case("L001", "a file over the size limit",
         BASE + "description: " + "the policy in full. " * (MAX_FILE_BYTES // 20) + "\n",
         at=(1, 1)),
    Case("L002", "nesting past the limit in an extension key",
         BASE + "x-notes: " + "[" * (MAX_NESTING + 2) + "]" * (MAX_NESTING + 2) + "\n",
         at=(18, 33)),  # the 24th bracket: the 25th level, counting the file's own mapping
    Case("L003", "an expression over the length limit",
         when(" or ".join(["post.signals.offers_crossing"]
                          * (MAX_EXPRESSION_LENGTH // len("post.signals.offers_crossing or ") + 1))),
         at=(16, 11)),
    Case("L004", "parentheses nested past the limit",
         when("(" * (MAX_DEPTH + 1) + "post.signals.offers_crossing" + ")" * (MAX_DEPTH + 1)),
         at=(16, 11)),
    Case("L004", "operators nested past the limit",
         when("not " * (MAX_DEPTH + 1) + "post.signals.offers_crossing"), at=(16, 11)),
    Case("L005", "a pattern over the length limit",
         when("post.text matches '" + "a" * (MAX_PATTERN_LENGTH + 1) + "'"), at=(16, 29)),
    Case("L005", "a pattern whose automaton is too large",
         when(r"post.text matches '(\pL{100}){10}'"), at=(16, 29)),
    Case("L006", "a lexicon over the entry limit",
         before_rules("lexicons:\n  crossing:\n    en: ["
                      + ", ".join(f"word{i}" for i in range(MAX_ENTRIES + 1)) + "]\n"),
         at=(14, 5)),
    # S: structure
    Case("S001", "a rule without a verdict", changed("    verdict: violates\n", ""),
         at=(13, 3)),
    Case("S002", "a misspelt key", changed("    applies_to: post", "    applies_too: post"),
         at=(14, 5)),
    Case("S003", "a citation given as a bare source key",
         changed("    cites: {source: he, section: Do not post, says: offers to smuggle people "
                 "across borders}", "    cites: he"),
         at=(15, 12)),
    Case("S004", "a verdict that does not exist", changed("verdict: violates", "verdict: remove"),
         at=(17, 14)),
    # P: expression syntax
    Case("P001", "= instead of ==", when("post.signals.offers_crossing = true"), at=(16, 40)),
    Case("P002", "a dangling `and`", when("post.signals.offers_crossing and"), at=(16, 42)),
    Case("P003", "a date that does not exist", when("request.submitted > 2023-02-30"),
         at=(16, 31)),
    Case("P004", "look-behind, which RE2 lacks", when("post.text matches '(?<=smuggl)ing'"),
         at=(16, 29)),
    Case("P004", "inside a plain scalar on two lines",
         changed(WHEN, "    when: post.signals.offers_crossing\n"
                       "      and post.text matches '(?<=smuggl)ing'\n"),
         at=(17, 29)),
    # N: names
    Case("N001", "a misspelt evidence field", when("post.signals.offers_crosing"), at=(16, 24)),
    Case("N001", "inside a `|` block, three lines down",
         changed(WHEN, "    when: |\n"
                       "      post.signals.offers_crossing\n"
                       "      or post.signals.solicits_smuggling\n"
                       '      or (post.text contains "crossing" and post.signals.prise is known)\n'),
         at=(19, 58)),
    Case("N001", "inside a double-quoted scalar",
         when('"post.signals.offers_crossing and post.signals.prise is known"'), at=(16, 58)),
    Case("N002", "an undeclared parameter", when("post.signals.price > max_price"), at=(16, 32)),
    Case("N003", "an undeclared lexicon", when("post.text mentions crossing"), at=(16, 30)),
    Case("N004", "a misspelt rule id",
         when("post.signals.offers_crossing and not post violates smuggling-ofer"),
         at=(16, 62)),
    Case("N005", "`post` in a page rule", changed("applies_to: post", "applies_to: page"),
         at=(16, 11)),
    Case("N006", "a quantifier variable named post",
         when("any(post in page.posts where post.signals.offers_crossing)"), at=(16, 15)),
    Case("N007", "a citation of an undeclared source", changed("source: he,", "source: hee,"),
         at=(15, 21)),
    Case("N008", "an exception with its rule's id",
         with_exceptions(exception("smuggling-offer", "post.context.condemnation", "allowed")),
         at=(19, 7)),
    Case("N009", "policy results read by a policy rule set", when("post.policy.severe"),
         at=(16, 16)),
    # T: types and units
    Case("T001", "a condition compared with a text",
         when('post.signals.offers_crossing == "yes"'), at=(16, 11)),
    Case("T002", "money compared with a number", when("post.signals.price > 3"), at=(16, 11)),
    Case("T002", "inside a folded `>` block",
         changed(WHEN, "    when: >\n"
                       "      post.signals.offers_crossing and\n"
                       "      post.signals.guarantee and post.signals.price > 3\n"),
         at=(18, 34)),
    Case("T003", "a price as a condition", when("post.signals.price"), at=(16, 11)),
    Case("T004", "`in` a text", when("post.language in post.text"), at=(16, 28)),
    Case("T005", "`contains` on a list of contacts",
         when('post.signals.contacts contains "whatsapp"'), at=(16, 11)),
    Case("T006", "pounds added to euros", when("post.signals.price > 2000 GBP + 500 EUR"),
         at=(16, 32)),
    Case("T007", "a page asked about a post rule",
         BASE + changed("page.signals.dedicated", "page violates smuggling-offer", PAGE_RULE),
         at=(21, 11)),
    Case("T008", "a prior about a text",
         before_rules("priors:\n  language:\n    fact: post.language\n"
                      "    probability: 0.2\n")),
    # R: rules and exceptions
    Case("R001", "a rule that depends on itself",
         when("post.signals.offers_crossing and post violates smuggling-offer"), at=(16, 11)),
    Case("R002", "an exception that contradicts its rule",
         with_exceptions(exception("never", "not post.signals.offers_crossing", "allowed")),
         at=(21, 15)),
    Case("R003", "two exceptions, two verdicts, one priority",
         with_exceptions(exception("news", "post.context.news_reporting", "allowed"),
                         exception("uk-only", 'post.language == "en"', "geo_block")),
         at=(23, 7)),
    Case("R004", "an exception with the rule's own verdict",
         with_exceptions(exception("news", "post.context.news_reporting", "violates")),
         at=(22, 18)),
    Case("R005", "a rule with the verdict `allowed`", changed("verdict: violates", "verdict: allowed"),
         at=(17, 14)),
    Case("R006", "a post rule asking about a page rule",
         when("post.signals.offers_crossing and not page violates page-for-smuggling")
         + PAGE_RULE,
         at=(16, 62)),
    # V: versions and dates
    Case("V001", "the older version runs past the newer one's start",
         files=(("2019-09-03.yaml", OLDER), ("2022-12-07.yaml", BASE)),
         at=(5, 19), in_file="2022-12-07.yaml"),
    Case("V002", "a gap between versions",
         files=(("2019-09-03.yaml", changed("until: 2023-01-01", "until: 2020-01-01", OLDER)),
                ("2022-12-07.yaml", BASE)),
         at=(5, 19), in_file="2022-12-07.yaml"),
    Case("V003", "a parameter first valued after the rule set starts",
         before_rules(parameter("money", "{2023-01-01: 500}", "    currency: GBP\n")),
         at=(16, 13)),
    Case("V004", "until before from",
         changed("{from: 2022-12-07}", "{from: 2022-12-07, until: 2022-01-01}"), at=(5, 38)),
    Case("V005", "a copied file whose version label was not changed",
         files=(("2019-09-03.yaml", changed("{from: 2022-12-07}", "{from: 2019-09-03}")),
                ("2022-12-07.yaml", BASE)),
         at=(5, 19), in_file="2022-12-07.yaml"),
    Case("V006", "a ratio above 1", before_rules(parameter("ratio", "{2019-09-03: 1.5}")),
         at=(15, 26)),
    Case("V007", "a request sent long before the only version took effect",
         files=(("2022-12-07.yaml", BASE),), evidence=request("meta", "2012-06-01")),
    # W: drafting advice
    Case("W001", "an estimated threshold",
         before_rules("parameters:\n  page_violation_limit:\n    unit: count\n"
                      "    values: {2019-09-03: 5}\n"
                      "    estimated: press reports of an internal threshold, unverified\n"),
         at=(16, 5)),
    Case("W002", "a source read before the version took effect",
         changed("retrieved: 2022-12-07", "retrieved: 2022-01-01"), at=(11, 16)),
    Case("W003", "an emoji in a lexicon",
         changed(WHEN, "    when: post.signals.offers_crossing or post.text mentions crossing\n",
                 before_rules('lexicons:\n  crossing:\n    en: [small boat, "🚤"]\n')),
         at=(14, 22)),
    Case("W004", "an unused parameter", before_rules(parameter("count", "{2019-09-03: 5}")),
         at=(13, 3)),
    Case("W005", "an unused lexicon", before_rules("lexicons:\n  crossing:\n    en: [small boat]\n"),
         at=(13, 3)),
    Case("W006", "a paraphrase left for later",
         changed("says: offers to smuggle people across borders}", "says: TODO}"),
         drafting="2023-01-01", at=(15, 53)),
    Case("W007", "a source read two years before the lint", BASE, drafting="2024-12-08",
         at=(11, 16)),
    Case("W008", "a paraphrase that copies the policy's sentence",
         changed("    retrieved: 2022-12-07\n",
                 "    retrieved: 2022-12-07\n    excerpts:\n      - We do not allow content "
                 "that offers to smuggle people across borders.\n",
                 changed("says: offers to smuggle people across borders}",
                         "says: content that offers to smuggle people across borders}")),
         drafting="2023-01-01", at=(17, 53)),
    Case("W009", "a retrieval date after the day of the lint", BASE, drafting="2022-12-01",
         at=(11, 16)),
]


def produce(case: Case, tmp_path: Path, capsys) -> list[dict]:
    """The diagnostics of a case, in their JSON form (`Diagnostic.as_json`)."""
    if not case.files:
        _, diagnostics = load_text(case.text, "rules.yaml")
        if case.drafting:
            diagnostics += drafting.check_drafting(case.text, "rules.yaml",
                                                   datetime.date.fromisoformat(case.drafting))
        return [d.as_json() for d in diagnostics]
    directory = tmp_path / "rules"
    directory.mkdir()
    for name, text in case.files:
        (directory / name).write_text(text, encoding="utf-8")
    if case.evidence is None:
        _, diagnostics = load_registry([directory])
        return [d.as_json() for d in diagnostics]
    batch = tmp_path / "requests.ndjson"
    batch.write_text(json.dumps(case.evidence) + "\n", encoding="utf-8")
    capsys.readouterr()
    main(["check", "--rules", str(directory), "--batch", str(batch)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [d for record in records for d in record.get("error", [])]


def test_base_is_valid_and_silent():
    ruleset, diagnostics = load_text(BASE, "rules.yaml")
    assert diagnostics == []
    assert ruleset is not None and [r.id for r in ruleset.rules] == ["smuggling-offer"]


def test_older_version_is_valid_and_silent():
    ruleset, diagnostics = load_text(OLDER, "rules.yaml")
    assert diagnostics == []
    assert ruleset is not None and ruleset.version == "2019-09-03"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.code} {c.name}")
def test_code_is_produced(case: Case, tmp_path: Path, capsys):
    diagnostics = produce(case, tmp_path, capsys)
    found = [d for d in diagnostics if d["code"] == case.code]
    assert found, f"{case.code} not produced; got {[(d['code'], d['message']) for d in diagnostics]}"
    first = found[0]
    assert first["severity"] == REGISTRY[case.code].severity
    if case.at is not None:
        assert (first["line"], first["column"]) == case.at, first["message"]
    if case.in_file:
        assert Path(first["file"]).name == case.in_file


def test_every_code_has_a_row():
    rows = {case.code for case in CASES}
    missing = sorted(code for code in REGISTRY
                     if not code.startswith(("E", "X", "D", "B")) and code not in rows)
    assert missing == [], f"codes without a producing row in CASES: {missing}"
    assert rows <= set(REGISTRY), "a row names a code that is not in the registry"


def test_request_in_force_is_not_v007(tmp_path: Path, capsys):
    """The V007 row fails for its date alone: the same request a day after is decided."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "2022-12-07.yaml").write_text(BASE, encoding="utf-8")
    evidence = tmp_path / "request.json"
    evidence.write_text(json.dumps(request("meta", "2022-12-07")), encoding="utf-8")
    assert main(["check", "--rules", str(tmp_path / "rules"), str(evidence)]) == 0
    assert "V007" not in capsys.readouterr().err


# Messages: a few rows whose wording is part of the contract.

def test_misspelt_field_suggests_the_right_one():
    _, diagnostics = load_text(when("post.signals.offers_crosing"), "rules.yaml")
    (d,) = diagnostics
    assert d.hint == "did you mean `post.signals.offers_crossing`?"
    assert (d.location.end_line, d.location.end_column) == (16, 24 + len("offers_crosing"))


def test_regular_expression_errors_read_as_text():
    _, diagnostics = load_text(when("post.text matches '(?<=smuggl)ing'"), "rules.yaml")
    (d,) = diagnostics
    assert d.message == "invalid regular expression: invalid perl operator: (?<="


def test_wrong_type_is_not_called_a_date():
    _, diagnostics = load_text(before_rules(parameter("count", '{2019-09-03: "five"}')),
                               "rules.yaml")
    schema = [d for d in diagnostics if d.code.startswith("S")]
    assert schema and not any("date" in d.message for d in schema)


def test_wrong_date_is_called_a_date():
    _, diagnostics = load_text(changed("{from: 2022-12-07}", "{from: 20221207}"), "rules.yaml")
    assert [(d.code, d.message) for d in diagnostics] == [("S003", "20221207 is not a date")]


# The registry itself and `takedown explain-code`.

@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_entry_is_complete(code: str):
    entry = REGISTRY[code]
    assert re.fullmatch(r"[YLSPNTRVWEXDB]\d{3}", code) and entry.code == code
    assert entry.severity in ("error", "warning", "note")
    assert entry.title.strip() and entry.title == entry.title.strip()
    assert len(entry.explanation.split()) >= 5
    assert explain(code.lower()) is entry


@pytest.mark.parametrize("code", sorted(REGISTRY))
def test_explain_code_prints_the_entry(code: str, capsys):
    assert main(["explain-code", code]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{code} ({REGISTRY[code].severity}): {REGISTRY[code].title}\n")
    assert REGISTRY[code].explanation in out


def test_explain_code_without_a_code_lists_them_all(capsys):
    assert main(["explain-code"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(REGISTRY)


def test_explain_unknown_code_is_a_usage_error(capsys):
    assert main(["explain-code", "X999"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no such code: X999" in captured.err
