"""The one-pass reader of common evidence (engine.evidence): it takes only documents the
published schema accepts, and gives for them the runtime records and pointers the full
path (JSON Schema, then conversion) gives; everything else goes to the full path, whose
diagnostics tests/engine/test_evidence.py checks."""

import copy
import datetime
import hashlib
import json
import uuid
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import evidence as ev
from engine import parse_evidence
from rules import vocabulary

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(p for p in (ROOT / "fixtures").rglob("*.json")
                   if '"request"' in p.read_text(encoding="utf-8"))

# Values put in place of every value of a document, one at a time.
REPLACEMENTS = [None, True, 0, -1, 1.5, float("nan"), 10**30, "", "none", "x" * 20_001,
                "2024-13-01", "2024-1-01", "2024-02-30", "２０２４-01-01", "2024-01-01\n",
                "eur", "EURO", "GB", "gb", [], [1], {}, {"kind": "x"}, {"amount": -1,
                                                                      "currency": "EUR"}]


def _full_path(document: dict) -> tuple[dict, dict, dict[int, str]]:
    pointers: dict[int, str] = {}
    request = ev._runtime(document["request"], "request", "/request", pointers)
    target = ev._runtime(document["target"], "page", "/target", pointers)
    return request, target, pointers


def _accepted(document) -> tuple[dict, dict] | None:
    try:
        return ev._read_common(document)
    except ev._Unread:
        return None


def _same_as_full_path(document, read: tuple[dict, dict]) -> None:
    assert ev._fast_validator().is_valid(document)
    assert not list(ev._validator().iter_errors(document))
    assert not ev._is_nested_too_deeply(document)
    assert not ev._consistency(document, "x")
    request, target, pointers = _full_path(document)
    assert read == (request, target)
    assert sorted(ev._record_pointers(*read).values()) == sorted(pointers.values())
    by_pointer = {p: i for i, p in ev._record_pointers(*read).items()}
    assert set(by_pointer) == set(pointers.values())


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    yield path


def _replaced(document, path, new):
    out = copy.deepcopy(document)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return out


def test_the_reader_takes_nearly_every_fixture_as_the_full_path_reads_it():
    taken = 0
    for path in DOCUMENTS:
        document = json.loads(path.read_text(encoding="utf-8"))
        read = _accepted(document)
        if read is not None:
            taken += 1
            _same_as_full_path(document, read)
    assert taken >= 0.9 * len(DOCUMENTS)


@pytest.mark.parametrize("path", DOCUMENTS[::12], ids=lambda p: p.stem)
def test_whatever_the_reader_takes_after_a_change_the_schema_accepts(path: Path):
    document = json.loads(path.read_text(encoding="utf-8"))
    for where in _leaves(document):
        if not where:
            continue
        for new in REPLACEMENTS:
            changed = _replaced(document, where, new)
            read = _accepted(changed)
            if read is not None:
                _same_as_full_path(changed, read)
        in_records = not any(isinstance(part, str) and part.startswith(("_", "x-"))
                             for part in where)
        if in_records and isinstance(where[-1], str):
            assert _accepted(_replaced(document, (*where[:-1], "no_such_field"), 1)) is None


def test_nested_free_annotations_are_taken_only_when_shallow():
    document = json.loads(DOCUMENTS[0].read_text(encoding="utf-8"))
    deep: list = []
    for _ in range(ev.MAX_JSON_DEPTH):
        deep = [deep]
    document["target"]["x-notes"] = {"seen": ["a", "b"]}
    assert _accepted(document) is not None
    document["target"]["x-notes"] = deep
    assert _accepted(document) is None
    evidence, problems = parse_evidence(document)
    assert evidence is None and problems[0].code == "E003"


def test_two_posts_with_one_id_go_to_the_full_path():
    document = {"request": {"id": "R", "submitted": "2024-05-01"},
                "target": {"platform": "x", "kind": "page",
                           "posts": [{"id": "p"}, {"id": "p"}]}}
    assert _accepted(document) is None
    assert parse_evidence(document)[1][0].code == "E005"


def test_records_nest_less_deeply_than_the_reader_assumes():
    def depth(t, seen=()) -> int:
        if t.kind == "list":
            return 1 + depth(t.element, seen)
        if t.kind != "record":
            return 0
        assert t.name not in seen  # no record holds itself
        return 1 + max((depth(f, (*seen, t.name)) for f in vocabulary.RECORDS[t.name].values()),
                       default=0)
    # The document itself, then the deepest of the records under it.
    deepest = 1 + max(depth(t) for t in vocabulary.ROOTS.values())
    assert deepest < ev.RECORD_DEPTH


def test_evidence_read_in_one_pass_has_the_full_paths_digest_and_pointers():
    document = json.loads(DOCUMENTS[0].read_text(encoding="utf-8"))
    fast, _ = parse_evidence(document)
    slow, _ = parse_evidence({**document, "annotations": []})
    assert isinstance(fast.pointers, ev.Pointers) and not isinstance(slow.pointers, ev.Pointers)
    assert (fast.request, fast.target) == (slow.request, slow.target)
    assert sorted(fast.pointers.values()) == sorted(slow.pointers.values())
    assert fast.digest == ev._digest(document)


# The digest's canonical JSON (engine.evidence.canonical_json) against the definition it
# must keep byte for byte: stored cases carry digests made with json.dumps.

def _json_dumps_bytes(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


_FLOATS = st.one_of(st.floats(), st.floats(min_value=-1e-3, max_value=1e-3),
                    st.sampled_from([1e-5, 1.5e-7, 1e16, -1e22, 5e-324, 0.0001, 1e-4 * 0.999]))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-2**70, 2**70),
                     _FLOATS, st.text(), st.sampled_from(["null", "3e-5", "0.00001", "e-", "1e-"]))
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.text(max_size=8), inner, max_size=5)),
    max_leaves=30)


def _plain(value) -> bool:
    """Whether a value is what the one-pass reader takes: JSON's own types, floats zero
    or of a magnitude from 1e-4 to under 2**63."""
    if type(value) is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if type(value) is list:
        return all(map(_plain, value))
    if type(value) is float:
        return value == 0.0 or 1e-4 <= abs(value) < 2.0 ** 63
    return type(value) in (str, int, bool, type(None))


@given(_VALUES)
@settings(max_examples=2000, deadline=None)
def test_canonical_json_of_a_plain_document_is_what_json_dumps_writes(value):
    """orjson writes plain documents (the one-pass reader's); they must come out byte
    for byte as json.dumps writes them, or every stored digest would change."""
    try:
        expected = _json_dumps_bytes(value)
    except (TypeError, ValueError) as failure:  # lone surrogates do not encode: neither way
        with pytest.raises(type(failure)):
            ev.canonical_json(value, plain=_plain(value))
        return
    assert ev.canonical_json(value, plain=_plain(value)) == expected
    assert ev.canonical_json(value) == expected


@pytest.mark.parametrize("value", [
    {"n": 10**40}, {"n": -(2**63) - 1}, {"when": "2024-01-01", "t": "\x00\x1f\u2028\x7f\ud7ff"},
    {"\uffff": 1, "\U00010000": 2, "é": 3, "e": 4}, [2.0, -0.0, 1e-4, 9.2e18, 1e16, 123.456],
])
def test_canonical_json_of_plain_documents_orjson_might_write_otherwise(value):
    assert _plain(value)
    assert ev.canonical_json(value, plain=True) == _json_dumps_bytes(value)


@pytest.mark.parametrize("value", [{"amount": float("nan")}, {"x": float("inf")},
                                   [1e-05, 2.5e-300], {"u": uuid.UUID(int=1)}])
def test_orjson_writes_what_is_not_plain_otherwise(value):
    """Why only plain documents go to orjson: these it writes otherwise, or at all."""
    assert not _plain(value)
    try:
        expected = _json_dumps_bytes(value)
    except TypeError:  # json.dumps refuses it; orjson writes it
        assert orjson.dumps(value)
        with pytest.raises(ev.NotJSON):
            ev.canonical_json(value)
        return
    assert orjson.dumps(value) != expected
    assert ev.canonical_json(value) == expected


@pytest.mark.parametrize("value", [{"d": datetime.date(2024, 1, 1)},
                                   {"s": {1, 2}}, {"x": "\ud800"}])
def test_canonical_json_refuses_what_json_dumps_refuses(value):
    with pytest.raises((TypeError, ValueError)):
        _json_dumps_bytes(value)
    for plain in (True, False):
        with pytest.raises((TypeError, ValueError)):
            ev.canonical_json(value, plain=plain)


@pytest.mark.parametrize("value", [uuid.UUID(int=1), {1, 2}, datetime.date(2024, 1, 1),
                                   (1, 2), float("nan")])
def test_a_mapping_holding_what_json_cannot_write_is_reported_not_raised(value):
    document = json.loads(DOCUMENTS[0].read_text(encoding="utf-8"))
    document["_x"] = {"deep": [value]}
    evidence, problems = parse_evidence(document)
    try:
        expected = hashlib.sha256(_json_dumps_bytes(document)).hexdigest()
    except TypeError:
        assert evidence is None and [p.code for p in problems] == ["E002"]
        assert problems[0].hint
        return
    assert evidence is not None and evidence.digest == expected


def test_the_digests_of_the_bundled_fixtures_are_those_of_json_dumps():
    for path in DOCUMENTS:
        evidence, problems = parse_evidence(path.read_bytes(), str(path))
        assert not problems, path
        expected = hashlib.sha256(_json_dumps_bytes(evidence.document)).hexdigest()
        assert evidence.digest == expected, path


@given(_VALUES)
@settings(max_examples=500, deadline=None)
def test_evidence_with_any_free_annotation_has_the_digest_of_json_dumps(value):
    """The one-pass reader vouches for the numbers of what it takes, so that the digest
    need not look at orjson's output: a free annotation may hold anything."""
    document = json.loads(DOCUMENTS[0].read_text(encoding="utf-8"))
    document["_note"] = value
    document["target"]["_note"] = value
    try:
        expected = hashlib.sha256(_json_dumps_bytes(document)).hexdigest()
    except (TypeError, ValueError):  # lone surrogates: no text can carry them
        return
    for form in (document, json.dumps(document, ensure_ascii=False)):
        evidence, problems = parse_evidence(form)
        assert not problems and evidence is not None
        assert evidence.digest == expected


@pytest.mark.parametrize("number", ["1e-7", "0.00001", "-2.5e-300", "NaN", "-Infinity",
                                    "1e400", "123456789012345678901234567890"])
def test_the_digest_of_evidence_with_unusual_numbers_is_that_of_json_dumps(number):
    document = json.loads(DOCUMENTS[0].read_text(encoding="utf-8"))
    text = json.dumps(document)[:-1] + f', "_note": {number}}}'
    evidence, problems = parse_evidence(text)
    assert not problems and evidence is not None
    assert evidence.document["_note"] is not None
    expected = hashlib.sha256(_json_dumps_bytes(json.loads(text))).hexdigest()
    assert evidence.digest == expected


@pytest.mark.parametrize("amount", [5e-05, 2.5e-300, 0.0001, 1e22, 0.0, 12.5])
def test_the_digest_of_evidence_with_any_price_is_that_of_json_dumps(amount):
    document = json.loads(DOCUMENTS[0].read_text(encoding="utf-8"))
    document["target"]["posts"][0]["signals"]["price"]["amount"] = amount
    evidence, problems = parse_evidence(document)
    assert not problems and evidence is not None
    assert evidence.digest == hashlib.sha256(_json_dumps_bytes(document)).hexdigest()


# Evidence given as text is read by orjson where the one-pass reader takes what it read,
# and by json.loads otherwise: the values must be those json.loads gives, type for type.

def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(map(_same, a, b))
    if type(a) is float:
        return repr(a) == repr(b)
    return a == b


_TEXTS = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)


@given(_VALUES, _TEXTS, st.booleans())
@settings(max_examples=500, deadline=None)
def test_evidence_read_from_text_holds_the_values_json_loads_reads(value, text, ascii_only):
    document = json.loads(DOCUMENTS[0].read_text(encoding="utf-8"))
    document["_note"] = value
    document["target"]["posts"][0]["text"] = text
    try:
        given_text = json.dumps(document, ensure_ascii=ascii_only)
        given_text.encode("utf-8")
    except (TypeError, ValueError):  # lone surrogates: no request can carry them
        return
    evidence, problems = parse_evidence(given_text)
    assert not problems and evidence is not None
    assert _same(evidence.document, json.loads(given_text))
    assert evidence.digest == hashlib.sha256(
        _json_dumps_bytes(json.loads(given_text))).hexdigest()


@pytest.mark.parametrize("annotation", [
    '18446744073709551616', '-9223372036854775809', '123456789012345678901234567890',
    '9223372036854775808', '1e20', 'NaN', '{"_a": 1, "_a": 2.5}'])
def test_evidence_with_numbers_orjson_reads_otherwise_holds_json_loads_values(annotation):
    text = DOCUMENTS[0].read_text(encoding="utf-8").rstrip()
    text = text[:-1] + f', "_x": {annotation}, "_y": 1, "_y": 2}}'
    evidence, problems = parse_evidence(text)
    assert not problems and evidence is not None
    assert _same(evidence.document, json.loads(text))
    assert evidence.digest == hashlib.sha256(_json_dumps_bytes(json.loads(text))).hexdigest()


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "a\\ud83d b"])
def test_a_lone_surrogate_in_evidence_is_reported_not_raised(escape):
    text = DOCUMENTS[0].read_text(encoding="utf-8").rstrip()
    text = text[:-1] + f', "_x": "{escape}"}}'
    for form in (text, json.loads(text)):
        evidence, problems = parse_evidence(form)
        assert evidence is None
        assert [p.code for p in problems] == ["E004"]
        assert "lone surrogate" in problems[0].message and problems[0].hint
