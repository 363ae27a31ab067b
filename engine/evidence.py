"""Evidence documents: read, check against the published schema, and turn into the form
the rules evaluate.

Evidence is untrusted. Reading enforces a size limit before parsing, reports every
schema problem at once (each with its JSON pointer and a hint), and never raises on bad
input: problems come back as diagnostics with codes of the E family. Common documents
are checked and converted in one pass compiled from the schema; the rest go through JSON
Schema, which reports every problem with its pointer. The runtime form
differs from the JSON only where the rules need real values: dates become
`datetime.date` and prices `rules.Money`. Fields that were not assessed stay absent,
which the rules read as unknown.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import orjson

from engine.evidence_schema import SCHEMA_PATH
from engine.shorthand import read_shorthand
from rules import Diagnostic, Location, Money, sorted_diagnostics, suggest, vocabulary

__all__ = ["Evidence", "load_evidence", "parse_evidence", "evidence_schema", "MAX_EVIDENCE_BYTES"]

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
MAX_JSON_DEPTH = 64


@cache
def evidence_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        evidence_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@cache
def _fast_validator():
    """A compiled validator (Rust) that only says yes or no, hundreds of times faster than
    `jsonschema`; the pure-Python validator runs only on invalid evidence, to report
    every problem with our own messages and hints."""
    return jsonschema_rs.validator_for(evidence_schema(), validate_formats=True)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One evidence document, checked, in both forms.

    `document` is the JSON as given (quoted in explanations); `request` and `target` are
    the runtime form the rules read. `pointers` maps id() of each runtime record to its
    JSON pointer, so an explanation can say where a value it read came from.
    """

    name: str
    document: Mapping[str, Any]
    request: Mapping[str, Any]
    target: Mapping[str, Any]
    digest: str
    pointers: Mapping[int, str] = field(repr=False)
    # Shorthand the writer used, read as the format's form (engine.shorthand).
    readings: tuple = ()

    @property
    def posts(self) -> list:
        return self.target.get("posts") or []

    @property
    def submitted(self) -> datetime.date | None:
        return self.request.get("submitted")

    @property
    def platform(self) -> str:
        return self.target.get("platform", "")

    def pointer_of(self, record: Any) -> str | None:
        return self.pointers.get(id(record))

    def post_id(self, index: int) -> str:
        posts = self.posts
        return str(posts[index].get("id", index)) if 0 <= index < len(posts) else str(index)


def load_evidence(path: str | Path, name: str | None = None) -> tuple[Evidence | None, list[Diagnostic]]:
    """Read and check one evidence file."""
    path = Path(path)
    shown = name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_EVIDENCE_BYTES:
            return None, [_diagnostic("E003", f"the evidence is {size} bytes, more than "
                                      f"{MAX_EVIDENCE_BYTES}", shown, "",
                                      "split the posts over several requests")]
        data = path.read_bytes()
    except OSError as error:
        return None, [_diagnostic("E004", f"the evidence cannot be read: {error.strerror or error}",
                                  shown, "", "check the path")]
    return parse_evidence(data, shown)


def parse_evidence(data: str | bytes | Mapping[str, Any], name: str = "<evidence>") -> tuple[Evidence | None, list[Diagnostic]]:
    """Check evidence given as JSON text (or an already parsed mapping)."""
    try:
        return _parse(data, name)
    except NotJSON as error:  # a mapping given from Python, holding a set, a date...
        return None, [_diagnostic(
            "E002", f"the evidence holds a value JSON cannot write ({error})", name, "",
            "give objects, arrays, texts, numbers, true, false and null only")]
    except UnicodeEncodeError as error:  # the digest's UTF-8, of a text JSON let through
        character = error.object[error.start:error.start + 1]
        return None, [_diagnostic(
            "E004", f"the evidence holds a lone surrogate ({character.encode('unicode_escape').decode()}),"
            " which is not Unicode text", name, "",
            "write the character itself, or both halves of its surrogate pair")]


def _parse(data: str | bytes | Mapping[str, Any], name: str) -> tuple[Evidence | None, list[Diagnostic]]:
    if isinstance(data, Mapping):
        document = data
    else:
        size = len(data)
        if isinstance(data, str) and MAX_EVIDENCE_BYTES // 4 < size <= MAX_EVIDENCE_BYTES:
            size = len(data.encode("utf-8"))  # a character may take up to four bytes
        if size > MAX_EVIDENCE_BYTES:
            return None, [_diagnostic("E003", f"the evidence is {size} bytes, more than "
                                      f"{MAX_EVIDENCE_BYTES}", name, "",
                                      "split the posts over several requests")]
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                return None, [_diagnostic("E004", f"the evidence is not UTF-8 (byte {error.start})",
                                          name, "", "save it as UTF-8")]
        # orjson reads JSON in half the time json.loads takes, into the same values but
        # for integers past 64 bits, which it reads as floats. The one-pass reader takes no
        # float that large (_is_usual_float); any other document is read by json.loads,
        # which also says, with its line and column, what is wrong with bad JSON.
        try:
            read = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        else:
            try:
                return _common(read, name), []
            except _Unread:
                pass
        try:
            document = json.loads(data)
        except json.JSONDecodeError as error:
            return None, [Diagnostic("E001", f"not valid JSON: {error.msg}",
                                     Location(name, error.lineno, error.colno, error.lineno,
                                              error.colno + 1),
                                     hint="check the commas and quotes just before this point")]
        except RecursionError:
            return None, [_diagnostic("E003", "the evidence is nested too deeply", name, "")]
    try:
        return _common(document, name), []
    except _Unread:
        pass
    if _is_nested_too_deeply(document):
        return None, [_diagnostic("E003", "the evidence is nested too deeply", name, "")]
    readings: tuple = ()
    if not _fast_validator().is_valid(document):
        # Shorthand is read first, so that only what is really wrong is reported.
        document, readings = read_shorthand(document, _validator())
    if _fast_validator().is_valid(document):
        problems = []
    else:
        readings = ()
        problems = sorted_diagnostics(
            _schema_diagnostic(error, name)
            for error in _expanded(_validator().iter_errors(document)))
        if not problems:  # the two validators disagree: report what the fast one found
            problems = [_diagnostic("E002", error.message[:300], name,
                                    "".join(f"/{p}" for p in error.instance_path) or "/")
                        for error in _fast_validator().iter_errors(document)]
    if problems:
        return None, problems
    problems = _consistency(document, name)
    if problems:
        return None, problems
    pointers: dict[int, str] = {}
    request = _runtime(document["request"], "request", "/request", pointers)
    target = _runtime(document["target"], "page", "/target", pointers)
    return Evidence(name, document, request, target, _digest(document), pointers, readings), []


class Pointers(Mapping):
    """JSON pointers of runtime records by their id(), worked out by `name_all` when first
    asked: only explanations ask, and naming every record on every request cost the fast
    path as much as reading it."""

    def __init__(self, name_all: Callable[[], dict[int, str]]):
        self._name_all = name_all
        self._table: dict[int, str] | None = None

    def _pointers(self) -> dict[int, str]:
        if self._table is None:
            self._table = self._name_all()
        return self._table

    def __getitem__(self, key: int) -> str:
        return self._pointers()[key]

    # Mapping's own `get` and `in` go through __getitem__ and a raised KeyError; an
    # explanation asks for a pointer thousands of times.
    def get(self, key: int, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._pointers().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._pointers()

    def __iter__(self):
        return iter(self._pointers())

    def __len__(self) -> int:
        return len(self._pointers())


def _common(document: Any, name: str) -> Evidence:
    """A common document, read in one pass (or _Unread)."""
    request, target = _read_common(document)
    # The one-pass reader takes only JSON's own types, and no float that orjson writes
    # otherwise (see _is_number and _is_shallow): orjson writes its digest.
    return Evidence(name, document, request, target, _digest(document, plain=True),
                    Pointers(partial(_record_pointers, request, target)))


def _record_pointers(request: dict, target: dict) -> dict[int, str]:
    table: dict[int, str] = {}
    _name_records(request, "/request", table)
    _name_records(target, "/target", table)
    return table


def _name_records(value: Any, pointer: str, table: dict[int, str]) -> None:
    """Every record (dict) under a runtime value, by id(), at its pointer."""
    items: Iterable[tuple[Any, Any]]
    if type(value) is dict:
        table[id(value)] = pointer
        items = value.items()
    else:
        items = enumerate(value)
    for key, item in items:
        if type(item) is dict or type(item) is list:
            _name_records(item, f"{pointer}/{key}", table)


def _digest(document: Any, plain: bool = False) -> str:
    return hashlib.sha256(canonical_json(document, plain)).hexdigest()


# The digest is the SHA-256 of the document as canonical JSON: the UTF-8 of what
# `json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes.
# Stored cases carry it, so those bytes are fixed for good. orjson writes the same bytes
# five times faster (23 against 134 µs for a page of 26 posts) for a document of JSON's
# own types whose floats are zero or of a magnitude from 1e-4 to under 2**63, which is
# what the one-pass reader takes (_is_number, _is_shallow). Otherwise it writes a float
# under 1e-4 differently ("1.5e-7" where Python writes "1.5e-07"), NaN and infinities as
# null, and some values json.dumps refuses (a UUID, an Enum): json.dumps writes those
# documents. Integers past 64 bits, which orjson declines, go to json.dumps too.
_ORJSON_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_SUBCLASS
                   | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)


class NotJSON(TypeError):
    """A document holding a value JSON cannot write (a set, a date object...)."""


def canonical_json(document: Any, plain: bool = False) -> bytes:
    """The document as canonical JSON bytes: keys sorted, no spaces, UTF-8. `plain`: the
    document holds only JSON's own types and floats orjson writes as json.dumps does (as
    the one-pass reader makes sure of what it takes). Raises NotJSON."""
    if plain:
        try:
            return orjson.dumps(document, default=_decline, option=_ORJSON_OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            pass
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except TypeError as error:
        raise NotJSON(str(error)) from None
    return text.encode("utf-8")


def _decline(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def _is_nested_too_deeply(document: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether objects and arrays nest more than `limit` deep. Level by level,
    looking only at containers: a recursive walk that visits every value cost more than
    the schema check and the conversion together."""
    level = 0
    current = [document] if isinstance(document, (dict, list)) else []
    while current:
        level += 1
        if level > limit:
            return True
        below: list = []
        for container in current:
            values = container.values() if isinstance(container, dict) else container
            below += [v for v in values if isinstance(v, (dict, list))]
        current = below
    return False


def _diagnostic(code: str, message: str, name: str, pointer: str, hint: str = "") -> Diagnostic:
    return Diagnostic(code, message, Location(name), hint=hint, pointer=pointer)


def _expanded(errors):
    """Errors with `anyOf` failures on an object replaced by what is wrong inside it:
    `"signals": {...}` or `"signals": "none"` fails as a whole, but the user needs to hear
    about the misspelt field in the object, not about the alternative they did not use."""
    for error in errors:
        if error.validator == "anyOf" and isinstance(error.instance, dict) and error.context:
            yield from _expanded(e for e in error.context if e.validator != "const")
        else:
            yield error


def _schema_diagnostic(error: jsonschema.ValidationError, name: str) -> Diagnostic:
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1")
                      for p in error.absolute_path)
    hint = ""
    message = error.message
    # The stubs allow for errors made by hand; a validator's own always carry these.
    schema: Any = error.schema
    instance: Any = error.instance
    expected: Any = error.validator_value
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed
                  and not k.startswith(("_", "x-"))]
        if extras:
            key = extras[0]
            pointer = f"{pointer}/{key}"
            message = f"unknown field `{key}`"
            guess = suggest(key, allowed)
            hint = f"did you mean `{guess}`?" if guess else "fields here: " + ", ".join(allowed)
    elif error.validator == "required":
        missing = [k for k in expected if k not in instance]
        message = f"missing field `{missing[0]}`" if missing else message
    elif error.validator in ("format", "pattern") and "date" in json.dumps(schema):
        message = f"{json.dumps(instance)} is not a date"
        hint = "write dates as YYYY-MM-DD"
    elif error.validator == "enum":
        message = f"{json.dumps(instance)} is not one of: " + ", ".join(
            map(str, expected))
        guess = suggest(str(instance), [str(v) for v in expected])
        hint = f"did you mean `{guess}`?" if guess else ""
    elif error.validator == "type":
        message = f"{json.dumps(instance, ensure_ascii=False)[:60]} is not {expected}"
        if expected == "boolean" and isinstance(instance, str):
            hint = "write true or false without quotes"
        elif expected == "boolean" and instance is None:
            hint = "leave an unassessed signal out rather than writing null"
    return _diagnostic("E002", message[:300], name, pointer or "/", hint)


def _consistency(document: Mapping, name: str) -> list[Diagnostic]:
    """What the schema cannot say: annotations must name real posts and real spans."""
    posts = {str(p.get("id")): p for p in document["target"].get("posts", [])}
    problems = []
    seen: dict[str, int] = {}
    for index, post in enumerate(document["target"].get("posts", [])):
        pid = str(post.get("id"))
        if pid in seen:
            problems.append(_diagnostic("E005", f"two posts have the id `{pid}`", name,
                                        f"/target/posts/{index}/id", "give each post its own id"))
        seen[pid] = index
    for index, note in enumerate(document.get("annotations", [])):
        pointer = f"/annotations/{index}"
        post = posts.get(str(note["post"]))
        if post is None:
            problems.append(_diagnostic("E005", f"the annotation names post `{note['post']}`, "
                                        "which is not in the evidence", name, f"{pointer}/post",
                                        "use the id of a post under target.posts"))
            continue
        text = post.get(note.get("field", "text")) or ""
        start, end = note["span"]
        if not 0 <= start <= end <= len(text):
            problems.append(_diagnostic("E005", f"the span [{start}, {end}] lies outside the "
                                        f"post's text ({len(text)} characters)", name,
                                        f"{pointer}/span",
                                        "offsets count characters of the text, end exclusive"))
    return problems


# What the conversion does with each field: kept as written, or converted.
_AS_IS, _DATE, _MONEY, _RECORD, _LIST = range(5)
_CONVERSIONS = {"date": _DATE, "money": _MONEY, "record": _RECORD, "list": _LIST}


@cache
def _fields(record: str) -> dict[str, tuple[int, Any]]:
    """The runtime conversion of each field of a record, from the vocabulary."""
    return {key: (_CONVERSIONS.get(t.kind, _AS_IS), t)
            for key, t in vocabulary.RECORDS[record].items()}


def _runtime(value: Any, record: str, pointer: str, pointers: dict[int, str]) -> Any:
    """Copy a checked JSON record into the runtime form, guided by the vocabulary."""
    fields = _fields(record)
    out: dict[str, Any] = {}
    for key, item in value.items():
        entry = fields.get(key)
        if entry is None:
            continue  # free annotations (_..., x-...) are not for the rules
        conversion, t = entry
        out[key] = item if conversion == _AS_IS else \
            _runtime_value(item, t, f"{pointer}/{key}", pointers)
    if record == "post" and "translation" not in out and out.get("language") == "en" \
            and "text" in out:
        out["translation"] = out["text"]  # an English post is its own translation
    pointers[id(out)] = pointer
    return out


def _runtime_value(item: Any, t, pointer: str, pointers: dict[int, str]) -> Any:
    if item == "none" and t.kind == "record":
        # "context": "none", "signals": "none": assessed, and nothing of the kind found:
        # every yes/no flag is false and every list (contacts, code words) is empty.
        item = {name: False if field.kind == "bool" else []
                for name, field in vocabulary.RECORDS[t.name].items()
                if field.kind in ("bool", "list")}
    match t.kind:
        case "date":
            return datetime.date.fromisoformat(item)
        case "money":
            return Money(item["amount"], item["currency"])
        case "record":
            return _runtime(item, t.name, pointer, pointers)
        case "list":
            element = t.element
            if _CONVERSIONS.get(element.kind, _AS_IS) == _AS_IS:
                return list(item)
            return [_runtime_value(x, element, f"{pointer}/{i}", pointers)
                    for i, x in enumerate(item)]
    return item


# One pass over the common case: a document of records the schema describes, without
# shorthand, annotations, an extraction record or deeply nested free annotations (`_...`,
# `x-...`, taken only when they nest no deeper than records do). The pass checks every value
# against the published schema's own keywords (compiled once, below) and builds the runtime
# records as it goes; it gives up on anything it does not read itself, and the full path
# (JSON Schema, shorthand, every problem with its pointer) reads that document instead.
# It accepts only documents the schema accepts, so what it returns is what the full path
# would; and since it follows the vocabulary's records, which do not nest themselves, such
# a document is shallow by construction and needs no depth check.


class _Unread(Exception):
    """The one-pass reader leaves this document to the full path."""


def _read_common(document: Any) -> tuple[dict, dict]:
    """The runtime request and target of a common document, or _Unread."""
    if type(document) is not dict:
        raise _Unread
    if len(document) != 2:
        for key, value in document.items():
            if key not in ("request", "target") and not (
                    (key == "$schema" or _is_free(key)) and _is_shallow(value)):
                raise _Unread
    request = _record_reader("request")(document.get("request"))
    target = _record_reader("page")(document.get("target"))
    posts = target.get("posts", ())
    if len({post["id"] for post in posts}) != len(posts):
        raise _Unread  # two posts with one id: the full path reports it (E005)
    return request, target


# Records nest fewer levels than this (target, posts, a post, its signals, contacts, a
# contact): a free annotation in one is shallow enough if it nests no more than the rest.
RECORD_DEPTH = 8
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def _is_shallow(value: Any) -> bool:
    """Whether a free annotation may stay in a common document: it nests no deeper than
    records do, and holds no float orjson writes otherwise than json.dumps (the digest
    relies on that). Level by level, as `_is_nested_too_deeply` walks."""
    if type(value) in _PLAIN_SCALARS:
        return True
    limit, level = MAX_JSON_DEPTH - RECORD_DEPTH, 0
    current = [value]
    while current:
        below: list = []
        containers = False
        for item in current:
            if isinstance(item, dict):
                below += item.values()
                containers = True
            elif isinstance(item, list):
                below += item
                containers = True
            elif type(item) is float:
                if not _is_usual_float(item):
                    return False
            elif type(item) not in _PLAIN_SCALARS:  # a UUID, an Enum, a set...: not JSON
                return False
        if containers:
            level += 1
            if level > limit:
                return False
        current = below
    return True


def _is_free(key: Any) -> bool:
    return type(key) is str and key.startswith(("_", "x-"))


# How the one-pass reader takes each field: a yes/no, a text of at most so many
# characters, a value a predicate accepts (all three kept as written), or a reader.
_BOOLEAN, _STRING, _CHECKED, _READ = range(4)
_BOOL = frozenset({bool})


@cache
def _record_reader(record: str):
    """The reader of a record of the schema: value -> runtime record. Records do not
    nest themselves, so building a reader builds those of the records it holds first."""
    schema = evidence_schema()["$defs"].get(record, {})
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        return _unread
    types = vocabulary.RECORDS[record]
    fields = {key: _field_entry(sub, types[key])
              for key, sub in schema["properties"].items()}
    required = tuple(schema.get("required", ()))
    is_post = record == "post"
    # A record of yes/no fields alone (a post's context) is checked whole, in C: its keys
    # against the fields, the types of its values against bool.
    names = frozenset(fields)
    flags = all(how == _BOOLEAN for how, _ in fields.values())

    def read(value):
        if type(value) is not dict:
            raise _Unread
        if flags and names.issuperset(value) and set(map(type, value.values())) <= _BOOL:
            out = dict(value)
            for key in required:
                if key not in out:
                    raise _Unread
            return out
        out = {}
        for key, item in value.items():
            entry = fields.get(key)
            if entry is None:
                if _is_free(key) and _is_shallow(item):
                    continue  # free annotations are not for the rules
                raise _Unread  # unknown or derived fields, or annotations nested too deeply
            how, arg = entry
            if how == _BOOLEAN:
                if type(item) is not bool:
                    raise _Unread
            elif how == _STRING:
                if type(item) is not str or len(item) > arg:
                    raise _Unread
            elif how == _CHECKED:
                if not arg(item):
                    raise _Unread
            else:
                item = arg(item)
            out[key] = item
        for key in required:
            if key not in out:
                raise _Unread
        if is_post and "translation" not in out and out.get("language") == "en" \
                and "text" in out:
            out["translation"] = out["text"]  # an English post is its own translation
        return out

    return read


def _field_entry(schema: dict, t) -> tuple[int, Any]:
    keys = set(schema) - {"description"}
    if keys == {"type"} and schema["type"] == "boolean":
        return _BOOLEAN, None
    if keys == {"type", "maxLength"} and schema["type"] == "string":
        return _STRING, schema["maxLength"]
    if t.kind in ("date", "money", "record", "list"):
        return _READ, _reader(schema, t)
    return _CHECKED, _scalar_check(schema)


def _reader(schema: dict, t):
    """A reader of a value that the runtime form converts: value -> runtime value."""
    keys = set(schema) - {"description"}
    if keys == {"anyOf"} and len(schema["anyOf"]) == 2 \
            and schema["anyOf"][1] == {"const": "none"} and "$ref" in schema["anyOf"][0]:
        read_record = _record_reader(schema["anyOf"][0]["$ref"].rsplit("/", 1)[1])

        def read_or_none(value):
            if type(value) is str and value == "none":
                return _runtime_value(value, t, "", {})
            return read_record(value)
        return read_or_none
    if keys == {"$ref"}:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name == "money" and t.kind == "money":
            return _read_money
        if t.kind != "record":
            return _unread
        return _record_reader(name)
    if t.kind == "list" and schema.get("type") == "array":
        if keys != {"type", "items", "maxItems"}:
            return _unread
        limit = schema["maxItems"]
        items = schema["items"]
        if t.element.kind not in ("date", "money", "record", "list"):
            check = _scalar_check(items)

            def read_list(value):
                if type(value) is not list or len(value) > limit \
                        or not all(map(check, value)):
                    raise _Unread
                return list(value)
            return read_list
        element = _reader(items, t.element)

        def read_elements(value):
            if type(value) is not list or len(value) > limit:
                raise _Unread
            return [element(item) for item in value]
        return read_elements
    if t.kind == "date" and keys == {"type", "format", "pattern"} \
            and schema["type"] == "string" and schema["format"] == "date":
        pattern = re.compile(schema["pattern"], re.ASCII)

        # A page's posts carry a few dates many times over: each text is read once.
        @lru_cache(maxsize=4096)
        def read_date_text(value: str) -> datetime.date:
            # The pattern on ASCII digits, whole: at most what the schema's accepts.
            if pattern.fullmatch(value) is None:
                raise _Unread
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise _Unread from None

        def read_date(value):
            if type(value) is not str:
                raise _Unread
            return read_date_text(value)
        return read_date
    return _unread


def _scalar_check(schema: dict):
    """A predicate that holds only of values `schema` accepts (it may refuse some that it
    accepts: the full path has the last word on those)."""
    keys = set(schema) - {"description"}
    if keys - {"type", "maxLength", "minimum", "maximum", "pattern", "format", "enum"}:
        return lambda value: False
    checks = []
    kind = schema.get("type")
    if "enum" in schema:
        allowed = frozenset(v for v in schema["enum"] if type(v) is str)
        checks.append(lambda v: type(v) is str and v in allowed)
    if kind == "boolean":
        checks.append(lambda v: type(v) is bool)
    elif kind == "integer":
        checks.append(_is_integer)
    elif kind == "number":
        checks.append(_is_number)
    elif kind == "string":
        checks.append(lambda v: type(v) is str)
    elif "enum" not in schema:
        return lambda value: False
    if "maxLength" in schema:
        most = schema["maxLength"]
        checks.append(lambda v: len(v) <= most)
    if "minimum" in schema:
        least = schema["minimum"]
        checks.append(lambda v: v >= least)
    if "maximum" in schema:
        top = schema["maximum"]
        checks.append(lambda v: v <= top)
    if "pattern" in schema:
        # ASCII classes and the whole string: at most what the schema's pattern accepts.
        pattern = re.compile(schema["pattern"], re.ASCII)
        checks.append(lambda v: pattern.fullmatch(v) is not None)
    if "format" in schema:
        if schema["format"] != "date":
            return lambda value: False
        checks.append(_is_date)
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


def _is_integer(value: Any) -> bool:
    # Within 64 bits: what every validator reads as an integer.
    return type(value) is int and -_LARGEST <= value < _LARGEST


def _is_number(value: Any) -> bool:
    return _is_integer(value) or type(value) is float and _is_usual_float(value)


def _is_usual_float(value: float) -> bool:
    """Zero, or of a magnitude from 1e-4 to under 2**63: a float orjson writes as
    json.dumps does (canonical_json), and not one it may have read from an integer past
    64 bits (parse_evidence). The full path takes the others."""
    return value == 0.0 or 1e-4 <= abs(value) < _LARGEST


_LARGEST = 1 << 63


def _is_date(value: str) -> bool:
    if len(value) != 10 or not value.isascii():
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _read_money(value):
    if type(value) is not dict or len(value) != 2:
        raise _Unread
    amount, currency = value.get("amount"), value.get("currency")
    if not _is_number(amount) or amount < 0 or type(currency) is not str or len(currency) != 3 \
            or not (currency.isascii() and currency.isalpha() and currency.isupper()):
        raise _Unread
    return Money(amount, currency)


def _unread(value):
    raise _Unread
