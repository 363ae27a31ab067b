"""Render report blocks as plain text for a terminal, as Markdown, or as one
self-contained HTML file.

The HTML has its style sheet inline, its charts as inline SVG, and a content security
policy that forbids every fetch, so it opens the same offline, from an e-mail or a
case file, and prints on paper with its colours and without cut tables.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Sequence

from engine.audit.blocks import (
    Block,
    BulletList,
    Callout,
    Code,
    Figure,
    Heading,
    Link,
    Mark,
    Paragraph,
    Quote,
    Run,
    Strong,
    Table,
)

__all__ = ["to_text", "to_markdown", "to_html"]

# Plain text

TEXT_WIDTH = 100


def _text_runs(runs: Sequence[Run] | Run) -> str:
    if isinstance(runs, str | Strong | Code | Mark | Link):
        runs = (runs,)
    out = []
    for run in runs:
        if isinstance(run, Link) and run.text != run.url:
            out.append(f"{run.text} <{run.url}>")
        else:
            out.append(run if isinstance(run, str) else run.text)
    return "".join(out)


def _wrapped(text: str, first: str = "", rest: str = "") -> str:
    return "\n".join(textwrap.wrap(text, TEXT_WIDTH, initial_indent=first,
                                    subsequent_indent=rest, break_long_words=False,
                                    break_on_hyphens=False)) or first.rstrip()


def _text_table(block: Table) -> str:
    """Aligned columns when the table fits the width, the last column wrapped if it alone
    does not; otherwise one record per row, its first cell as a title and each other cell
    under its column's name."""
    rows = [[_text_runs(c).replace("\n", " ") for c in row] for row in block.rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(block.header)]
    out = [_wrapped(block.caption)] if block.caption else []
    indent = sum(widths[:-1]) + 2 * (len(widths) - 1)
    if indent + min(widths[-1], 40) <= TEXT_WIDTH:
        last = min(widths[-1], TEXT_WIDTH - indent)

        def line(cells):
            tail = textwrap.wrap(cells[-1], last, break_long_words=False) or [""]
            lead = "  ".join(c.rjust(w) if i in block.numeric else c.ljust(w)
                             for i, (c, w) in enumerate(zip([*cells[:-1], tail[0]], widths,
                                                            strict=True)))
            return "\n".join([lead.rstrip(), *(" " * indent + t for t in tail[1:])])
        rule = ["-" * w for w in widths[:-1]] + ["-" * last]
        out += [line(list(block.header)), line(rule), *map(line, rows)]
        return "\n".join(out)
    for row in rows:
        out.append(_wrapped(f"{row[0]}" + (f" ({block.header[0]})" if block.header[0] else "")))
        for name, cell in zip(block.header[1:], row[1:], strict=True):
            out.append(_wrapped(cell or "–", f"    {name + ': ' if name else ''}", "      "))
    return "\n".join(out)


def _text_block(block: Block) -> str:
    if isinstance(block, Heading):
        rule = {1: "=", 2: "-"}.get(block.level)
        return block.text + (f"\n{rule * len(block.text)}" if rule else "")
    if isinstance(block, Paragraph):
        return _wrapped(_text_runs(block.runs))
    if isinstance(block, Quote):
        text = "\n".join(_wrapped(line, "  > ", "  > ") for line in
                         _text_runs(block.runs).splitlines() or [""])
        return text + (f"\n  — {_text_runs(block.source)}" if block.source else "")
    if isinstance(block, BulletList):
        return "\n".join(_wrapped(_text_runs(item), "- ", "  ") for item in block.items)
    if isinstance(block, Table):
        return _text_table(block) if block.rows else ""
    if isinstance(block, Callout):
        return _wrapped(f"{block.kind.upper()}. {_text_runs(block.runs)}")
    if isinstance(block, Figure):
        return ""
    raise TypeError(f"not a block: {block!r}")


def to_text(blocks: Sequence[Block]) -> str:
    """The report as a terminal shows it: no markup, paragraphs wrapped, tables aligned."""
    parts = [_text_block(b) for b in blocks]
    return "\n\n".join(p for p in parts if p) + "\n"


# Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_MD_LINE_START = re.compile(r"(?m)^(\s*)([#>+-]|\d+\.)")


def _md_text(text: str, line_start: bool = True) -> str:
    """Text that Markdown shows as written: no emphasis, links, HTML or tables, and
    no heading, quote or list made by a line that starts with one's marker."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(r"\1\\\2", text) if line_start else text


def _md_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _md_runs(runs: Sequence[Run] | Run) -> str:
    if isinstance(runs, str | Strong | Code | Mark | Link):
        runs = (runs,)
    out = []
    for run in runs:
        if isinstance(run, str):
            out.append(_md_text(run))
        elif isinstance(run, Strong):
            out.append(f"**{_md_text(run.text)}**")
        elif isinstance(run, Code):
            out.append(_md_code(run.text))
        elif isinstance(run, Mark):
            # Markdown has no highlight: bold, and what matched it in brackets
            note = f" [{_md_text(run.note)}]" if run.note else ""
            out.append(f"**{_md_text(run.text)}**{note}" if run.text.strip() else "")
        elif isinstance(run, Link):
            out.append(f"<{run.url}>" if run.text == run.url
                       else f"[{_md_text(run.text)}](<{run.url}>)")
    return "".join(out)


def _md_cell(cell) -> str:
    return _md_runs(cell).replace("\n", " ")


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + _md_text(block.text, line_start=False)
    if isinstance(block, Paragraph):
        text = _md_runs(block.runs)
        return f"<small>{text}</small>" if block.small else text
    if isinstance(block, Quote):
        lines = _md_runs(block.runs).splitlines() or [""]
        quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
        return quoted + (f"\n>\n> — {_md_runs(block.source)}" if block.source else "")
    if isinstance(block, BulletList):
        return "\n".join(f"- {_md_runs(item)}" for item in block.items)
    if isinstance(block, Table):
        if not block.rows:
            return ""
        align = ["---:" if i in block.numeric else "---" for i in range(len(block.header))]
        lines = ["| " + " | ".join(_md_text(h) for h in block.header) + " |",
                 "| " + " | ".join(align) + " |"]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        caption = f"*{_md_text(block.caption)}*\n\n" if block.caption else ""
        return caption + "\n".join(lines)
    if isinstance(block, Callout):
        return f"> **{_md_text(block.kind.capitalize())}.** {_md_runs(block.runs)}"
    if isinstance(block, Figure):
        return ""
    raise TypeError(f"not a block: {block!r}")


def to_markdown(blocks: Sequence[Block]) -> str:
    parts = [_md_block(b) for b in blocks]
    return "\n\n".join(p for p in parts if p) + "\n"


# HTML

_CSS = """
:root { --ink: #1b1b1f; --muted: #5f6368; --rule: #d9d9de; --paper: #fff; }
* { box-sizing: border-box; }
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
       color: var(--ink); background: var(--paper); margin: 0; }
main { max-width: 56rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.55rem; line-height: 1.25; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--rule);
     padding-bottom: .2rem; }
h3 { font-size: 1.02rem; margin: 1.4rem 0 .4rem; }
p { margin: .5rem 0; }
small, .small { color: var(--muted); font-size: .85rem; }
a { color: #0b57d0; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em;
       background: #f1f3f4; padding: 0 .25em; border-radius: 3px; word-break: break-word; }
mark { background: #ffe07a; color: inherit; padding: 0 .1em; border-bottom: 2px solid #c69200; }
blockquote { margin: .6rem 0; padding: .4rem .9rem; border-left: 4px solid #9aa0a6;
             background: #f8f9fa; }
blockquote > div { white-space: pre-wrap; }
blockquote footer { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
td code { white-space: nowrap; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .88rem; }
caption { text-align: left; color: var(--muted); font-size: .85rem; padding-bottom: .3rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f1f3f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.callout { border: 2px solid; border-radius: 6px; padding: .7rem 1rem; margin: 1rem 0; }
.callout strong:first-child { text-transform: uppercase; letter-spacing: .03em; }
.callout.inconsistent { border-color: #b3261e; background: #fce8e6; }
.callout.consistent { border-color: #137333; background: #e6f4ea; }
.callout.undetermined { border-color: #b06000; background: #fef7e0; }
.callout.pending { border-color: #5f6368; background: #f1f3f4; }
figure { margin: 1rem 0; }
figure svg { width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .85rem; }
ul { padding-left: 1.3rem; }
li { margin: .2rem 0; }
@media print {
  @page { margin: 16mm 14mm; }
  body { font-size: 10.5pt; }
  main { max-width: none; margin: 0; padding: 0; }
  a { color: inherit; text-decoration: none; }
  a[href^="http"]::after { content: " <" attr(href) ">"; font-size: .8em; color: var(--muted);
                            word-break: break-all; }
  h2, h3 { break-after: avoid; }
  figure, blockquote, .callout, tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _html_runs(runs: Sequence[Run] | Run) -> str:
    if isinstance(runs, str | Strong | Code | Mark | Link):
        runs = (runs,)
    out = []
    for run in runs:
        if isinstance(run, str):
            out.append(html.escape(run))
        elif isinstance(run, Strong):
            out.append(f"<strong>{html.escape(run.text)}</strong>")
        elif isinstance(run, Code):
            out.append(f"<code>{html.escape(run.text)}</code>")
        elif isinstance(run, Mark):
            title = f' title="{html.escape(run.note)}"' if run.note else ""
            out.append(f"<mark{title}>{html.escape(run.text)}</mark>")
        elif isinstance(run, Link):
            out.append(f'<a href="{html.escape(run.url)}">{html.escape(run.text)}</a>')
    return "".join(out)


def _shade(value: float) -> str:
    # a light-to-dark blue ramp, text stays readable
    light = round(97 - 45 * value)
    return f' style="background: hsl(214 70% {light}%)"'


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        inner = _html_runs(block.runs)
        return f'<p class="small">{inner}</p>' if block.small else f"<p>{inner}</p>"
    if isinstance(block, Quote):
        footer = f"<footer>— {_html_runs(block.source)}</footer>" if block.source else ""
        # the quoted text takes its own direction (Arabic, Persian, Pashto read right to
        # left); the attribution stays in the report's
        return f'<blockquote><div dir="auto">{_html_runs(block.runs)}</div>{footer}</blockquote>'
    if isinstance(block, BulletList):
        items = "".join(f"<li>{_html_runs(item)}</li>" for item in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Table):
        if not block.rows:
            return ""
        def cls(i):
            return ' class="num"' if i in block.numeric else ""
        head = "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(block.header))
        rows = []
        for r, row in enumerate(block.rows):
            cells = []
            for i, cell in enumerate(row):
                shade = (_shade(block.shades[r][i]) if block.shades and r < len(block.shades)
                         and i < len(block.shades[r]) and block.shades[r][i] else "")
                cells.append(f"<td{cls(i)}{shade}>{_html_runs(cell)}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
        return (f"<table>{caption}<thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")
    if isinstance(block, Callout):
        return (f'<div class="callout {html.escape(block.kind)}"><strong>'
                f"{html.escape(block.kind)}.</strong> {_html_runs(block.runs)}</div>")
    if isinstance(block, Figure):
        return f"<figure>{block.svg}<figcaption>{html.escape(block.caption)}</figcaption></figure>"
    raise TypeError(f"not a block: {block!r}")


def to_html(blocks: Sequence[Block], title: str) -> str:
    body = "\n".join(b for b in (_html_block(block) for block in blocks) if b)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n")
