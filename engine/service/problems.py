"""Error responses: RFC 9457 problem details, the one shape of every 4xx and 5xx body.

A problem names its kind by a stable `type` URI (the slug after /problems/ is what a
client should branch on), says what went wrong in `title` and `detail`, and carries the
request id that the logs carry too. When the problem is in something the client wrote
(evidence, rule-set text, rule files on reload), `diagnostics` lists it exactly as the
command line's JSON does: codes, JSON pointers, lines and columns, hints.
Never a traceback: `detail` is written here, not taken from an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.responses import Response

import rules

__all__ = ["MEDIA_TYPE", "TYPE_BASE", "problem", "problem_body"]

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://takedown.invalid/problems/"


def problem_body(status: int, slug: str, title: str, detail: str = "", *,
                 request_id: str = "", diagnostics: Iterable[rules.Diagnostic] | None = None,
                 **extra) -> bytes:
    body = {"type": TYPE_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if request_id:
        body["request_id"] = request_id
    if diagnostics is not None:
        body["diagnostics"] = [d.as_json() for d in diagnostics]
    body.update(extra)
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def problem(status: int, slug: str, title: str, detail: str = "", *, request_id: str = "",
            diagnostics: Iterable[rules.Diagnostic] | None = None,
            headers: dict[str, str] | None = None, **extra) -> Response:
    return Response(problem_body(status, slug, title, detail, request_id=request_id,
                                 diagnostics=diagnostics, **extra),
                    status_code=status, media_type=MEDIA_TYPE, headers=headers)
