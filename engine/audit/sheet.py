"""The responses spreadsheet: the CSV files teams already keep, read into responses
and disputes, with every bad row reported by its line number.

Reading never writes: it returns the responses and disputes to store, or the problems
that stop the file from being imported. The caller stores all of a file in one
transaction, or nothing (`CaseStore.add_responses`). Columns are documented in
docs/audit.md; their names are compared after lowering case and turning spaces and
hyphens into underscores.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.audit.records import RESPONSE_OUTCOMES, Dispute, Response, response_outcome

__all__ = ["COLUMNS", "Sheet", "SheetProblem", "read_sheet"]

COLUMNS = ("case_id", "request_id", "date", "outcome", "reason", "notes", "dispute",
           "disputed_clauses")
_HEADER_ALIASES = {"case": "case_id", "request": "request_id", "reference": "request_id",
                   "response_date": "date", "responded": "date", "response": "outcome",
                   "platform_reason": "reason", "clauses": "disputed_clauses"}


@dataclass(frozen=True, slots=True)
class SheetProblem:
    line: int
    column: str | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True, slots=True)
class Sheet:
    responses: list[Response] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: int = 0
    # (line, request id) of each row left out because its request has no case, when asked
    # to (`skip_unrecorded`)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _column(name: str) -> str:
    key = "_".join((name or "").strip().lower().replace("-", " ").split())
    return _HEADER_ALIASES.get(key, key)


def _delimiter(first_line: str) -> str:
    """Spreadsheets saved in some locales separate cells with `;` or tabs."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _date(text: str) -> str | None:
    try:
        return datetime.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return None


def read_sheet(path: str | Path, case_dates: Mapping[str, str],
               cases_by_request: Mapping[str, list[str]], skip_unrecorded: bool = False,
               track: Callable[[Iterable], Iterable] = iter) -> Sheet:
    """Read a responses CSV; `case_dates` (case id -> submission date) and
    `cases_by_request` (request id -> case ids) say which cases exist.

    With `skip_unrecorded`, a row whose request id names no case is left out and listed
    in `Sheet.skipped` rather than stopping the file: a team's sheet also holds responses
    to requests that could not be recorded (no rule set in force on their date).
    `track` wraps the rows as they are read (to show progress)."""
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            first = stream.readline()
            stream.seek(0)
            reader = csv.reader(stream, delimiter=_delimiter(first))
            try:
                header = next(reader)
            except StopIteration:
                return Sheet(problems=[SheetProblem(1, None, "the file is empty",
                                                   "the first line names the columns")])
            columns = [_column(c) for c in header]
            problems = _header_problems(columns)
            if problems:
                return Sheet(problems=problems)
            ignored = [h for h, c in zip(header, columns, strict=True) if c not in COLUMNS]
            responses, disputes, skipped = [], [], []
            rows = 0
            cells_of = iter(track(reader))
            while True:
                line = reader.line_num + 1
                try:
                    cells = next(cells_of)
                except StopIteration:
                    break
                except csv.Error as error:
                    problems.append(SheetProblem(line, None, f"not CSV: {error}"))
                    break
                if not any(c.strip() for c in cells):
                    continue
                rows += 1
                if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
                    problems.append(SheetProblem(line, None, f"{len(cells)} cells, but the "
                                                 f"header names {len(columns)} columns",
                                                 "a comma inside a cell needs quotes"))
                    continue
                row = {c: v.strip() for c, v in zip(columns, cells, strict=False)}
                request_id = row.get("request_id", "")
                if (skip_unrecorded and not row.get("case_id") and request_id
                        and request_id not in cases_by_request):
                    skipped.append((line, request_id))
                    continue
                found = _row(row, line, f"{name}:{line}", case_dates, cases_by_request)
                if isinstance(found, list):
                    problems.extend(found)
                else:
                    response, dispute = found
                    responses.append(response)
                    if dispute is not None:
                        disputes.append(dispute)
    except OSError as error:
        return Sheet(problems=[SheetProblem(0, None, f"cannot read {name}: "
                                            f"{error.strerror or error}")])
    except UnicodeDecodeError:
        return Sheet(problems=[SheetProblem(0, None, f"{name} is not UTF-8 text",
                                            "save the spreadsheet as CSV UTF-8")])
    if rows == 0 and not problems:
        problems.append(SheetProblem(2, None, "the file has a header but no rows"))
    return Sheet(responses, disputes, problems, ignored, rows, skipped)


def _header_problems(columns: list[str]) -> list[SheetProblem]:
    out = []
    if "case_id" not in columns and "request_id" not in columns:
        out.append(SheetProblem(1, None, "no case_id or request_id column",
                                "name each row's case by the store's case id or the request id"))
    for required in ("date", "outcome"):
        if required not in columns:
            out.append(SheetProblem(1, None, f"no {required} column"))
    repeated = sorted({c for c in columns if c in COLUMNS and columns.count(c) > 1})
    if repeated:
        out.append(SheetProblem(1, repeated[0], "the column appears twice"))
    return out


def _row(row: dict, line: int, source: str, case_dates: Mapping[str, str],
         cases_by_request: Mapping[str, list[str]]):
    problems = []
    case_id = row.get("case_id", "")
    request_id = row.get("request_id", "")
    if case_id:
        if case_id not in case_dates:
            problems.append(SheetProblem(line, "case_id", f"no case {case_id} in the store"))
        elif request_id and case_id not in cases_by_request.get(request_id, []):
            problems.append(SheetProblem(line, "request_id", f"case {case_id} is not request "
                                         f"{request_id}"))
    elif request_id:
        found = cases_by_request.get(request_id, [])
        if not found:
            problems.append(SheetProblem(line, "request_id", f"no case for request {request_id}",
                                         "record its evidence first: takedown audit record"))
        elif len(found) > 1:
            problems.append(SheetProblem(line, "request_id", f"request {request_id} was "
                                         f"recorded as {len(found)} cases ({', '.join(found)})",
                                         "give the case_id"))
        else:
            case_id = found[0]
    else:
        problems.append(SheetProblem(line, "case_id", "neither a case_id nor a request_id"))
    date = _date(row.get("date", ""))
    if date is None:
        problems.append(SheetProblem(line, "date", f"{row.get('date', '')!r} is not a date",
                                     "write dates as YYYY-MM-DD"))
    elif case_id in case_dates and date < case_dates[case_id]:
        problems.append(SheetProblem(line, "date", f"{date} is before the request was "
                                     f"submitted ({case_dates[case_id]})"))
    outcome = response_outcome(row.get("outcome", ""))
    if outcome is None:
        problems.append(SheetProblem(line, "outcome", f"{row.get('outcome', '')!r} is not an "
                                     "outcome", "one of " + ", ".join(RESPONSE_OUTCOMES)
                                     + " (or rejected, withheld, posts only...)"))
    if problems:
        return problems
    response = Response(case_id, date, outcome, row.get("reason", ""), row.get("notes", ""),
                        source)
    dispute = None
    if row.get("dispute") or row.get("disputed_clauses"):
        clauses = tuple(c for c in row.get("disputed_clauses", "").replace(";", " ")
                        .replace(",", " ").split() if c)
        dispute = Dispute(case_id, date, row.get("dispute", ""), clauses, source=source)
    return response, dispute
