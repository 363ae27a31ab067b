"""Read a YAML rule file safely, keeping the position of every value.

Rule files are untrusted. Reading refuses what could hurt the process or hide what a
file says: files over a size limit, anchors and aliases (a 'billion laughs' file is
refused at its first alias, before anything expands), tags beyond plain YAML values,
nesting past a depth limit, too many nodes, and duplicate keys (which YAML would
otherwise resolve silently by keeping the last one).

The result is plain JSON-like data (dates become ISO strings, so that the JSON Schema
can check them) and a map from JSON pointer to the YAML node it came from, so that
any later diagnostic can point at a line and column of the file.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.diagnostics import Diagnostic, ExpressionOrigin, Location, SourceText

__all__ = ["Document", "read_document", "pointer_join", "MAX_FILE_BYTES", "MAX_NESTING",
           "MAX_NODES"]

MAX_FILE_BYTES = 1 << 20
MAX_NESTING = 24
MAX_NODES = 200_000

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
}


class _Refused(Exception):
    def __init__(self, code: str, message: str, mark, hint: str = ""):
        super().__init__(message)
        self.code, self.message, self.mark, self.hint = code, message, mark, hint


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and anchors, deep nesting and huge node counts
    while composing, before any value is constructed."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._count = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused("Y003", f"alias *{event.anchor} is not allowed", event.start_mark,
                           "write the value out in full where it is needed")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused("Y003", f"anchor &{anchor} is not allowed", event.start_mark,
                           "remove the anchor and write values out in full")
        self._count += 1
        if self._count > MAX_NODES:
            raise _Refused("L006", f"the file has more than {MAX_NODES} values", event.start_mark)
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise _Refused("L002", f"values are nested more than {MAX_NESTING} levels deep",
                           event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass
class Document:
    source: SourceText
    data: Any
    nodes: dict[str, Node] = field(default_factory=dict)
    keys: dict[str, Node] = field(default_factory=dict)

    def location(self, pointer: str, key: bool = False) -> Location:
        """Where the value at `pointer` (or, with `key`, its key) is written."""
        node = (self.keys.get(pointer) if key else None) or self.nodes.get(pointer)
        while node is None and pointer:
            pointer = pointer.rsplit("/", 1)[0]
            node = self.nodes.get(pointer)
        if node is None:
            return Location(self.source.name, 1, 1, 1, 2)
        return self._node_location(node)

    def _node_location(self, node: Node) -> Location:
        start, end = node.start_mark, node.end_mark
        if isinstance(node, MappingNode | SequenceNode) or end.line != start.line:
            # A block value: point at its first line only.
            line_text = self.source.line_text(start.line + 1)
            return Location(self.source.name, start.line + 1, start.column + 1, start.line + 1,
                            max(len(line_text) + 1, start.column + 2))
        return Location(self.source.name, start.line + 1, start.column + 1, end.line + 1,
                        end.column + 1)

    def expression_origin(self, pointer: str, value: str) -> ExpressionOrigin:
        """Map each character of the string at `pointer` to its offset in the file."""
        node = self.nodes.get(pointer)
        if not isinstance(node, ScalarNode):
            return ExpressionOrigin.plain(value, self.source.name, pointer)
        return ExpressionOrigin(self.source, pointer, _align(self.source.text, node, value))


def pointer_join(pointer: str, key: str | int) -> str:
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{token}"


def read_document(text_or_bytes: str | bytes, name: str) -> tuple[Document | None, list[Diagnostic]]:
    """Read one rule file. Returns the document (None if it cannot be read) and diagnostics."""
    size = len(text_or_bytes)
    if size > MAX_FILE_BYTES:
        return None, [Diagnostic("L001", f"the file is {size} bytes, more than {MAX_FILE_BYTES}",
                                 Location(name, 1, 1, 1, 2),
                                 hint="split the rule set into several files")]
    if isinstance(text_or_bytes, bytes):
        try:
            text = text_or_bytes.decode("utf-8")
        except UnicodeDecodeError as error:
            return None, [Diagnostic("Y005", f"the file is not UTF-8 text (byte {error.start})",
                                     Location(name, 1, 1, 1, 2),
                                     hint="save the file as UTF-8")]
    else:
        text = text_or_bytes
    source = SourceText(name, text)
    root = _compose_fast(text)
    if root is not _UNSAFE:
        document = Document(source, None)
        diagnostics: list[Diagnostic] = []
        document.data = {} if root is None else _construct(
            root, "", document, yaml.SafeLoader(""), diagnostics)
        return document, diagnostics
    try:
        loader = _GuardedLoader(text)
    except yaml.reader.ReaderError as error:
        # The reader checks a whole string for control characters when it is created.
        line, column = source.position(error.position)
        return None, [Diagnostic("Y001", f"the character U+{error.character:04X} is not allowed "
                                 "in YAML", Location(name, line, column, line, column + 1),
                                 hint="remove the control character")]
    try:
        root = loader.get_single_node()
    except _Refused as refused:
        return None, [_at_mark(source, refused.code, refused.message, refused.mark, refused.hint)]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = (error.problem or error.context or "invalid YAML").strip()
        return None, [_at_mark(source, "Y001", message, mark, _yaml_hint(message))]
    except yaml.YAMLError as error:
        return None, [Diagnostic("Y001", str(error).splitlines()[0], Location(name, 1, 1, 1, 2))]
    finally:
        loader.dispose()
    document = Document(source, None)
    diagnostics = []
    if root is None:
        document.data = {}
        return document, diagnostics
    document.data = _construct(root, "", document, loader, diagnostics)
    return document, diagnostics


# libyaml, when PyYAML has it, composes a file about fifteen times faster than the pure
# Python parser. It is used only for files that are plain, safe YAML: its events are
# checked first for what the guarded loader refuses (anchors, aliases, depth, size), and
# anything unusual (a refusal, a syntax error, a control character) is read again by
# the guarded Python loader, whose diagnostics are the project's.
_UNSAFE = object()


def _compose_fast(text: str):
    """The root node of `text` read with libyaml, or _UNSAFE when it must be read by the
    guarded loader."""
    if not getattr(yaml, "__with_libyaml__", False):
        return _UNSAFE
    depth = count = 0
    try:
        yaml.reader.Reader(text)  # refuses control characters, as the guarded loader does
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                return _UNSAFE
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                count, depth = count + 1, depth + 1
                if depth > MAX_NESTING or count > MAX_NODES:
                    return _UNSAFE
            elif isinstance(event, yaml.ScalarEvent):
                count += 1
                if depth + 1 > MAX_NESTING or count > MAX_NODES:
                    return _UNSAFE
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                depth -= 1
        return yaml.compose(text, Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, ValueError):
        return _UNSAFE


def _at_mark(source: SourceText, code: str, message: str, mark, hint: str = "") -> Diagnostic:
    if mark is None:
        return Diagnostic(code, message, Location(source.name, 1, 1, 1, 2), hint=hint)
    return Diagnostic(code, message, Location(source.name, mark.line + 1, mark.column + 1,
                                              mark.line + 1, mark.column + 2), hint=hint)


def _yaml_hint(message: str) -> str:
    if "mapping values are not allowed" in message:
        return ("a value that contains ': ' must be quoted, or written as a block after "
                "`|` on the next lines")
    if "found character '\\t'" in message:
        return "indent with spaces, not tabs"
    if "could not find expected ':'" in message:
        return "a key must be followed by ':'; check the indentation of the lines above"
    return "check the indentation and quoting on this line and the one before"


def _construct(node: Node, pointer: str, document: Document, loader, diagnostics) -> Any:
    document.nodes[pointer] = node
    if node.tag not in _PLAIN_TAGS:
        diagnostics.append(Diagnostic("Y004", f"the tag {node.tag} is not allowed",
                                      document._node_location(node),
                                      hint="write a plain value without a tag"))
        return None
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                diagnostics.append(Diagnostic("S003", "a key must be a plain word or date",
                                              document._node_location(key_node)))
                continue
            if key_node.tag not in _PLAIN_TAGS:  # a tagged key, or the merge key `<<`
                diagnostics.append(Diagnostic("Y004", f"the tag {key_node.tag} is not allowed",
                                              document._node_location(key_node),
                                              hint="write a plain key; merge keys (<<) are not "
                                              "supported"))
                continue
            key = _scalar(key_node, loader)
            key = key.isoformat() if isinstance(key, datetime.date) else str(key)
            child = pointer_join(pointer, key)
            if key in out:
                first = document.keys.get(child)
                related = (("first written here", document._node_location(first)),) if first else ()
                diagnostics.append(Diagnostic(
                    "Y002", f"the key `{key}` appears twice", document._node_location(key_node),
                    hint="rename one of the two, or merge them", pointer=child, related=related))
                continue
            document.keys[child] = key_node
            out[key] = _construct(value_node, child, document, loader, diagnostics)
        return out
    if isinstance(node, SequenceNode):
        return [_construct(item, pointer_join(pointer, i), document, loader, diagnostics)
                for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)
    value = _scalar(node, loader)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _scalar(node: ScalarNode, loader) -> Any:
    if node.tag == "tag:yaml.org,2002:timestamp":
        try:
            return loader.construct_yaml_timestamp(node)
        except ValueError:
            return node.value  # an impossible date: the schema reports it as text
    return loader.construct_object(node)


def _align(text: str, node: ScalarNode, value: str) -> tuple[int, ...]:
    """File offsets of each character of a scalar's value.

    Non-blank characters of the value appear in the file in the same order, whatever
    the scalar style (plain, quoted, literal `|`, folded `>`): YAML only changes line
    breaks and indentation. So each non-blank value character is matched to the next
    identical non-blank character of the raw text; blanks take the offset after the
    previous character. Escapes in double quotes can break the match, and then the rest
    of the value maps to the start of the scalar, which is still the right line.
    """
    start, end = node.start_mark.index, node.end_mark.index
    raw_start = start
    if node.style in ("|", ">"):
        newline = text.find("\n", start)
        raw_start = end if newline < 0 else newline + 1
    elif node.style in ("'", '"'):
        raw_start = start + 1
    offsets: list[int] = []
    cursor = raw_start
    fallback = start
    for ch in value:
        if ch.isspace():
            offsets.append(min(cursor, max(end - 1, start)))
            continue
        found = -1
        probe = cursor
        while probe < end:
            c = text[probe]
            if c == ch:
                found = probe
                break
            if not c.isspace() and c not in "\\'\"":
                break
            probe += 1
        if found < 0:
            offsets.append(fallback)
            continue
        offsets.append(found)
        fallback = found
        cursor = found + 1
        if node.style == "'" and ch == "'" and cursor < end and text[cursor] == "'":
            cursor += 1  # '' inside single quotes is one quote
    offsets.append(cursor)
    return tuple(offsets)
