"""Loading the real Meta rule files: what a `RuleSet` holds, how versions chain in the
registry, and how a mistake in a copy of a real file is reported (code, line, column,
caret, hint), all problems of a file at once and in file order.

The rule files are edited as policies change, so the expected positions are found by
searching the edited text (`position`), never by trusting a line number written here;
positions counted by hand in a fixed text are in test_codes.py.
"""

import datetime
import hashlib
import re
from pathlib import Path

import pytest

from rules import Diagnostic, has_errors, load_registry, load_ruleset, load_text, render_text

POLICIES = Path(__file__).parents[2] / "platform_policies"
META = POLICIES / "meta" / "human-exploitation"
V2019 = META / "2019-09-03.yaml"
V2022 = META / "2022-12-07.yaml"
RULESET_ID = "meta.human-exploitation"
CHANGE = datetime.date(2022, 12, 7)  # asking for a smuggler became a violation
DAY = datetime.timedelta(days=1)


def real_text(path: Path = V2022) -> str:
    return path.read_text(encoding="utf-8")


def position(text: str, needle: str) -> tuple[int, int]:
    """Line and column (from 1) of the first `needle` in `text`."""
    offset = text.index(needle)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def first_replaced(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} is no longer in the file: choose another example"
    return text.replace(old, new, 1)


def write(tmp_path: Path, text: str, name: str = "2022-12-07.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# A misspelt evidence field, reported where it is written.

MISSPELLINGS = [
    # (path as written in the file, misspelt; the first occurrence is changed)
    ("post.signals.offers_crossing", "post.signals.offers_crosing"),  # first line of `when: |`
    ("post.signals.contacts", "post.signals.contacs"),  # inside a quantifier, lines down
    ("post.context.humanitarian_info", "post.context.humanitarian_inf"),  # in an exception
]


@pytest.mark.parametrize(("field", "misspelt"), MISSPELLINGS, ids=[m for _, m in MISSPELLINGS])
def test_misspelt_field_in_a_copy_of_a_real_file(tmp_path, field, misspelt):
    text = first_replaced(real_text(), field, misspelt)
    path = write(tmp_path, text)
    name = misspelt.rsplit(".", 1)[1]
    line, column = position(text, misspelt)
    column += len(misspelt) - len(name)  # the diagnostic points at the misspelt name only

    ruleset, diagnostics = load_ruleset(path)
    assert ruleset is None
    (error,) = [d for d in diagnostics if d.is_error]
    assert error.code == "N001"
    assert error.message == f"unknown evidence field `{misspelt}`"
    assert error.hint == f"did you mean `{field}`?"
    loc = error.location
    assert (loc.file, loc.line, loc.column) == (str(path), line, column)
    assert (loc.end_line, loc.end_column) == (line, column + len(name))
    assert re.fullmatch(r"/rules/[a-z0-9-]+(/unless/[a-z0-9-]+)?/when", error.pointer)

    rendered = render_text([error], {str(path): text}).splitlines()
    source_line = text.splitlines()[line - 1]
    gutter = " " * len(str(line))
    assert rendered == [
        f"{path}:{line}:{column}: error[N001]: unknown evidence field `{misspelt}`",
        f"{gutter} |",
        f"{line} | {source_line}",
        f"{gutter} | " + " " * (column - 1) + "^" * len(name),
        f"  = hint: did you mean `{field}`?",
    ]
    # The carets sit exactly under the misspelt name on the line above.
    start = rendered[3].index("^")
    assert rendered[2][start : start + len(name)] == name


# The bundled files.

BUNDLED = sorted(META.glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_version_loads_without_errors(path):
    ruleset, diagnostics = load_ruleset(path)
    assert not has_errors(diagnostics), [(d.code, d.message) for d in diagnostics]
    # Each file is one version, named after the day it takes effect.
    assert ruleset.id == RULESET_ID
    assert ruleset.version == path.stem
    assert ruleset.effective_from == datetime.date.fromisoformat(path.stem)
    assert ruleset.effective_until is None  # alone, a version runs until the next starts
    assert (ruleset.platform, ruleset.kind, ruleset.language) == ("meta", "policy", 1)
    assert ruleset.covers("facebook") and ruleset.covers("instagram")
    assert ruleset.path == str(path)
    assert ruleset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_asking_for_a_smuggler_is_a_rule_only_from_2022():
    old, _ = load_ruleset(V2019)
    new, _ = load_ruleset(V2022)
    assert old.rule("smuggling-offer") is not None and new.rule("smuggling-offer") is not None
    assert old.rule("smuggling-request") is None
    request = new.rule("smuggling-request")
    assert (request.applies_to, request.verdict, request.is_exception) == ("post", "violates",
                                                                           False)
    assert request.has_exceptions
    assert all(e.overrides == "smuggling-request" and e.verdict == "allowed"
               for e in request.exceptions)


def test_sha256_is_of_the_bytes_given():
    data = V2022.read_bytes()
    ruleset, _ = load_text(data, "copy.yaml")
    assert ruleset.sha256 == hashlib.sha256(data).hexdigest()
    changed, _ = load_text(data + b"\n# a trailing comment\n", "copy.yaml")
    assert changed.sha256 == hashlib.sha256(data + b"\n# a trailing comment\n").hexdigest()
    assert changed.sha256 != ruleset.sha256


# Parameters: values by the date they take effect.

def test_parameter_with_dated_values(tmp_path):
    block = ("parameters:\n"
             "  page_violation_limit:\n"
             "    unit: count\n"
             "    values: {2024-10-02: 3, 2019-09-03: 5}\n"
             "    estimated: press reports of an internal threshold, unverified\n")
    text = first_replaced(real_text(), "\nrules:\n", "\n" + block + "rules:\n")
    ruleset, diagnostics = load_ruleset(write(tmp_path, text))
    assert not has_errors(diagnostics)
    assert {d.code for d in diagnostics} >= {"W001", "W004"}  # an estimate, never used
    limit = ruleset.parameters["page_violation_limit"]
    first, change = datetime.date(2019, 9, 3), datetime.date(2024, 10, 2)
    assert (limit.unit, limit.is_estimated) == ("count", True)
    assert limit.values == ((first, 5), (change, 3))  # sorted by date
    assert limit.value_on(first - DAY) is None
    assert limit.value_on(first) == 5
    assert limit.value_on(change - DAY) == 5
    assert limit.value_on(change) == 3
    assert limit.value_on(datetime.date(2040, 1, 1)) == 3
    assert limit.period_on(first - DAY) is None
    assert limit.period_on(change - DAY) == (first, change)
    assert limit.period_on(change) == (change, None)
    assert ruleset.parameter_values(change - DAY) == {"page_violation_limit": 5}


def test_bundled_parameters_hold_each_value_until_the_next():
    registry, _ = load_registry([POLICIES])
    parameters = [p for r in registry for p in r.parameters.values()]
    assert parameters, "the bundled rule sets have parameters"
    for p in parameters:
        starts = [start for start, _ in p.values]
        assert starts == sorted(set(starts)), p.name
        assert p.value_on(starts[0] - DAY) is None, p.name
        for index, (start, value) in enumerate(p.values):
            assert p.value_on(start) == value, p.name
            if index + 1 < len(p.values):
                assert p.value_on(p.values[index + 1][0] - DAY) == value, p.name


# Versions in the registry.

def test_registry_chains_the_versions():
    registry, diagnostics = load_registry([META])
    assert not has_errors(diagnostics)
    assert registry.ids() == [RULESET_ID]
    versions = registry.versions(RULESET_ID)
    assert [v.version for v in versions] == [p.stem for p in BUNDLED]
    for before, after in zip(versions, versions[1:], strict=False):
        assert before.effective_until == after.effective_from
    assert versions[-1].effective_until is None
    old, new = registry.get(RULESET_ID, "2019-09-03"), registry.get(RULESET_ID, "2022-12-07")
    assert old.effective_until == new.effective_from == CHANGE


@pytest.mark.parametrize(("day", "version"), [
    (datetime.date(2019, 9, 3), "2019-09-03"),
    (CHANGE - DAY, "2019-09-03"),
    (CHANGE, "2022-12-07"),
    (CHANGE + DAY, "2022-12-07"),
])
@pytest.mark.parametrize("platform", ["facebook", "instagram", "meta"])
def test_in_force_either_side_of_the_change(platform, day, version):
    registry, _ = load_registry([META])
    (ruleset,) = registry.in_force(platform, day)
    assert ruleset.version == version


def test_each_version_is_in_force_from_its_first_day():
    registry, _ = load_registry([META])
    versions = registry.versions(RULESET_ID)
    for before, version in zip((None, *versions), versions, strict=False):
        assert registry.in_force("facebook", version.effective_from) == [version]
        expected = [] if before is None else [before]
        assert registry.in_force("facebook", version.effective_from - DAY) == expected
    assert registry.in_force("youtube", CHANGE) == []


# All problems of a file, once, in file order.

def test_three_independent_errors_are_all_reported_in_file_order(tmp_path):
    text = real_text()
    # A YAML error near the top: a second `title:`.
    title = re.search(r"^title: .*\n", text, re.M)
    text = text[:title.end()] + "title: Human Exploitation\n" + text[title.end():]
    # A name error in the first rule's condition.
    text = first_replaced(text, "post.signals.offers_crossing", "post.signals.offers_crosing")
    # A structure error in the last rule: a verdict that does not exist.
    last = text.rindex("    verdict: violates\n")
    text = text[:last] + "    verdict: violate\n" + text[last + len("    verdict: violates\n"):]
    path = write(tmp_path, text)

    ruleset, diagnostics = load_ruleset(path)
    assert ruleset is None
    duplicate_line, _ = position(text, "title: Human Exploitation\n")
    name_line, name_column = position(text, "offers_crosing")
    verdict_line = text.count("\n", 0, last) + 1
    errors = [(d.code, d.location.line, d.location.column) for d in diagnostics if d.is_error]
    # Found by three stages run in the order YAML, structure, names; reported in file order.
    assert errors == [("Y002", duplicate_line, 1), ("N001", name_line, name_column),
                      ("S004", verdict_line, 14)]
    (duplicate,) = [d for d in diagnostics if d.code == "Y002"]
    assert [(m, r.line, r.column) for m, r in duplicate.related] == [
        ("first written here", duplicate_line - 1, 1)]
    assert diagnostics == sorted(diagnostics, key=Diagnostic.sort_key)
    # The registry reports the same, in the same order.
    _, from_registry = load_registry([tmp_path])
    assert from_registry == diagnostics


def test_each_problem_is_reported_once():
    text = real_text()
    rule_id = re.search(r"^rules:\n  ([a-z0-9-]+):\n", text, re.M).group(1)
    text = first_replaced(text, "    applies_to: post\n", "")  # both from the first rule
    text = first_replaced(text, "    verdict: violates\n", "")
    _, diagnostics = load_text(text, "2022-12-07.yaml")
    keys = [(d.code, d.message, d.location) for d in diagnostics]
    assert len(keys) == len(set(keys))
    assert sorted(d.message for d in diagnostics if d.code == "S001") == [
        f"missing key `applies_to` in rule `{rule_id}`",
        f"missing key `verdict` in rule `{rule_id}`"]


def test_missing_file_is_a_diagnostic(tmp_path):
    ruleset, diagnostics = load_ruleset(tmp_path / "absent.yaml")
    assert ruleset is None
    assert [d.code for d in diagnostics] == ["Y005"]


def test_a_copy_named_relative_to_its_root_is_loaded_as_the_original_was(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name / "meta").mkdir(parents=True)
        for path in (V2019, V2022):
            (tmp_path / name / "meta" / path.name).write_bytes(path.read_bytes())
    (tmp_path / "b" / "meta" / V2022.name).write_bytes(V2022.read_bytes() + b"\n# changed\n")
    first, _ = load_registry([tmp_path / "a"], relative_to=tmp_path / "a")
    second, diagnostics = load_registry([tmp_path / "b"], relative_to=tmp_path / "b")
    assert not has_errors(diagnostics)
    paths = {r.path: r for r in first}
    assert set(paths) == {f"meta/{V2019.name}", f"meta/{V2022.name}"}
    for ruleset in second:
        if ruleset.path.endswith(V2019.name):  # the same bytes, the same name: loaded once
            assert ruleset == paths[ruleset.path]
            assert ruleset.rules is paths[ruleset.path].rules
        else:
            assert ruleset.sha256 != paths[ruleset.path].sha256
            assert ruleset.rules is not paths[ruleset.path].rules
