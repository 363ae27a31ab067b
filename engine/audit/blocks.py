"""The building blocks of an audit report, written once and rendered as Markdown or
HTML (`engine.audit.render`): headings, paragraphs of inline runs, quotations with
highlighted spans, lists, tables, call-outs and figures.

A run is plain text (a str) or one of the inline values below; a block holds runs,
never markup, so the renderers escape everything they are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Strong", "Code", "Mark", "Link", "Run", "Heading", "Paragraph", "Quote",
           "BulletList", "Table", "Callout", "Figure", "Block"]


@dataclass(frozen=True, slots=True)
class Strong:
    text: str


@dataclass(frozen=True, slots=True)
class Code:
    text: str


@dataclass(frozen=True, slots=True)
class Mark:
    """A span of quoted evidence that a rule matched; `note` says what matched it."""

    text: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str


Run = str | Strong | Code | Mark | Link


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    runs: tuple[Run, ...]
    small: bool = False


@dataclass(frozen=True, slots=True)
class Quote:
    """Quoted text: a clause of a policy, or evidence with its matched spans marked."""

    runs: tuple[Run, ...]
    source: tuple[Run, ...] = ()


@dataclass(frozen=True, slots=True)
class BulletList:
    items: tuple[tuple[Run, ...], ...]


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Run | tuple[Run, ...], ...], ...]
    numeric: tuple[int, ...] = ()  # the columns to align right
    caption: str = ""
    shades: tuple[tuple[float, ...], ...] = field(default=())  # 0..1 per cell, for heat maps


@dataclass(frozen=True, slots=True)
class Callout:
    """The finding, set apart: `kind` is a consistency status."""

    kind: str
    runs: tuple[Run, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """A chart as inline SVG. Markdown has no place for it: every figure sits next to
    a table with the same numbers."""

    svg: str
    caption: str


Block = Heading | Paragraph | Quote | BulletList | Table | Callout | Figure
