"""Loading the real Meta rule files: what a `RuleSet` holds, how versions chain in the
registry, and how a mistake in a copy of a real file is reported (code, line, column,
caret, hint), all problems of a file at once and in file order."""

import datetime
import hashlib
from pathlib import Path

import pytest

from rules import (
    Diagnostic,
    has_errors,
    load_registry,
    load_ruleset,
    load_text,
    render_text,
)

META = Path(__file__).parents[2] / "platform_policies" / "meta" / "human-exploitation"
V2019 = META / "2019-09-03.yaml"
V2022 = META / "2022-12-07.yaml"
RULESET_ID = "meta.human-exploitation"
CHANGE = datetime.date(2022, 12, 7)
DAY = datetime.timedelta(days=1)


def real_text(path: Path = V2022) -> str:
    return path.read_text(encoding="utf-8")


def edited(old: str, new: str, text: str | None = None) -> str:
    """A copy of the 2022 file (or `text`) with the one occurrence of `old` replaced."""
    text = real_text() if text is None else text
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def write(tmp_path: Path, text: str, name: str = "2022-12-07.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# A misspelt evidence field, reported where it is written.

MISSPELLINGS = [
    # (text as in the file, misspelt, line, column, hint); line and column counted by hand
    ("      post.signals.offers_crossing\n", "      post.signals.offers_crosing\n",
     74, 20, "did you mean `post.signals.offers_crossing`?"),
    ("any(c in post.signals.contacts)", "any(c in post.signals.contacs)",
     76, 68, "did you mean `post.signals.contacts`?"),
    ("and p.posted within", "and p.postd within",
     132, 24, "did you mean `p.posted`?"),
]


@pytest.mark.parametrize(("old", "new", "line", "column", "hint"), MISSPELLINGS,
                         ids=["offers_crossing", "contacts", "quantifier-variable"])
def test_misspelt_field_in_a_real_file(tmp_path, old, new, line, column, hint):
    path = write(tmp_path, edited(old, new))
    ruleset, diagnostics = load_ruleset(path)
    assert ruleset is None
    (error,) = [d for d in diagnostics if d.is_error]
    misspelt = new.strip().split(".")[-1].split()[0].rstrip(")")
    assert error.code == "N001"
    assert error.hint == hint
    loc = error.location
    assert (loc.file, loc.line, loc.column) == (str(path), line, column)
    assert (loc.end_line, loc.end_column) == (line, column + len(misspelt))
    assert error.pointer.endswith("/when")

    rendered = render_text([error], {str(path): path.read_text(encoding="utf-8")}).splitlines()
    source_line = path.read_text(encoding="utf-8").splitlines()[line - 1]
    assert rendered[0] == f"{path}:{line}:{column}: error[N001]: {error.message}"
    assert rendered[2] == f"{line} | {source_line}"
    gutter = " " * len(str(line)) + " | "
    assert rendered[3] == gutter + " " * (column - 1) + "^" * len(misspelt)
    # The carets sit exactly under the misspelt name in the line above.
    start = rendered[3].index("^")
    assert rendered[2][start:start + len(misspelt)] == misspelt
    assert rendered[4] == f"  = hint: {hint}"


def test_misspelt_field_counted_by_hand(tmp_path):
    """The first row above, spelt out: line 74 is `      post.signals.offers_crosing`."""
    path = write(tmp_path, edited(*MISSPELLINGS[0][:2]))
    _, diagnostics = load_ruleset(path)
    text = render_text([d for d in diagnostics if d.is_error], {str(path): real_text(path)})
    assert text.splitlines()[1:5] == [
        "   |",
        "74 |       post.signals.offers_crosing",
        "   |                    ^^^^^^^^^^^^^^",
        "  = hint: did you mean `post.signals.offers_crossing`?",
    ]


# The bundled files.

@pytest.mark.parametrize("path", [V2019, V2022], ids=["2019-09-03", "2022-12-07"])
def test_bundled_file_loads_without_errors(path):
    ruleset, diagnostics = load_ruleset(path)
    assert ruleset is not None
    assert not has_errors(diagnostics)
    assert [d for d in diagnostics if d.severity == "warning"] == []
    # The unpublished page threshold is flagged as an estimate.
    assert [(d.code, d.pointer) for d in diagnostics] == [
        ("W001", "/parameters/page_violation_limit")]


def test_ruleset_2022_fields():
    ruleset, _ = load_ruleset(V2022)
    assert ruleset.id == RULESET_ID
    assert ruleset.version == "2022-12-07"
    assert ruleset.platform == "meta"
    assert ruleset.surfaces == ("facebook", "instagram")
    assert ruleset.kind == "policy"
    assert ruleset.language == 1
    assert ruleset.effective_from == CHANGE
    assert ruleset.effective_until is None  # alone, it runs until a later version starts
    assert ruleset.path == str(V2022)
    assert ruleset.sha256 == hashlib.sha256(V2022.read_bytes()).hexdigest()
    assert [r.id for r in ruleset.rules] == [
        "smuggling-offer", "smuggling-request", "page-for-smuggling"]
    assert [r.id for r in ruleset.all_rules()] == [
        "smuggling-offer", "condemnation-or-awareness", "smuggling-request",
        "safety-or-asylum-information", "page-for-smuggling"]
    request = ruleset.rule("smuggling-request")
    assert (request.applies_to, request.verdict, request.confidence) == ("post", "violates", 0.75)
    (exception,) = request.exceptions
    assert (exception.overrides, exception.verdict) == ("smuggling-request", "allowed")
    page = ruleset.rule("page-for-smuggling")
    assert (page.applies_to, page.verdict) == ("page", "remove_page")
    assert [c.source for c in page.cites] == ["pages", "strikes"]
    assert set(ruleset.sources) == {"he", "strikes", "pages"}
    assert ruleset.sources["strikes"].published == datetime.date(2022, 10, 4)
    assert ruleset.rule("smuggling-offer").when_location.line == 73  # `when: |`


def test_ruleset_2019_has_no_request_rule():
    ruleset, _ = load_ruleset(V2019)
    assert ruleset.version == "2019-09-03"
    assert ruleset.effective_from == datetime.date(2019, 9, 3)
    assert ruleset.sha256 == hashlib.sha256(V2019.read_bytes()).hexdigest()
    assert ruleset.rule("smuggling-request") is None
    assert [r.id for r in ruleset.rules] == ["smuggling-offer", "page-for-smuggling"]


def test_parameter_values_by_date():
    ruleset, _ = load_ruleset(V2022)
    window = ruleset.parameters["counting_window"]
    limit = ruleset.parameters["page_violation_limit"]
    first = datetime.date(2019, 9, 3)
    assert window.unit == "days" and window.source == "strikes" and not window.is_estimated
    assert limit.unit == "count" and limit.is_estimated
    assert window.value_on(first) == datetime.timedelta(days=90)
    assert limit.value_on(CHANGE) == 5
    assert window.value_on(first - DAY) is None
    assert limit.value_on(first - DAY) is None
    assert ruleset.parameter_values(CHANGE) == {
        "counting_window": datetime.timedelta(days=90), "page_violation_limit": 5}


def test_parameter_with_several_dated_values():
    text = edited("values: {2019-09-03: 5}", "values: {2024-10-02: 3, 2019-09-03: 5}")
    ruleset, diagnostics = load_text(text, "2022-12-07.yaml")
    assert not has_errors(diagnostics)
    limit = ruleset.parameters["page_violation_limit"]
    change = datetime.date(2024, 10, 2)
    assert limit.values == ((datetime.date(2019, 9, 3), 5), (change, 3))  # sorted by date
    assert limit.value_on(datetime.date(2019, 9, 2)) is None
    assert limit.value_on(datetime.date(2019, 9, 3)) == 5
    assert limit.value_on(change - DAY) == 5
    assert limit.value_on(change) == 3
    assert limit.value_on(datetime.date(2030, 1, 1)) == 3
    assert limit.period_on(change - DAY) == (datetime.date(2019, 9, 3), change)
    assert limit.period_on(change) == (change, None)


def test_sha256_is_of_the_bytes_given():
    data = V2022.read_bytes()
    ruleset, _ = load_text(data, "copy.yaml")
    assert ruleset.sha256 == hashlib.sha256(data).hexdigest()
    changed, _ = load_text(data + b"\n# a trailing comment\n", "copy.yaml")
    assert changed.sha256 != ruleset.sha256


# Versions in the registry.

def test_registry_chains_the_versions():
    registry, diagnostics = load_registry([META])
    assert not has_errors(diagnostics)
    assert registry.ids() == [RULESET_ID]
    old, new = registry.versions(RULESET_ID)
    assert (old.version, new.version) == ("2019-09-03", "2022-12-07")
    assert old.effective_until == new.effective_from == CHANGE
    assert new.effective_until is None
    assert registry.get(RULESET_ID, "2019-09-03") is old
    assert len(registry) == 2


@pytest.mark.parametrize(("day", "version"), [
    (datetime.date(2019, 9, 3), "2019-09-03"),
    (CHANGE - DAY, "2019-09-03"),
    (CHANGE, "2022-12-07"),
    (datetime.date(2026, 1, 1), "2022-12-07"),
])
@pytest.mark.parametrize("platform", ["facebook", "instagram", "meta"])
def test_in_force_either_side_of_the_change(platform, day, version):
    registry, _ = load_registry([META])
    (ruleset,) = registry.in_force(platform, day)
    assert ruleset.version == version


def test_nothing_in_force_before_the_first_version_or_elsewhere():
    registry, _ = load_registry([META])
    assert registry.in_force("facebook", datetime.date(2019, 9, 2)) == []
    assert registry.in_force("youtube", CHANGE) == []


# All problems of a file, once, in file order.

def test_three_independent_errors_are_all_reported_in_file_order(tmp_path):
    text = edited("      post.signals.offers_crossing\n", "      post.signals.offers_crosing\n")
    text = edited("    verdict: violates\n    confidence: 0.75\n",
                  "    verdict: violate\n    confidence: 0.75\n", text)
    text += "    message: the Page sells crossings\n"  # a second `message:` in the last rule
    path = write(tmp_path, text)
    ruleset, diagnostics = load_ruleset(path)
    assert ruleset is None
    errors = [(d.code, d.location.line, d.location.column) for d in diagnostics if d.is_error]
    # Found by three different stages (names, structure, YAML), reported in file order.
    assert errors == [("N001", 74, 20), ("S004", 98, 14), ("Y002", 137, 5)]
    (duplicate,) = [d for d in diagnostics if d.code == "Y002"]
    assert [(m, r.line, r.column) for m, r in duplicate.related] == [("first written here", 136, 5)]
    assert diagnostics == sorted(diagnostics, key=Diagnostic.sort_key)
    # The registry reports the same, in the same order.
    _, from_registry = load_registry([tmp_path])
    assert from_registry == diagnostics


def test_each_problem_is_reported_once():
    text = edited("    applies_to: page\n    cites:\n", "    cites:\n")  # page rule: no applies_to
    text = edited("    verdict: remove_page\n", "", text)  # ...and no verdict
    _, diagnostics = load_text(text, "2022-12-07.yaml")
    keys = [(d.code, d.message, d.location) for d in diagnostics]
    assert len(keys) == len(set(keys))
    assert sorted(d.message for d in diagnostics if d.code == "S001") == [
        "missing key `applies_to` in rule `page-for-smuggling`",
        "missing key `verdict` in rule `page-for-smuggling`"]


def test_missing_file_is_a_diagnostic(tmp_path):
    ruleset, diagnostics = load_ruleset(tmp_path / "absent.yaml")
    assert ruleset is None
    assert [d.code for d in diagnostics] == ["Y005"]
