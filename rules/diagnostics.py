"""Diagnostics: what a pass found wrong, as values.

Passes never print or exit; they add `Diagnostic`s to a list and carry on, so one run
reports every problem it can find. Each diagnostic has a stable code from
`rules.codes`, a place in the user's file (line and column counted from 1, end
exclusive), a short lowercase message, a hint, and a JSON pointer where it concerns
structure. `rules.render` turns them into text, JSON or SARIF.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from rules import codes

__all__ = ["Location", "Diagnostic", "SourceText", "ExpressionOrigin", "sorted_diagnostics",
           "has_errors", "suggest"]


@dataclass(frozen=True, slots=True)
class Location:
    """A range in a file: lines and columns count from 1, the end is exclusive."""

    file: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0

    @property
    def is_known(self) -> bool:
        return self.line > 0


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    location: Location
    hint: str = ""
    pointer: str = ""
    related: tuple[tuple[str, Location], ...] = ()
    severity: str = field(default="")

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", codes.severity(self.code))

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.pointer, self.code, self.message)

    def as_json(self) -> dict:
        loc = self.location
        out = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line,
            "end_column": loc.end_column,
        }
        if self.hint:
            out["hint"] = self.hint
        if self.pointer:
            out["pointer"] = self.pointer
        if self.related:
            out["related"] = [
                {"message": m, "file": r.file, "line": r.line, "column": r.column}
                for m, r in self.related
            ]
        return out


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in file order, each reported once."""
    unique = {(d.code, d.message, d.location, d.pointer): d for d in diagnostics}
    return sorted(unique.values(), key=Diagnostic.sort_key)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


class SourceText:
    """The text of one file, able to turn character offsets into lines and columns."""

    __slots__ = ("name", "text", "_line_starts")

    def __init__(self, name: str, text: str):
        self.name = name
        self.text = text
        self._line_starts = [0]
        self._line_starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based (line, column)."""
        if line < 1:
            return 0
        if line > len(self._line_starts):
            return len(self.text)
        return self._line_starts[line - 1] + column - 1

    def line_text(self, line: int) -> str:
        if not 1 <= line <= len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def location(self, start: int, end: int | None = None) -> Location:
        line, column = self.position(start)
        end_line, end_column = self.position(start + 1 if end is None or end <= start else end)
        return Location(self.name, line, column, end_line, end_column)


@dataclass(frozen=True, slots=True)
class ExpressionOrigin:
    """Where an expression string sits in its file, so that a span inside the string
    becomes a line and column in the file (not an offset in the string).

    `file_offsets[i]` is the file offset of character `i` of the expression; the list
    has one extra entry for the end of the string.
    """

    source: SourceText
    pointer: str
    file_offsets: tuple[int, ...]

    def location(self, start: int, end: int) -> Location:
        last = len(self.file_offsets) - 1
        start = max(0, min(start, last))
        end = max(start, min(end, last))
        file_start = self.file_offsets[start]
        # The end is exclusive: map the last character inside the span and step past it.
        file_end = self.file_offsets[end - 1] + 1 if end > start else file_start + 1
        return self.source.location(file_start, file_end)

    def diagnostic(self, code: str, message: str, start: int, end: int, hint: str = "",
                   **extra) -> Diagnostic:
        return Diagnostic(code, message, self.location(start, end), hint=hint,
                          pointer=self.pointer, **extra)

    @classmethod
    def plain(cls, text: str, name: str = "<expression>", pointer: str = "") -> ExpressionOrigin:
        """An origin for an expression that is its own file (tests, the REPL, the API)."""
        return cls(SourceText(name, text), pointer, tuple(range(len(text) + 1)))


def suggest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest candidate to a misspelt name, if one is close enough."""
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None

