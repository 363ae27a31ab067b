"""`takedown fmt`: the canonical layout of the conditions in rule files.

Only the `when:` conditions of rules and exceptions are rewritten; every other byte of
a file (comments, key order, quoting, the layout of lists and texts) stays as written.
A full YAML round trip would re-emit the whole file in the emitter's own style, so the
file is read with a round-trip parser (ruamel.yaml), which gives the exact extent of
each condition and any comment beside it, and each new condition is spliced in there.
ruamel.yaml also writes a one-line condition, so that it is quoted when YAML needs it
(`when: true` would otherwise be read as a boolean).

The layout of a condition is `rules.unparse_pretty`: one line when it fits in
`LINE_WIDTH` columns, counted from the start of the file's line; otherwise a literal
block (`|`) broken by the printer's rules. A condition that holds comments (`# ...`)
is kept as written, since the canonical text would drop them.

A file with errors is never rewritten. A rewritten file is loaded again and must give
the same rule set, condition trees included, or nothing is written: formatting cannot
change a decision. Nothing here prints: `takedown fmt` is engine/cli/fmt.py.
"""

from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass
from functools import cache

import rules

__all__ = ["LINE_WIDTH", "Formatted", "FormattingError", "format_text"]

LINE_WIDTH = 88


class FormattingError(Exception):
    """The formatted text would not mean what the file means: a bug, never written."""


@dataclass(frozen=True, slots=True)
class Formatted:
    """The result of formatting one file's text."""

    name: str
    text: str | None  # the canonical text; None when the file has errors
    original: str
    diagnostics: tuple[rules.Diagnostic, ...]  # the file's errors, when it has any
    kept: tuple[str, ...] = ()  # pointers of conditions kept as written (they hold comments)

    @property
    def is_changed(self) -> bool:
        return self.text is not None and self.text != self.original


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    stop: int
    text: str


def format_text(text: str, name: str, width: int = LINE_WIDTH) -> Formatted:
    """Lay out every condition of one rule file's text canonically.

    Args:
        text: the file's text.
        name: the file name used in diagnostics.
        width: the longest line a condition is laid out to, counted from column 1.

    Raises:
        FormattingError: if the result would not load into the same rule set (a bug).
    """
    ruleset, diagnostics = rules.load_text(text, name)
    if ruleset is None:
        return Formatted(name, None, text, tuple(d for d in diagnostics if d.is_error))
    edits: list[_Edit] = []
    kept: list[str] = []
    try:
        conditions = list(_conditions(text))
    except Exception as error:  # ruamel.yaml reads YAML 1.2, the loader YAML 1.1
        raise FormattingError(f"{name}: the round-trip parser cannot read the file: "
                              f"{error}") from error
    for pointer, key, value, in_flow in conditions:
        if _has_comment(value.value):
            kept.append(pointer)
            continue
        edit = _edit(text, key, value, in_flow, width)
        if edit is not None and text[edit.start:edit.stop] != edit.text:
            edits.append(edit)
    result = text
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        result = result[:edit.start] + edit.text + result[edit.stop:]
    if result != text:
        _check_same_meaning(ruleset, result, name)
    return Formatted(name, result, text, (), tuple(kept))


def _conditions(text: str):
    """(pointer, key node, value node, in a flow mapping) of each `when:` of a rule or
    an exception, read with ruamel.yaml's composer, which keeps exact positions."""
    from ruamel.yaml import YAML
    from ruamel.yaml.nodes import MappingNode, ScalarNode

    root = YAML(typ="rt", pure=True).compose(io.StringIO(text))

    def entries(node):
        return node.value if isinstance(node, MappingNode) else []

    def when_of(rule, pointer):
        for key, value in entries(rule):
            if key.value == "when" and isinstance(value, ScalarNode):
                yield pointer + "/when", key, value, bool(rule.flow_style)

    for key, value in entries(root):
        if key.value != "rules":
            continue
        for rule_key, rule in entries(value):
            pointer = f"/rules/{rule_key.value}"
            yield from when_of(rule, pointer)
            for unless_key, unless in entries(rule):
                if unless_key.value != "unless":
                    continue
                for exc_key, exception in entries(unless):
                    yield from when_of(exception, f"{pointer}/unless/{exc_key.value}")


# Outside quotes, `#` starts a comment in a condition (rules/grammar.lark).
_COMMENT_OR_TEXT = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|#")


def _has_comment(condition: str) -> bool:
    return any(m.group() == "#" for m in _COMMENT_OR_TEXT.finditer(condition))


def _edit(text: str, key, value, in_flow: bool, width: int) -> _Edit | None:
    """The splice that gives one condition its canonical layout."""
    tree, _ = rules.parse(value.value)
    if tree is None:  # cannot happen in a file that loaded; leave it alone
        return None
    start, end = value.start_mark.index, value.end_mark.index
    if in_flow:  # inside {...} a condition stays on one line
        return _Edit(start, end, _one_line(rules.unparse(tree), in_flow=True))
    comment = ""
    if value.style in ("|", ">"):
        header_end = text.find("\n", start)
        header = text[start:header_end]
        comment = header[header.index("#"):].rstrip() if "#" in header else ""
        stop = _after_last_line(text, header_end + 1, end)
    else:
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        rest = text[end:line_end]
        if rest.strip() and not rest.lstrip().startswith("#"):  # more on the line: keep it
            return _Edit(start, end, _one_line(rules.unparse(tree)))
        comment = rest.strip()
        stop = min(line_end + 1, len(text))
    # From the end of the key, so that a value written on the line below comes up.
    gap = text[key.end_mark.index:start]
    if "#" in gap or not re.fullmatch(r"\s*:\s*", gap):
        head_start, head = start, ""
    else:
        head_start, head = key.end_mark.index, ": "
    column = key.start_mark.column
    after = f"  {comment}" if comment else ""
    eol = "\r\n" if "\r\n" in text else "\n"
    newline = eol if text[stop - 1:stop] == "\n" else ""
    pretty = rules.unparse_pretty(tree, width - column - len("when: "))
    if "\n" not in pretty:  # it fits on the line of its key
        scalar = _one_line(pretty)
        if column + len("when: ") + len(scalar) <= width:
            return _Edit(head_start, stop, head + scalar + after + newline)
    indent = " " * (column + 2)
    lines = rules.unparse_pretty(tree, width - len(indent)).split("\n")
    block = eol.join(["|" + after] + [indent + line for line in lines])
    return _Edit(head_start, stop, head + block + newline)


def _after_last_line(text: str, start: int, end: int) -> int:
    """The offset just after the last line of a block scalar that is not blank:
    the blank lines YAML counts into the scalar stay in the file as they are."""
    stop = start
    for match in re.finditer(r"[^\n]*(?:\n|$)", text[start:end]):
        if match.group().strip():
            stop = start + match.end()
    return stop


def _one_line(condition: str, in_flow: bool = False) -> str:
    """A condition as a one-line YAML scalar: plain where YAML reads it back as the
    same text, else quoted, as ruamel.yaml's emitter decides (inside `{...}`, where a
    comma ends a plain value, with the rules of that context)."""
    out = io.StringIO()
    _emitter(in_flow).dump({"when": condition}, out)
    written = out.getvalue().rstrip("\n")
    return written[len("{when: "):-1] if in_flow else written[len("when: "):]


@cache
def _emitter(in_flow: bool):
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    yaml.width = 1 << 16  # never fold a condition over lines
    yaml.default_flow_style = in_flow
    return yaml


def _check_same_meaning(before: rules.RuleSet, text: str, name: str) -> None:
    after, diagnostics = rules.load_text(text, name)
    if after is None:
        errors = "; ".join(f"{d.code} {d.message}" for d in diagnostics if d.is_error)
        raise FormattingError(f"{name}: the formatted file would not load ({errors})")
    if _without_texts(before) != _without_texts(after):
        raise FormattingError(f"{name}: the formatted file would not give the same rule set")


def _without_texts(ruleset: rules.RuleSet) -> rules.RuleSet:
    """The rule set with what formatting may change taken out: the text of each
    condition (its tree stays) and the file's hash."""
    def bare(rule: rules.Rule) -> rules.Rule:
        return dataclasses.replace(rule, when="", exceptions=tuple(map(bare, rule.exceptions)))

    return dataclasses.replace(ruleset, sha256="", rules=tuple(map(bare, ruleset.rules)))
