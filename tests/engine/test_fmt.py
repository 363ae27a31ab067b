"""`takedown fmt` and the layout it writes (`rules.unparse_pretty`).

The laws: a laid-out condition parses to the same tree, at any width; formatting twice
changes nothing; formatting never changes a decision, checked on the bundled rule sets
and every fixture; nothing but the conditions changes in a file, comments included;
diagnostics still point at the text they concern. (The printer's law sits here with
the formatter it serves, on the conditions drawn by the rule language's strategies.)
"""

import dataclasses
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine, NoRulesetInForce, load_evidence
from engine.authoring.formatting import LINE_WIDTH, format_text
from engine.authoring.testing import run_tests
from engine.cli import main
from rules import Registry, load_registry, load_text, parse, rule_files, unparse, unparse_pretty
from tests.engine.support import FIXTURES, PINNED_RULES, fixture_paths
from tests.rules.strategies import LEVELS, conditions

LAWS = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FILES = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
PINNED = PINNED_RULES / "meta" / "human-exploitation" / "2022-12-07.yaml"


# The layout of one condition

@LAWS
@given(st.sampled_from(LEVELS).flatmap(lambda level: conditions(level, depth=3)),
       st.integers(1, 120))
def test_a_laid_out_condition_parses_to_the_same_tree(tree, width):
    text = unparse_pretty(tree, width)
    again, problems = parse(text)
    assert problems == [] and again == tree, text
    assert unparse_pretty(again, width) == text
    flat = unparse(tree)
    if len(flat) <= width:
        assert text == flat
    assert " ".join(text.split()) == " ".join(flat.split())  # only the blanks differ


def test_long_conditions_are_broken_as_documented():
    tree, _ = parse("page.signals.prior_strikes is known and page.signals.prior_strikes + "
                    "count(p in page.posts where p.policy.violates and p.posted within "
                    "counting_window before request.submitted) >= strike_disable_limit or "
                    "page.signals.dedicated")
    assert unparse_pretty(tree, 80) == (
        "page.signals.prior_strikes is known\n"
        "and page.signals.prior_strikes\n"
        "      + count(p in page.posts\n"
        "              where p.policy.violates\n"
        "                and p.posted within counting_window before request.submitted)\n"
        "      >= strike_disable_limit\n"
        "or page.signals.dedicated")
    tree, _ = parse('(post.context.safety_info or post.context.asylum_info or '
                    'post.context.humanitarian_info) and not post.signals.offers_crossing and '
                    'post.language in ["ar", "fa", "ps", "ckb", "ku", "sq", "tr", "vi", "ur"]')
    assert unparse_pretty(tree, 50) == (
        '(post.context.safety_info\n'
        ' or post.context.asylum_info\n'
        ' or post.context.humanitarian_info)\n'
        'and not post.signals.offers_crossing\n'
        'and post.language in ["ar", "fa", "ps", "ckb",\n'
        '                      "ku", "sq", "tr", "vi",\n'
        '                      "ur"]')


# Files

GOLDEN_IN = """\
# yaml-language-server: $schema=../../../rules/ruleset.schema.json
# A rule set for the formatter's tests.
ruleset: test.formatting
platform: meta
version: "2024-01-01"
effective: {from: 2024-01-01}
language: 1
sources:
  he: {title: Policy, url: https://example.org/policy, retrieved: 2024-01-01}

rules:
  # the main rule
  offer:
    applies_to: post
    cites: {source: he, section: One, says: offers are not allowed}
    when: |   # why: see the policy
      post.signals.offers_crossing or
        (post.signals.price is known and any(c in post.signals.contacts))

    verdict: violates   # a comment after the verdict
    unless:
      news: {cites: {source: he, section: Two, says: news}, when: post.context.news_reporting  or  (post.context.academic), verdict: allowed}
      warning:
        cites: {source: he, section: Three, says: warnings are allowed}
        when: "post.context.awareness"  # quoted for no reason

        verdict: allowed
  request:
    applies_to: post
    cites: {source: he, section: One, says: asking is not allowed}
    when:
      post.signals.solicits_smuggling
      and not post.context.safety_info
    verdict: violates
  always:
    applies_to: page
    cites: {source: he, section: One, says: always}
    when: |
      true
    verdict: violates
  commented:
    applies_to: page
    cites: {source: he, section: One, says: kept}
    when: |
      page.signals.dedicated   # a comment inside the condition
      or page.signals.offers_crossing
    verdict: violates
"""

GOLDEN_OUT = GOLDEN_IN.replace("""\
    when: |   # why: see the policy
      post.signals.offers_crossing or
        (post.signals.price is known and any(c in post.signals.contacts))
""", """\
    when: |  # why: see the policy
      post.signals.offers_crossing
      or post.signals.price is known and any(c in post.signals.contacts)
""").replace(
    "when: post.context.news_reporting  or  (post.context.academic), verdict",
    "when: post.context.news_reporting or post.context.academic, verdict",
).replace(
    'when: "post.context.awareness"  # quoted for no reason',
    "when: post.context.awareness  # quoted for no reason",
).replace("""\
    when:
      post.signals.solicits_smuggling
      and not post.context.safety_info
""", """\
    when: post.signals.solicits_smuggling and not post.context.safety_info
""").replace("""\
    when: |
      true
""", """\
    when: 'true'
""")


def test_only_the_conditions_change_and_comments_stay():
    result = format_text(GOLDEN_IN, "golden.yaml")
    assert result.text == GOLDEN_OUT
    assert result.kept == ("/rules/commented/when",)
    assert format_text(GOLDEN_OUT, "golden.yaml").is_changed is False


def test_line_endings_stay_as_they_are():
    crlf = GOLDEN_IN.replace("\n", "\r\n")
    result = format_text(crlf, "golden.yaml")
    assert result.text == GOLDEN_OUT.replace("\n", "\r\n")


def _copy_with_fixtures(source: Path, where: Path) -> Path:
    """A copy of the rule sets beside the fixtures, as embedded tests expect to find them."""
    copy = where / "platform_policies"
    shutil.copytree(source, copy)
    (where / "fixtures").symlink_to(FIXTURES, target_is_directory=True)
    return copy


@pytest.fixture(scope="module")
def formatted(tmp_path_factory, bundled_rules) -> tuple[Path, Path]:
    """The bundled rule sets (as this session's copy), and a copy formatted by the command."""
    original = _copy_with_fixtures(bundled_rules, tmp_path_factory.mktemp("original"))
    copy = _copy_with_fixtures(bundled_rules, tmp_path_factory.mktemp("formatted"))
    assert main(["fmt", str(copy)]) == 0
    return original, copy


def _comparable(decision) -> dict:
    document = decision.as_json()
    for ruleset in document["rulesets"]:
        ruleset.pop("sha256")
    return document


def test_formatting_the_bundled_rule_sets_changes_no_decision(formatted):
    # The bundled files are kept formatted (test_bundled.py), so formatting them again
    # changes no byte; that formatting preserves meaning is held by the properties above.
    original, copy = formatted
    before, after = Engine.from_paths([original]), Engine.from_paths([copy])
    assert [r.sha256 for r in before.registry] == [r.sha256 for r in after.registry]
    for path in fixture_paths():
        evidence, problems = load_evidence(path)
        assert evidence is not None, problems
        assert _comparable(before.check(evidence)) == _comparable(after.check(evidence)), path


def test_formatting_twice_changes_nothing(formatted, capsys):
    _, copy = formatted
    assert main(["fmt", "--check", str(copy)]) == 0
    assert "0 would be reformatted" in capsys.readouterr().out


def test_formatted_rule_sets_lint_and_pass_their_tests_as_before(formatted):
    original, copy = formatted
    outcomes = []
    for directory in (original, copy):
        registry, diagnostics = load_registry([directory])
        texts = {Path(f).resolve(): f.read_text(encoding="utf-8") for f in rule_files([directory])}
        # The same diagnostics, each under the same text of its file.
        found = sorted((Path(d.location.file).name, d.code, d.message, _under(d, texts))
                       for d in diagnostics)
        results = run_tests(Engine(registry), list(registry))
        outcomes.append((found, sorted((r.case.name, r.passed) for r in results)))
    assert outcomes[0] == outcomes[1]
    assert all(passed for _, passed in outcomes[1][1])


def _under(diagnostic, texts: dict) -> str:
    """The text a diagnostic points at (its first line)."""
    location = diagnostic.location
    text = texts.get(Path(location.file).resolve(), "")
    lines = text.splitlines()
    if not 1 <= location.line <= len(lines):
        return ""
    end = location.end_column if location.end_line == location.line else None
    return lines[location.line - 1][location.column - 1:end and end - 1]


@FILES
@given(st.data(), st.integers(16, 110))
def test_at_any_width_formatting_keeps_every_tree_and_decision(bundled_rules, engine, data,
                                                                width):
    """One rule file formatted at a drawn width stands in for itself among the bundled
    rule sets: every condition tree and every fixture's decision stay the same."""
    path = data.draw(st.sampled_from(rule_files([bundled_rules])))
    text = path.read_text(encoding="utf-8")
    before, problems = load_text(text, str(path))
    assert before is not None, problems
    result = format_text(text, str(path), width)
    assert format_text(result.text, str(path), width).is_changed is False
    after, problems = load_text(result.text, str(path))
    assert after is not None, problems
    conditions = [(r.id, r.condition) for r in before.all_rules()]
    assert conditions == [(r.id, r.condition) for r in after.all_rules()]
    others = [r for r in engine.registry if (r.id, r.version) != (after.id, after.version)]
    swapped = Engine(Registry([*others, after]))
    for fixture in fixture_paths():
        evidence, _ = load_evidence(fixture)
        if not after.covers(evidence.platform):
            continue
        day = max(evidence.submitted, after.effective_from)  # when this version applies
        try:
            decided = engine.check(evidence, day, explain=False)
        except NoRulesetInForce:
            continue
        assert dataclasses.replace(decided, rulesets=()) == dataclasses.replace(
            swapped.check(evidence, day, explain=False), rulesets=()), fixture


def test_check_lists_what_would_change_and_changes_nothing(tmp_path, capsys):
    path = tmp_path / "2022-12-07.yaml"
    shutil.copy(PINNED, path)
    text = path.read_bytes()
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert f"would reformat {path}" in capsys.readouterr().out
    assert path.read_bytes() == text
    assert main(["fmt", str(path)]) == 0
    assert path.read_bytes() != text
    assert main(["fmt", "--check", str(path)]) == 0


def test_a_file_with_errors_is_reported_and_left_alone(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    text = PINNED.read_text(encoding="utf-8").replace(
        "when: post.signals.solicits_smuggling", "when: post.signals.solicits_smugling")
    path.write_text(text, encoding="utf-8")
    assert main(["fmt", str(path)]) == 1
    err = capsys.readouterr().err
    assert "error[N001]" in err and "not formatted" in err
    assert path.read_text(encoding="utf-8") == text
    assert main(["fmt", str(tmp_path / "missing.yaml")]) == 2


def test_positions_in_a_formatted_condition_point_at_the_text(tmp_path, capsys):
    """After formatting, an error in a laid-out condition is reported at its own line
    and column of the file."""
    path = tmp_path / "2022-12-07.yaml"
    shutil.copy(PINNED, path)
    formatted_text = format_text(path.read_text(encoding="utf-8"), str(path), 40).text
    assert formatted_text.count("and p.posted\n") == 1  # broken over several lines
    path.write_text(formatted_text.replace("and p.posted\n", "and p.postd\n"),
                    encoding="utf-8")
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out
    line = next(n for n, x in enumerate(formatted_text.splitlines(), 1) if "and p.posted" in x)
    column = formatted_text.splitlines()[line - 1].index("p.posted") + 3
    assert f"{path}:{line}:{column}: error[N001]" in out


def test_formatting_makes_no_line_longer_than_the_width_unless_it_must(formatted):
    """A line over the width is one that was there already, or one holding a pattern,
    which cannot be broken."""
    original, copy = formatted
    for path in rule_files([copy]):
        before = set((original / path.relative_to(copy)).read_text(encoding="utf-8")
                     .splitlines())
        for line in path.read_text(encoding="utf-8").splitlines():
            assert len(line) <= LINE_WIDTH or line in before or "matches '" in line, line
