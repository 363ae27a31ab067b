"""Render diagnostics for people (text with a caret under the exact characters) and
for tools (JSON, SARIF 2.1.0 for code-scanning systems). The only module that turns
diagnostics into output."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from rules import codes
from rules.diagnostics import Diagnostic

__all__ = ["render_text", "render_json", "render_sarif", "summary_line"]

_TOOL_URI = "https://takedown.invalid/docs/codes"


def _snippet(diagnostic: Diagnostic, sources: Mapping[str, str]) -> list[str]:
    loc = diagnostic.location
    text = sources.get(loc.file)
    if text is None or not loc.is_known:
        return []
    lines = text.splitlines()
    if not 1 <= loc.line <= len(lines):
        return []
    line = lines[loc.line - 1]
    width = len(str(loc.line))
    end = loc.end_column if loc.end_line == loc.line and loc.end_column > loc.column else loc.column + 1
    end = min(end, len(line) + 1)
    # Tabs are kept in the caret line so that it stays under the right characters.
    lead = "".join(ch if ch == "\t" else " " for ch in line[: loc.column - 1])
    carets = "^" * max(1, end - loc.column)
    return [f"{' ' * width} |",
            f"{loc.line} | {line}",
            f"{' ' * width} | {lead}{carets}"]


def render_text(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    """Each diagnostic as `file:line:col: severity[CODE]: message`, the line of the file
    with a caret under the text concerned, then the hint."""
    out: list[str] = []
    for d in diagnostics:
        loc = d.location
        if loc.is_known:
            where = f"{loc.file}:{loc.line}:{loc.column}"
        else:
            where = f"{loc.file}#{d.pointer}" if d.pointer else loc.file
        out.append(f"{where}: {d.severity}[{d.code}]: {d.message}")
        out.extend(_snippet(d, sources))
        if d.hint:
            out.append(f"  = hint: {d.hint}")
        for message, related in d.related:
            out.append(f"  = note: {message} at {related.file}:{related.line}:{related.column}")
        out.append("")
    return "\n".join(out)


def summary_line(diagnostics: list[Diagnostic], files: int) -> str:
    counts = {s: sum(1 for d in diagnostics if d.severity == s) for s in ("error", "warning", "note")}
    parts = [f"{v} {k}{'s' if v != 1 else ''}" for k, v in counts.items() if v]
    noun = "file" if files == 1 else "files"
    return f"{files} {noun} checked: " + (", ".join(parts) if parts else "no problems")


def render_json(diagnostics: Iterable[Diagnostic], files: int) -> str:
    items = [d.as_json() for d in diagnostics]
    return json.dumps({"files": files, "errors": sum(1 for d in items if d["severity"] == "error"),
                       "diagnostics": items}, ensure_ascii=False, indent=2)


_SARIF_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def render_sarif(diagnostics: list[Diagnostic], version: str) -> str:
    """SARIF 2.1.0: one run, one rule per code used, one result per diagnostic."""
    used = sorted({d.code for d in diagnostics})
    rules = []
    for code in used:
        entry = codes.explain(code)
        rules.append({
            "id": code,
            "name": entry.title.title().replace(" ", "") if entry else code,
            "shortDescription": {"text": entry.title if entry else code},
            "fullDescription": {"text": entry.explanation if entry else code},
            "helpUri": f"{_TOOL_URI}#{code.lower()}",
            "defaultConfiguration": {"level": _SARIF_LEVEL[codes.severity(code)]},
        })
    index = {code: i for i, code in enumerate(used)}
    results = []
    for d in diagnostics:
        loc = d.location
        result = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": loc.file},
                    **({"region": {"startLine": loc.line, "startColumn": loc.column,
                                   "endLine": max(loc.end_line, loc.line),
                                   "endColumn": max(loc.end_column, loc.column + 1)}}
                       if loc.is_known else {}),
                }
            }],
        }
        if d.pointer:
            result["properties"] = {"pointer": d.pointer}
        results.append(result)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "takedown", "version": version,
                                "informationUri": _TOOL_URI, "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)
