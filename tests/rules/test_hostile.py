"""Rule files are untrusted input: hostile ones are refused quickly, with a diagnostic,
without running anything they name, and no input makes the loader raise.

Each hostile file is built from the real 2022 Meta rule file, so that what is refused is
the attack and not some other mistake. The file is edited as the policy is, so positions
are found in its text rather than written here.
"""

import copy
import datetime
import re
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rules import Diagnostic, compile_ruleset, load_ruleset, load_text
from rules.checker import MAX_PATTERN_LENGTH
from rules.document import MAX_FILE_BYTES, MAX_NESTING
from rules.parser import MAX_DEPTH, MAX_EXPRESSION_LENGTH

REAL = Path(__file__).parents[2] / "platform_policies" / "meta" / "human-exploitation" / "2022-12-07.yaml"
TEXT = REAL.read_text(encoding="utf-8")
assert TEXT.endswith("\n")
END = TEXT.count("\n") + 1  # the line of anything appended to TEXT
FAST = 0.5  # seconds: every refusal here takes milliseconds


def line_of(pattern: str) -> re.Match:
    """The first whole line of TEXT matching `pattern`."""
    match = re.search(f"^{pattern}.*\n", TEXT, re.M)
    assert match, f"no line of the real file matches {pattern!r}"
    return match


def line_number(match: re.Match) -> int:
    return TEXT.count("\n", 0, match.start()) + 1


def replaced(match: re.Match, new: str) -> str:
    return TEXT[:match.start()] + new + TEXT[match.end():]


# The first rule condition written on one line: `    when: ...`, the condition at column 11.
WHEN = line_of(r"    when: (?![|>])")
WHEN_LINE = line_number(WHEN)


def rule_when(condition: str) -> str:
    """The real file with another condition for the rule of WHEN."""
    return replaced(WHEN, f"    when: {condition}\n")


def timed_load(text: str | bytes):
    start = time.perf_counter()
    ruleset, diagnostics = load_text(text, "hostile.yaml")
    return ruleset, diagnostics, time.perf_counter() - start


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


def billion_laughs(levels: int = 9) -> str:
    """Nine levels of lists of nine aliases of the level below, over nine strings: the
    last level expands to 9**10 strings."""
    lines = ["lol0: &lol0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_before_it_expands():
    ruleset, diagnostics, elapsed = timed_load(billion_laughs())
    assert ruleset is None
    assert codes(diagnostics) == ["Y003"]
    assert (diagnostics[0].location.line, diagnostics[0].location.column) == (1, 7)
    assert elapsed < FAST


def test_billion_laughs_inside_a_rule_file_is_refused():
    laughs = billion_laughs().replace("\n", "\n  ").replace("lol0:", "  lol0:", 1)
    ruleset, diagnostics, elapsed = timed_load(TEXT + "x-laughs:\n" + laughs)
    assert ruleset is None
    assert codes(diagnostics) == ["Y003"]
    assert (diagnostics[0].location.line, diagnostics[0].location.column) == (END + 1, 9)
    assert elapsed < FAST


def test_alias_to_nothing_is_refused_as_an_alias():
    _, diagnostics, _ = timed_load(replaced(line_of("title: "), "title: *offer\n"))
    assert codes(diagnostics) == ["Y003"]


def test_python_tags_are_refused_and_run_nothing(tmp_path):
    marker = tmp_path / "executed"
    message = line_of("    message: ")
    # Each of these would create the marker file if it were run.
    for payload in (f'!!python/object/apply:os.system ["touch {marker}"]',
                    f'!!python/object/new:os.system ["touch {marker}"]',
                    f'!!python/object/apply:subprocess.check_call [["touch", "{marker}"]]'):
        hostile = replaced(message, f"    message: {payload}\n")
        ruleset, diagnostics, _ = timed_load(hostile)
        assert ruleset is None
        assert "Y004" in codes(diagnostics), payload
        (refused,) = [d for d in diagnostics if d.code == "Y004"]
        assert (refused.location.line, refused.location.column) == (line_number(message), 14)
    assert not marker.exists()


def test_python_name_tag_is_refused():
    _, diagnostics, _ = timed_load(replaced(line_of("kind: "), "kind: !!python/name:os.system\n"))
    assert "Y004" in codes(diagnostics)


def test_tagged_and_merge_keys_are_refused():
    for key in ("? !!python/name:os.system\n:", "<<:", "!!binary eC1ub3Rl :"):
        ruleset, diagnostics, _ = timed_load(TEXT + f"{key} {{x-note: hi}}\n")
        assert ruleset is None
        assert codes([d for d in diagnostics if d.is_error]) == ["Y004"], key


def test_file_over_the_size_limit():
    padding = "# " + "x" * 78 + "\n"
    hostile = TEXT + padding * (MAX_FILE_BYTES // len(padding) + 1)
    ruleset, diagnostics, elapsed = timed_load(hostile)
    assert ruleset is None
    assert codes(diagnostics) == ["L001"]
    assert elapsed < FAST


def test_size_limit_counts_bytes():
    hostile = TEXT.encode("utf-8") + b"#" * (MAX_FILE_BYTES - len(TEXT.encode("utf-8")) + 1)
    _, diagnostics, _ = timed_load(hostile)
    assert codes(diagnostics) == ["L001"]


def test_nesting_beyond_the_limit():
    depth = MAX_NESTING * 40
    ruleset, diagnostics, elapsed = timed_load(TEXT + "x-deep: " + "[" * depth + "]" * depth + "\n")
    assert ruleset is None
    assert codes(diagnostics) == ["L002"]
    # `x-deep: ` is 8 characters; the root mapping is the first level, and the n-th `[` is
    # level n + 1: the first one too many is the MAX_NESTING-th.
    assert (diagnostics[0].location.line, diagnostics[0].location.column) == (END, 8 + MAX_NESTING)
    # PyYAML's scanner reads up to 1024 characters of brackets ahead of the depth check, in
    # quadratic time: about 0.3 s, whatever the depth, before the refusal.
    assert elapsed < 4 * FAST


def test_nesting_at_the_limit_is_accepted():
    # The document, `x-deep:` and the lists: MAX_NESTING values in all.
    depth = MAX_NESTING - 2
    _, diagnostics, _ = timed_load(TEXT + "x-deep: " + "[" * depth + "]" * depth + "\n")
    assert "L002" not in codes(diagnostics)


def test_expression_over_the_length_limit():
    clause = "post.signals.solicits_smuggling or "
    condition = clause * (MAX_EXPRESSION_LENGTH // len(clause) + 1) + "post.signals.offers_crossing"
    ruleset, diagnostics, elapsed = timed_load(rule_when(condition))
    assert ruleset is None
    (too_long,) = [d for d in diagnostics if d.code == "L003"]
    assert (too_long.location.line, too_long.location.column) == (WHEN_LINE, 11)
    assert elapsed < FAST


def test_deeply_nested_parentheses():
    # As deep as the length limit allows: far past MAX_DEPTH, and past what a recursive
    # parser would survive.
    atom = "post.signals.solicits_smuggling"
    depth = (MAX_EXPRESSION_LENGTH - len(atom)) // 2
    ruleset, diagnostics, elapsed = timed_load(rule_when("(" * depth + atom + ")" * depth))
    assert ruleset is None
    (too_deep,) = [d for d in diagnostics if d.is_error]
    assert too_deep.code == "L004"
    assert (too_deep.location.line, too_deep.location.column) == (WHEN_LINE, 11)
    assert elapsed < FAST


def test_parentheses_at_and_past_the_limit():
    atom = "post.signals.solicits_smuggling"
    at_limit = rule_when("(" * MAX_DEPTH + atom + ")" * MAX_DEPTH)
    past_limit = rule_when("(" * (MAX_DEPTH + 1) + atom + ")" * (MAX_DEPTH + 1))
    assert load_text(at_limit, "deep.yaml")[0] is not None
    assert codes([d for d in load_text(past_limit, "deep.yaml")[1] if d.is_error]) == ["L004"]


def test_deeply_nested_operators():
    condition = "not " * (MAX_DEPTH + 1) + "post.signals.solicits_smuggling"
    _, diagnostics, elapsed = timed_load(rule_when(condition))
    assert codes([d for d in diagnostics if d.is_error]) == ["L004"]
    assert elapsed < FAST


def test_regular_expression_over_the_length_limit():
    pattern = "(smuggl|boat|crossing)" * (MAX_PATTERN_LENGTH // 22 + 1)
    ruleset, diagnostics, elapsed = timed_load(rule_when(f"post.text matches '{pattern}'"))
    assert ruleset is None
    (too_large,) = [d for d in diagnostics if d.code == "L005"]
    # The caret starts at the opening quote: column 11 + len("post.text matches ").
    assert (too_large.location.line, too_large.location.column) == (WHEN_LINE, 29)
    assert elapsed < FAST


def test_catastrophic_pattern_runs_in_linear_time():
    pattern = "post.text matches '(a+)+$'"
    ruleset, diagnostics = load_text(rule_when(pattern), "re.yaml")
    assert ruleset is not None, diagnostics
    (rule,) = [r for r in ruleset.rules if r.when == pattern]
    condition = compile_ruleset(ruleset).functions[rule.id]
    no_match = {"text": "a" * 100_000 + "!"}
    start = time.perf_counter()
    result = condition(no_match, {}, {}, {}, {})
    elapsed = time.perf_counter() - start
    assert result is False
    assert elapsed < FAST
    assert condition({"text": "a" * 100_000}, {}, {}, {}, {}) is True


def test_duplicate_keys_report_both_positions():
    # A second verdict right after the first rule's own.
    verdict = line_of("    verdict: ")
    ruleset, diagnostics, _ = timed_load(replaced(verdict, verdict.group() + "    verdict: allowed\n"))
    assert ruleset is None
    (duplicate,) = [d for d in diagnostics if d.code == "Y002"]
    first_line = line_number(verdict)
    assert (duplicate.location.line, duplicate.location.column) == (first_line + 1, 5)
    (label, first), = duplicate.related
    assert (label, first.line, first.column) == ("first written here", first_line, 5)
    assert re.fullmatch(r"/rules/[a-z0-9-]+/verdict", duplicate.pointer)


def test_non_utf8_bytes():
    data = TEXT.encode("utf-8").replace("traversée".encode(), "traversée".encode("latin-1"))
    ruleset, diagnostics, _ = timed_load(data)
    assert ruleset is None
    assert codes(diagnostics) == ["Y005"]
    assert "UTF-8" in diagnostics[0].message


def test_unreadable_file_is_a_diagnostic(tmp_path):
    ruleset, diagnostics = load_ruleset(tmp_path)  # a directory, not a file
    assert ruleset is None
    assert codes(diagnostics) == ["Y005"]


def test_control_character_is_a_yaml_error():
    kind = line_of("kind: ")
    ruleset, diagnostics, _ = timed_load(replaced(kind, "kind: pol\x08icy\n"))
    assert ruleset is None
    assert codes(diagnostics) == ["Y001"]
    assert diagnostics[0].message == "the character U+0008 is not allowed in YAML"
    assert (diagnostics[0].location.line, diagnostics[0].location.column) == (line_number(kind), 10)


# No input makes the loader raise.

def test_parameter_source_of_the_wrong_type_is_a_diagnostic():
    """A parameter's `source:` that is not a text once made the loader raise."""
    for source in ("true", "[he]", "{key: he}", "7"):
        block = (f"parameters:\n  page_violation_limit:\n    unit: count\n"
                 f"    values: {{2019-09-03: 5}}\n    source: {source}\n")
        ruleset, diagnostics, _ = timed_load(replaced(line_of("rules:"), block + "rules:\n"))
        assert ruleset is None
        assert "S003" in codes(diagnostics), source



def assert_loads_quietly(data: str | bytes) -> None:
    ruleset, diagnostics = load_text(data, "fuzz.yaml")
    assert isinstance(diagnostics, list)
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    assert ruleset is None or not any(d.is_error for d in diagnostics)


YAML_PIECES = ["ruleset:", "rules:", "  smuggling-offer:", "    when: ", "    verdict: ",
               "effective: {from: ", "parameters:", "lexicons:", "\n", " ", "- ", "[", "]",
               "{", "}", ": ", ", ", "&a ", "*a", "!!python/object ", "!!str ", "|\n", ">\n",
               "'", '"', "# ", "post.signals.price", " > ", "3000 GBP", "any(p in page.posts",
               ")", "2023-02-30", "\t", "? ", "%YAML 1.1\n", "---\n", "...\n", "é", "\x00",
               "\ufeff", "\x85", "<<: ", "~", "null", "1e400", "0x1F", ".nan", "-.inf"]
yamlish = st.lists(st.sampled_from(YAML_PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), yamlish, st.binary(max_size=200)))
@example("\x08")  # the YAML reader refuses control characters as it starts
@example("rules: {a: {when: '(((('}}")
@example(b"\xff\xfe")
@example("<<: {a: 1}")  # the merge key once crashed the loader
@example("? !!python/name:os.system\n: x")  # and so did a tagged key
def test_arbitrary_input_never_raises(data):
    assert_loads_quietly(data)


def _data_of_real_file():
    data = yaml.safe_load(TEXT)

    def iso(value):  # as the loader sees it: dates as ISO text
        if isinstance(value, dict):
            return {str(k): iso(v) for k, v in value.items()}
        if isinstance(value, list):
            return [iso(v) for v in value]
        return value.isoformat() if isinstance(value, datetime.date) else value

    return iso(data)


REAL_DATA = _data_of_real_file()


def _pointers(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _pointers(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _pointers(child, (*prefix, index))


POINTERS = [p for p in _pointers(REAL_DATA) if p]
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
              st.sampled_from(["post", "page", "money", "allowed", "he", "2022-02-30",
                               "counting_window", "post.signals.price > 3"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(POINTERS), json_values), min_size=1, max_size=3))
@example([(("sources",), 7)])
@example([(("rules",), [])])
def test_real_file_with_wrong_values_never_raises(changes):
    data = copy.deepcopy(REAL_DATA)
    for pointer, value in changes:
        parent = data
        try:
            for key in pointer[:-1]:
                parent = parent[key]
            parent[pointer[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    assert_loads_quietly(yaml.safe_dump(data, allow_unicode=True))
