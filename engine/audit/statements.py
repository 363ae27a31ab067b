"""Statements of reasons: the decisions platforms file with the EU DSA Transparency
Database (Art. 17 and 24(5) DSA), read from its daily dumps or from its API's JSON,
matched to the cases in the store and turned into platform responses; and, the other way,
the statement a platform would file for one of our decisions, for comparison.

Field names and values are the database's own: the API documentation
(https://transparency.dsa.ec.europa.eu/page/api-documentation) lists each field, its
allowed values (keys such as `DECISION_VISIBILITY_CONTENT_REMOVED`) and its length limit;
the daily dumps (https://transparency.dsa.ec.europa.eu/explore-data/download) are CSV
files with one column per field, list fields written as JSON arrays, dates as
`YYYY-MM-DD HH:MM:SS`, and the platform's identifier in `platform_uid` where the API
says `puid`. docs/audit.md says how a statement becomes a response.

Reading never writes and never prints: it returns the responses to store, the statements
that match no case (reported by the caller, never dropped), and the problems that stop the
file, each with a stable code (D001-D008, rules/codes.py), a line or JSON pointer and a
hint.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.audit.records import Case, Response

__all__ = ["StatementProblem", "Statement", "Unmatched", "StatementsRead", "read_statements",
           "parse_statements", "match_statements", "outcome_of", "reason_of", "statement_for", "MAX_BYTES",
           "MAX_STATEMENTS"]

# A day of one platform's statements fits; a whole day of every platform (gigabytes) is
# to be cut down to the platforms concerned first.
MAX_BYTES = 256 * 1024 * 1024
MAX_STATEMENTS = 1_000_000

# The documented values of each limited field (API documentation, "Statement Attributes").
VISIBILITY = {
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Removal of content",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Disabling access to content",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Demotion of content",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Age restricted content",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Restricting interaction with content",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Labelled content",
    "DECISION_VISIBILITY_OTHER": "Other restriction",
}
MONETARY = {
    "DECISION_MONETARY_SUSPENSION": "Suspension of monetary payments",
    "DECISION_MONETARY_TERMINATION": "Termination of monetary payments",
    "DECISION_MONETARY_OTHER": "Other monetary restriction",
}
PROVISION = {
    "DECISION_PROVISION_PARTIAL_SUSPENSION": "Partial suspension of the provision of the service",
    "DECISION_PROVISION_TOTAL_SUSPENSION": "Total suspension of the provision of the service",
    "DECISION_PROVISION_PARTIAL_TERMINATION": "Partial termination of the provision of the service",
    "DECISION_PROVISION_TOTAL_TERMINATION": "Total termination of the provision of the service",
}
ACCOUNT = {
    "DECISION_ACCOUNT_SUSPENDED": "Suspension of the account",
    "DECISION_ACCOUNT_TERMINATED": "Termination of the account",
}
GROUNDS = {
    "DECISION_GROUND_ILLEGAL_CONTENT": "illegal content",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "incompatible with terms and conditions",
}
CATEGORIES = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS":
        "Data protection and privacy violations",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": "Intellectual property infringements",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS":
        "Negative effects on civic discourse or elections",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "Non-consensual behaviour",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "Pornography or sexualized content",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Risk for public security",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams and/or fraud",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "Scope of platform service",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "Unsafe and/or illegal products",
    # the same category as named by later versions of the database
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS_OR_SERVICES":
        "Unsafe and/or illegal products or services",
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
}
SOURCE_TYPES = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION",
                "SOURCE_VOLUNTARY")
YES_NO = ("Yes", "No")
EU_MEMBER_STATES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR",
                    "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO",
                    "SE", "SI", "SK")
EEA_STATES = EU_MEMBER_STATES + ("IS", "LI", "NO")

_SINGLE = {"decision_monetary": MONETARY, "decision_provision": PROVISION,
           "decision_account": ACCOUNT, "decision_ground": GROUNDS, "category": CATEGORIES,
           "source_type": SOURCE_TYPES, "automated_detection": YES_NO,
           "incompatible_content_illegal": YES_NO}
_LISTS = ("decision_visibility", "content_type", "territorial_scope", "category_addition",
          "category_specification")
_DATES = ("content_date", "application_date")
# The documented length limits of the free-text fields.
_LENGTHS = {"decision_visibility_other": 500, "decision_monetary_other": 500,
            "illegal_content_legal_ground": 500, "illegal_content_explanation": 2000,
            "incompatible_content_ground": 500, "incompatible_content_explanation": 2000,
            "decision_facts": 5000, "puid": 500, "platform_uid": 500, "source_identity": 500,
            "content_type_other": 500, "category_specification_other": 500,
            "platform_name": 500, "uuid": 100, "url": 2000, "decision_ground_reference_url": 2000}
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T][0-9:.]+Z?)?")
_PUID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class StatementProblem:
    """Something wrong with the file or one statement: `where` is `line 7` for CSV and
    JSON Lines, a JSON pointer (`/statements/3`) for JSON."""

    code: str
    where: str
    field: str | None
    message: str
    hint: str = ""

    def __str__(self) -> str:
        at = self.where + (f", field {self.field}" if self.field else "")
        return f"{at}: error[{self.code}]: {self.message}" + (f" ({self.hint})" if self.hint
                                                              else "")


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement as read: its fields with lists as tuples and dates as YYYY-MM-DD."""

    where: str
    fields: Mapping[str, object]

    def get(self, name: str, default=""):
        value = self.fields.get(name)
        return default if value in (None, "") else value

    @property
    def puid(self) -> str:
        return str(self.get("puid") or self.get("platform_uid"))

    @property
    def label(self) -> str:
        """How the statement is named to people: its database uuid, else its PUID."""
        return str(self.get("uuid") or self.puid or "(no uuid or puid)")


@dataclass(frozen=True, slots=True)
class Unmatched:
    where: str
    code: str  # D007 no case, D008 more than one
    statement: Statement
    why: str

    def as_json(self) -> dict:
        return {"where": self.where, "code": self.code, "why": self.why,
                "statement": _jsonable(self.statement.fields)}


@dataclass(frozen=True, slots=True)
class StatementsRead:
    responses: list[Response] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    problems: list[StatementProblem] = field(default_factory=list)
    statements: int = 0


# Reading

def read_statements(path: str | Path, cases: Sequence[Case], max_bytes: int = MAX_BYTES,
                    track: Callable[[Iterable], Iterable] = iter) -> StatementsRead:
    """Read a file of statements of reasons (CSV as in the daily dumps, or JSON: one
    statement, a list, `{"statements": [...]}` as the API takes them, or JSON Lines) and
    match each to the `cases` it answers."""
    statements, problems = parse_statements(path, max_bytes, track)
    if problems:
        return StatementsRead(problems=problems, statements=len(statements))
    responses, unmatched = match_statements(statements, cases, str(path))
    return StatementsRead(responses, unmatched, [], len(statements))


def parse_statements(path: str | Path, max_bytes: int = MAX_BYTES,
                     track: Callable[[Iterable], Iterable] = iter,
                     ) -> tuple[list[Statement], list[StatementProblem]]:
    """The statements of a file, checked against the documented fields, and the problems.

    `track` wraps the statements as they are read (to show progress); the default does
    nothing."""
    try:
        size = Path(path).stat().st_size
        if size > max_bytes:
            return [], [StatementProblem("D002", "line 1", None, f"the file has {size:,} bytes, "
                                         f"more than the {max_bytes:,} allowed",
                                         "keep only the platforms concerned, or split the file "
                                         "by day")]
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as error:
        return [], [StatementProblem("D001", "line 1", None,
                                     f"cannot read {path}: {error.strerror or error}")]
    except UnicodeDecodeError as error:
        line = error.object.count(b"\n", 0, error.start) + 1
        return [], [StatementProblem("D001", f"line {line}", None, "the file is not UTF-8 text",
                                     "the database's dumps are UTF-8: save it as such")]
    start = text.lstrip()[:1]
    raw = _json_statements(text) if start in ("{", "[") else _csv_statements(text)
    statements, problems = [], []
    for item in track(raw):
        if isinstance(item, StatementProblem):
            problems.append(item)
        else:
            where, fields = item
            checked = _checked(where, fields)
            if isinstance(checked, list):
                problems.extend(checked)
            else:
                statements.append(checked)
        if len(statements) + len(problems) > MAX_STATEMENTS:
            problems.append(StatementProblem("D002", item[0] if isinstance(item, tuple)
                                             else item.where, None, f"more than "
                                             f"{MAX_STATEMENTS:,} statements", "split the file"))
            break
    if not statements and not problems:
        problems.append(StatementProblem("D001", "line 1", None, "the file holds no statement"))
    return statements, problems


def _csv_statements(text: str):
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as error:
        yield StatementProblem("D001", "line 1", None, f"not CSV: {error}")
        return
    known = set(_SINGLE) | set(_LISTS) | set(_DATES) | set(_LENGTHS)
    if not known & set(header):
        yield StatementProblem("D001", "line 1", None, "the first line names none of the "
                               "database's fields", "the first line of a dump names its "
                               "columns: uuid, decision_visibility, ...")
        return
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield StatementProblem("D001", f"line {line}", None, f"not CSV: {error}",
                                   "a cell with a comma or a quote needs quotes around it")
            return
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield StatementProblem("D001", f"line {line}", None, f"{len(cells)} cells, but the "
                                   f"header names {len(header)} columns")
            continue
        yield f"line {line}", dict(zip(header, cells, strict=True))


def _json_statements(text: str):
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole:
        if whole.msg != "Extra data":
            yield StatementProblem("D001", f"line {whole.lineno}", None,
                                   f"not JSON: {whole.msg} at column {whole.colno}")
            return
        yield from _json_lines(text)
        return
    if isinstance(document, dict) and isinstance(document.get("statements"), list):
        items, prefix = document["statements"], "/statements"
    elif isinstance(document, list):
        items, prefix = document, ""
    else:
        items, prefix = [document], None
    for index, item in enumerate(items):
        where = "/" if prefix is None else f"{prefix}/{index}"
        if not isinstance(item, dict):
            yield StatementProblem("D001", where, None, "a statement is a JSON object")
        else:
            yield where, item


def _json_lines(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            yield StatementProblem("D001", f"line {number}", None,
                                   f"not JSON: {error.msg} at column {error.colno}")
            continue
        if not isinstance(item, dict):
            yield StatementProblem("D001", f"line {number}", None, "a statement is a JSON object")
        else:
            yield f"line {number}", item


def _checked(where: str, raw: Mapping) -> Statement | list[StatementProblem]:
    """The statement with its values checked against the documented ones."""
    problems = []
    fields: dict[str, object] = {}

    def problem(code: str, name: str, message: str, hint: str = "") -> None:
        problems.append(StatementProblem(code, _at(where, name), name, message, hint))

    for name, value in raw.items():
        name = str(name).strip().lower()
        if name in _LISTS:
            items = _list(value)
            if items is None:
                problem("D004", name, f"{_short(value)} is not a list of values",
                        'write a JSON array, e.g. ["DECISION_VISIBILITY_CONTENT_REMOVED"]')
                continue
            fields[name] = items
        elif value is None:
            continue
        elif isinstance(value, dict | list):
            problem("D004", name, "a text or a single value is expected here, not "
                    + ("an object" if isinstance(value, dict) else "a list"))
            continue
        else:
            fields[name] = str(value).strip()
    for name in _DATES:
        value = fields.get(name)
        if value:
            found = _DATE.fullmatch(str(value))
            day = _date(found.group(1)) if found else None
            if day is None:
                problem("D005", name, f"{_short(value)} is not a date", "write YYYY-MM-DD")
            else:
                fields[name] = day
    for name, allowed in _SINGLE.items():
        value = fields.get(name)
        if value and value not in allowed:
            problem("D004", name, f"{_short(value)} is not one of the values the database "
                    "documents", _one_of(allowed))
    visibility = fields.get("decision_visibility", ())
    for value in visibility:
        if value not in VISIBILITY:
            problem("D004", "decision_visibility", f"{_short(value)} is not one of the values "
                    "the database documents", _one_of(VISIBILITY))
    for value in fields.get("territorial_scope", ()):
        if value not in EEA_STATES:
            problem("D004", "territorial_scope", f"{_short(value)} is not the two-letter code "
                    "of an EU or EEA state", "e.g. DE, FR, NL")
    for name, limit in _LENGTHS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            problem("D006", name, f"{len(value):,} characters, more than the {limit:,} the "
                    "database allows")
    if not fields.get("application_date"):
        problem("D003", "application_date", "no application date", "the date the decision "
                "applies from, YYYY-MM-DD: it becomes the response's date")
    restricts = visibility or any(fields.get(n) for n in ("decision_monetary",
                                                          "decision_provision",
                                                          "decision_account"))
    if restricts and not fields.get("decision_ground"):
        problem("D003", "decision_ground", "a restriction without its ground",
                "DECISION_GROUND_ILLEGAL_CONTENT or DECISION_GROUND_INCOMPATIBLE_CONTENT")
    return problems or Statement(where, fields)


def _at(where: str, name: str) -> str:
    return f"{where}/{name}" if where.startswith("/") else where


def _list(value) -> tuple[str, ...] | None:
    if value is None or value == "":
        return ()
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value) if all(
            isinstance(v, str) for v in value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            return None
        return _list(items) if isinstance(items, list) else None
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _date(text: str) -> str | None:
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_of(allowed) -> str:
    names = list(allowed)
    return "one of " + ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")


def _jsonable(fields: Mapping) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}


# Matching statements to cases

def _url_key(text: str) -> str:
    """A URL compared without its scheme, `www.`, letter case of the host, query or
    trailing slash; any other identifier compared as it is."""
    text = text.strip()
    found = re.match(r"(?i)^(?:https?://)?(?:www\.|m\.)?([^/?#]+\.[a-z]{2,})(/[^?#]*)?", text)
    if not found or " " in text:
        return text
    return found.group(1).lower() + (found.group(2) or "").rstrip("/")


def _platform_key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return {"twitter": "x", "xcorp": "x", "xtwitter": "x"}.get(key, key)


def case_keys(case: Case) -> set[str]:
    """What a statement's PUID or URL may name a case by: the request's id (as written,
    and as a PUID can hold it), the target's address and every address in the notice
    and the posts."""
    evidence = case.evidence
    target = evidence.get("target", {})
    notice = evidence.get("request", {}).get("notice", {}) or {}
    keys = {case.request_id, _PUID.sub("_", case.request_id)}
    urls = [target.get("url"), *notice.get("urls", [])]
    urls += [p.get("url") for p in target.get("posts", []) if isinstance(p, dict)]
    keys |= {_url_key(u) for u in urls if isinstance(u, str) and u}
    return {k for k in keys if k}


def case_content_dates(case: Case) -> set[str]:
    """The dates a statement's `content_date` may give for a case's content: each post's
    and the target's own."""
    target = case.evidence.get("target", {})
    days = {p.get("posted") for p in target.get("posts", []) if isinstance(p, dict)}
    days.add(target.get("created"))
    return {d for d in days if isinstance(d, str)}


def match_statements(statements: Sequence[Statement], cases: Sequence[Case],
                     source: str) -> tuple[list[Response], list[Unmatched]]:
    """Each statement's response, for the one case it answers, or why it answers none.

    A statement answers a case when its PUID or URL names the case (`case_keys`), or,
    failing that, when its platform is the case's and its `content_date` is the date of
    the case's content; and when it applies on or after the request was submitted."""
    by_key: dict[str, list[Case]] = {}
    by_day: dict[tuple[str, str], list[Case]] = {}
    for case in cases:
        for key in case_keys(case):
            by_key.setdefault(key, []).append(case)
        for day in case_content_dates(case):
            by_day.setdefault((_platform_key(case.platform), day), []).append(case)
    responses, unmatched = [], []
    for statement in statements:
        # the most specific first: a PUID names one request, a URL may name a page that
        # was reported more than once, a day names whatever was posted on it
        day = (_platform_key(str(statement.get("platform_name"))),
               str(statement.get("content_date")))
        named, how = next(((found, how) for found, how in (
            (_named(by_key, statement.puid), "its PUID"),
            (_named(by_key, str(statement.get("url"))), "its URL"),
            (by_day.get(day, []), "its platform and content date")) if found), ([], ""))
        found = {c.id: c for c in named}
        applies = str(statement.get("application_date"))
        answered = [c for c in found.values() if c.submitted <= applies]
        if len(answered) == 1:
            responses.append(_response(statement, answered[0], source))
            continue
        if answered:
            why = (f"{how} fits {len(answered)} cases ("
                   f"{', '.join(sorted(c.id for c in answered))})")
            unmatched.append(Unmatched(statement.where, "D008", statement, why))
        elif found:
            why = (f"{how} fits {', '.join(sorted(found))}, but it applies from {applies}, "
                   "before the request was submitted")
            unmatched.append(Unmatched(statement.where, "D007", statement, why))
        else:
            unmatched.append(Unmatched(statement.where, "D007", statement,
                                       "no recorded case has its PUID or URL, nor its platform "
                                       "and content date"))
    return responses, unmatched


def _named(by_key: Mapping[str, list[Case]], key: str) -> list[Case]:
    return by_key.get(_url_key(key), by_key.get(key, [])) if key else []


def _response(statement: Statement, case: Case, source: str) -> Response:
    notes = [f"DSA statement of reasons {statement.label}"]
    for name in ("source_type", "automated_detection", "automated_decision"):
        if statement.get(name):
            notes.append(f"{name} {statement.get(name)}")
    return Response(case.id, str(statement.get("application_date")), outcome_of(statement),
                    reason_of(statement), "; ".join(notes), f"{source}:{statement.where}")


# What a statement says

def _covers_union(scope: Sequence[str]) -> bool:
    return not scope or set(EU_MEMBER_STATES) <= set(scope)


def outcome_of(statement: Statement) -> str:
    """The project's outcome for what the statement decided.

    Suspending or terminating the account, or the whole service, takes the page down;
    removing the content, or disabling access to it across the Union, takes the posts
    down; disabling access in only some states withholds them there. Any lesser
    restriction (demotion, an age gate, a label, a monetary one) and no decision at all
    leave the content up."""
    if statement.get("decision_account") or statement.get("decision_provision") in (
            "DECISION_PROVISION_TOTAL_SUSPENSION", "DECISION_PROVISION_TOTAL_TERMINATION"):
        return "page_removed"
    visibility = statement.get("decision_visibility", ())
    if "DECISION_VISIBILITY_CONTENT_REMOVED" in visibility:
        return "posts_removed"
    if "DECISION_VISIBILITY_CONTENT_DISABLED" in visibility:
        return ("posts_removed" if _covers_union(statement.get("territorial_scope", ()))
                else "geo_blocked")
    return "no_action"


def reason_of(statement: Statement) -> str:
    """The ground the platform gave, in words: incompatible with which of its terms, or
    illegal under which law; the category; and a restriction short of removal."""
    ground = statement.get("decision_ground")
    parts = []
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        parts.append("illegal content: " + str(statement.get("illegal_content_legal_ground")
                                               or "no legal ground given"))
    elif ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        text = ("incompatible with terms and conditions: "
                + str(statement.get("incompatible_content_ground") or "no clause given"))
        if statement.get("incompatible_content_illegal") == "Yes":
            text += " (also considered illegal)"
        parts.append(text)
    if statement.get("category"):
        parts.append("category: " + CATEGORIES.get(str(statement.get("category")),
                                                   str(statement.get("category"))))
    if outcome_of(statement) == "no_action":
        lesser = [VISIBILITY.get(v, v) for v in statement.get("decision_visibility", ())]
        lesser += [table[str(statement.get(name))] for name, table in
                   (("decision_monetary", MONETARY), ("decision_provision", PROVISION))
                   if statement.get(name)]
        parts.append("restriction: " + ", ".join(lesser).lower() if lesser
                     else "no restriction decided")
    return "; ".join(parts)


# The statement a platform would file for one of our decisions

PLATFORM_NAMES = {"facebook": "Facebook", "instagram": "Instagram", "threads": "Threads",
                  "meta": "Facebook", "x": "X", "twitter": "X", "tiktok": "TikTok",
                  "youtube": "YouTube", "telegram": "Telegram"}
_MEDIA_TYPES = {"image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO",
                "audio": "CONTENT_TYPE_AUDIO"}
_NOT_AUTOMATED = "AUTOMATED_DECISION_NOT_AUTOMATED"


def statement_for(decision: Mapping, evidence: Mapping) -> dict | None:
    """The statement of reasons a platform would file if it decided as `decision` says
    (`Decision.as_json()`), with the database's field names and values; None for an
    undetermined decision, on which a platform would file nothing yet."""
    outcome = decision["outcome"]
    if outcome == "undetermined":
        return None
    request = evidence.get("request", {})
    target = evidence.get("target", {})
    referrer = request.get("referrer", {}) or {}
    acting = [r for r in decision.get("reasons", []) if r.get("verdict") in
              ("violates", "remove_page", "geo_block", "illegal")]
    kinds = {r["id"]: r.get("kind") for r in decision.get("rulesets", [])}
    policy = [r for r in acting if kinds.get(r["ruleset"]) != "legal"]
    legal = [r for r in acting if kinds.get(r["ruleset"]) == "legal"]
    out: dict[str, object] = {}
    if outcome == "page_removed":
        out["decision_account"] = "DECISION_ACCOUNT_TERMINATED"
        out["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    elif outcome == "posts_removed":
        out["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    elif outcome == "geo_blocked":
        out["decision_visibility"] = ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    if outcome != "no_action":
        if policy:
            out["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
            out["incompatible_content_ground"] = _clip("; ".join(dict.fromkeys(
                f"{r['ruleset']}/{r['rule']}" for r in policy)), 500)
            out["incompatible_content_explanation"] = _clip("; ".join(dict.fromkeys(
                r.get("message") or r.get("title", "") for r in policy)), 2000)
            out["incompatible_content_illegal"] = "Yes" if legal else "No"
        else:
            laws = list(request.get("grounds", [])) or [f"{r['ruleset']}/{r['rule']}"
                                                         for r in legal]
            out["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
            out["illegal_content_legal_ground"] = _clip("; ".join(laws), 500)
            out["illegal_content_explanation"] = _clip("; ".join(dict.fromkeys(
                r.get("message") or r.get("title", "") for r in legal)), 2000)
        out["category"] = _category(acting)
    media = {_MEDIA_TYPES[m.get("kind")] for p in target.get("posts", []) if isinstance(p, dict)
             for m in p.get("media", []) if isinstance(m, dict) and m.get("kind") in _MEDIA_TYPES}
    out["content_type"] = sorted({"CONTENT_TYPE_TEXT"} | media)
    jurisdiction = str(referrer.get("jurisdiction", "")).upper()
    out["territorial_scope"] = ([jurisdiction] if outcome == "geo_blocked"
                                and jurisdiction in EEA_STATES else list(EU_MEMBER_STATES))
    posted = sorted(p["posted"] for p in target.get("posts", [])
                    if isinstance(p, dict) and isinstance(p.get("posted"), str))
    out["content_date"] = (posted[0] if posted else target.get("created")
                           or decision["as_of"])
    out["application_date"] = decision["as_of"]
    held = "; ".join(dict.fromkeys(r.get("title", "") for r in acting))
    out["decision_facts"] = _clip(f"{request.get('id', '')}: " + (
        f"{held}" if held else "no rule of the policy in force calls for a restriction"), 5000)
    out["source_type"] = ("SOURCE_TRUSTED_FLAGGER" if referrer.get("kind") == "trusted_flagger"
                          else "SOURCE_ARTICLE_16")
    out["automated_detection"] = "No"
    out["automated_decision"] = _NOT_AUTOMATED
    out["puid"] = _clip(_PUID.sub("_", str(request.get("id", ""))), 500)
    out["platform_name"] = PLATFORM_NAMES.get(decision["platform"], decision["platform"])
    if target.get("url"):
        out["url"] = target["url"]
    return out


def _category(reasons: Sequence[Mapping]) -> str:
    """Forged documents are fraud; every other rule here is about smuggling people, which
    the database files under risks for public security."""
    rules = " ".join(f"{r['ruleset']} {r['rule']}" for r in reasons)
    if re.search(r"fraud|document|scam", rules) and not re.search(r"smuggl|crossing", rules):
        return "STATEMENT_CATEGORY_SCAMS_AND_FRAUD"
    return "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
