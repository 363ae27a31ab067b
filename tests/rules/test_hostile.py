"""Rule files are untrusted input: hostile ones are refused quickly, with a diagnostic,
without running anything they name, and no input makes the loader raise.

Each hostile file is built from the real 2022 Meta rule file, so that what is refused is
the attack and not some other mistake.
"""

import copy
import datetime
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
REQUEST_WHEN = "    when: post.signals.solicits_smuggling\n"  # line 97 of the real file
FAST = 0.5  # seconds: every refusal here takes milliseconds


def edited(old: str, new: str) -> str:
    assert TEXT.count(old) == 1, f"{old!r} must occur exactly once"
    return TEXT.replace(old, new)


def request_rule_when(condition: str) -> str:
    """The real file with another condition for `smuggling-request` (line 97, column 11)."""
    return edited(REQUEST_WHEN, f"    when: {condition}\n")


def timed_load(text: str | bytes):
    start = time.perf_counter()
    ruleset, diagnostics = load_text(text, "hostile.yaml")
    return ruleset, diagnostics, time.perf_counter() - start


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.code for d in diagnostics]


def billion_laughs(levels: int = 9) -> str:
    """Nine lists of nine aliases of the level below: 9**9 strings once expanded."""
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
    assert (diagnostics[0].location.line, diagnostics[0].location.column) == (138, 9)
    assert elapsed < FAST


def test_alias_to_nothing_is_refused_as_an_alias():
    _, diagnostics, _ = timed_load(edited("title: Offers to smuggle people", "title: *offer"))
    assert codes(diagnostics) == ["Y003"]


def test_python_tags_are_refused_and_run_nothing(tmp_path):
    marker = tmp_path / "executed"
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system",
                "!!python/object/apply:subprocess.check_call"):
        hostile = edited("    message: the post asks for a smuggler\n",
                         f'    message: {tag} ["touch {marker}"]\n')
        ruleset, diagnostics, _ = timed_load(hostile)
        assert ruleset is None
        assert "Y004" in codes(diagnostics), tag
        (refused,) = [d for d in diagnostics if d.code == "Y004"]
        assert (refused.location.line, refused.location.column) == (101, 14)
    assert not marker.exists()


def test_python_name_tag_is_refused():
    _, diagnostics, _ = timed_load(edited("kind: policy", "kind: !!python/name:os.system"))
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
    assert (diagnostics[0].location.line, diagnostics[0].location.column) == (137, 9 + MAX_NESTING - 1)
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
    ruleset, diagnostics, elapsed = timed_load(request_rule_when(condition))
    assert ruleset is None
    (too_long,) = [d for d in diagnostics if d.code == "L003"]
    assert (too_long.location.line, too_long.location.column) == (97, 11)
    assert elapsed < FAST


def test_deeply_nested_parentheses():
    # As deep as the length limit allows: far past MAX_DEPTH, and past what a recursive
    # parser would survive.
    atom = "post.signals.solicits_smuggling"
    depth = (MAX_EXPRESSION_LENGTH - len(atom)) // 2
    ruleset, diagnostics, elapsed = timed_load(
        request_rule_when("(" * depth + atom + ")" * depth))
    assert ruleset is None
    (too_deep,) = [d for d in diagnostics if d.is_error]
    assert too_deep.code == "L004"
    assert (too_deep.location.line, too_deep.location.column) == (97, 11)
    assert elapsed < FAST


def test_parentheses_at_and_past_the_limit():
    atom = "post.signals.solicits_smuggling"
    at_limit = request_rule_when("(" * MAX_DEPTH + atom + ")" * MAX_DEPTH)
    past_limit = request_rule_when("(" * (MAX_DEPTH + 1) + atom + ")" * (MAX_DEPTH + 1))
    assert load_text(at_limit, "deep.yaml")[0] is not None
    assert codes([d for d in load_text(past_limit, "deep.yaml")[1] if d.is_error]) == ["L004"]


def test_deeply_nested_operators():
    condition = "not " * (MAX_DEPTH + 1) + "post.signals.solicits_smuggling"
    _, diagnostics, elapsed = timed_load(request_rule_when(condition))
    assert codes([d for d in diagnostics if d.is_error]) == ["L004"]
    assert elapsed < FAST


def test_regular_expression_over_the_length_limit():
    pattern = "(smuggl|boat|crossing)" * (MAX_PATTERN_LENGTH // 22 + 1)
    ruleset, diagnostics, elapsed = timed_load(request_rule_when(f"post.text matches '{pattern}'"))
    assert ruleset is None
    (too_large,) = [d for d in diagnostics if d.code == "L005"]
    # The caret starts at the opening quote of the pattern.
    assert (too_large.location.line, too_large.location.column) == (97, 29)
    assert elapsed < FAST


def test_catastrophic_pattern_runs_in_linear_time():
    ruleset, diagnostics = load_text(request_rule_when("post.text matches '(a+)+$'"), "re.yaml")
    assert ruleset is not None, diagnostics
    condition = compile_ruleset(ruleset).functions["smuggling-request"]
    no_match = {"text": "a" * 100_000 + "!"}
    start = time.perf_counter()
    result = condition(no_match, {}, {}, {}, {})
    elapsed = time.perf_counter() - start
    assert result is False
    assert elapsed < FAST
    assert condition({"text": "a" * 100_000}, {}, {}, {}, {}) is True


def test_duplicate_keys_report_both_positions():
    # A second verdict at the end of the page rule, whose first is on line 134.
    ruleset, diagnostics, _ = timed_load(TEXT + "    verdict: allowed\n")
    assert ruleset is None
    (duplicate,) = [d for d in diagnostics if d.code == "Y002"]
    assert (duplicate.location.line, duplicate.location.column) == (137, 5)
    (label, first), = duplicate.related
    assert (label, first.line, first.column) == ("first written here", 134, 5)
    assert duplicate.pointer == "/rules/page-for-smuggling/verdict"


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
    ruleset, diagnostics, _ = timed_load(edited("kind: policy", "kind: pol\x08icy"))
    assert ruleset is None
    assert codes(diagnostics) == ["Y001"]
    assert (diagnostics[0].location.line, diagnostics[0].location.column) == (12, 10)


# No input makes the loader raise.

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
@example([(("parameters", "counting_window", "source"), True)])  # once crashed the loader
@example([(("sources",), 7)])
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
