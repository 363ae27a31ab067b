"""Statements of reasons from the EU DSA Transparency Database, imported as responses:
the sample dump (fixtures/statements-of-reasons.csv, written with the dumps' columns),
the same statements in the API's JSON shapes, every problem code D001-D008, and the round
trip check -> dsa-sor -> audit import -> audit case / audit report."""

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from engine.audit.statements import (
    Statement,
    match_statements,
    outcome_of,
    parse_statements,
    read_statements,
    reason_of,
)
from engine.audit.store import open_store
from tests.audit.support import FIXTURES, a_case
from tests.audit.test_cli import run

SAMPLE = FIXTURES / "statements-of-reasons.csv"
LISTS = ("decision_visibility", "content_type", "territorial_scope", "category_addition",
         "category_specification")

# What each statement of the sample becomes: (the request it answers, outcome, the start
# of the reason recorded); None for the one that answers no case.
EXPECTED = [
    ("NCA-2025-1103-TT", "page_removed",
     "incompatible with terms and conditions: Community Guidelines: Human exploitation "
     "(smuggling services) (also considered illegal); category: Risk for public security"),
    ("EU-IRU-2025-0514-031", "posts_removed",
     "illegal content: Directive 2002/90/EC art. 1 (facilitation of unauthorised entry); "
     "category: Risk for public security"),
    ("EU-IRU-2024-1120", "geo_blocked",
     "illegal content: Wetboek van Strafrecht art. 197a; category: Scams and/or fraud"),
    ("FR-SIG-2025-0408-112", "no_action",
     "incompatible with terms and conditions: Community Guidelines: borderline content; "
     "category: Scope of platform service; restriction: demotion of content"),
    None,
]


def _sample_rows() -> list[dict]:
    """The sample's statements as the API gives them: list fields as JSON arrays, no
    empty fields, `puid` for the dumps' `platform_uid`."""
    with open(SAMPLE, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    out = []
    for row in rows:
        item = {k: (json.loads(v) if k in LISTS else v) for k, v in row.items() if v}
        item["puid"] = item.pop("platform_uid")
        item["content_date"] = item["content_date"][:10]
        item["application_date"] = item["application_date"][:10]
        out.append(item)
    return out


def _cases(path: Path):
    with open_store(path, create=False) as store:
        return store.cases()


def _by_request(path: Path) -> dict[str, list]:
    with open_store(path, create=False) as store:
        cases = {c.id: c.request_id for c in store.cases()}
        return {cases[k]: v for k, v in store.responses().items()}


def test_the_sample_dump_becomes_responses_matched_by_puid_or_by_platform_and_date(sample_db):
    found = read_statements(SAMPLE, _cases(sample_db))
    assert found.problems == [] and found.statements == 5
    requests = {c.id: c.request_id for c in _cases(sample_db)}
    got = [(requests[r.case_id], r.outcome, r.reason) for r in found.responses]
    assert got == [e for e in EXPECTED if e is not None]
    assert [r.date for r in found.responses] == ["2025-11-06", "2025-05-19", "2024-11-22",
                                                  "2025-04-15"]
    assert found.responses[0].source == f"{SAMPLE}:line 2"
    assert found.responses[0].notes == (
        "DSA statement of reasons 0b6f6c1e-5a3e-4d0e-9a51-2f1f7d0c1a01; source_type "
        "SOURCE_ARTICLE_16; automated_detection No; automated_decision "
        "AUTOMATED_DECISION_NOT_AUTOMATED")
    [unmatched] = found.unmatched
    assert (unmatched.where, unmatched.code) == ("line 6", "D007")
    assert unmatched.statement.label == "0b6f6c1e-5a3e-4d0e-9a51-2f1f7d0c1a05"


@pytest.mark.parametrize("shape", ["api-multiple", "list", "json-lines"])
def test_the_api_json_shapes_read_as_the_dump_does(shape, sample_db, tmp_path):
    rows = _sample_rows()
    path = tmp_path / "statements.json"
    if shape == "api-multiple":
        path.write_text(json.dumps({"statements": rows}), encoding="utf-8")
    elif shape == "list":
        path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    cases = _cases(sample_db)
    from_json = read_statements(path, cases)
    from_csv = read_statements(SAMPLE, cases)
    assert from_json.problems == []
    assert ([(r.case_id, r.date, r.outcome, r.reason, r.notes) for r in from_json.responses]
            == [(r.case_id, r.date, r.outcome, r.reason, r.notes) for r in from_csv.responses])
    where = {"api-multiple": "/statements/4", "list": "/4", "json-lines": "line 5"}[shape]
    assert [u.where for u in from_json.unmatched] == [where]


def test_one_statement_alone_is_read_too(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(_sample_rows()[2]), encoding="utf-8")
    statements, problems = parse_statements(path)
    assert problems == [] and [s.where for s in statements] == ["/"]
    assert outcome_of(statements[0]) == "geo_blocked"


def test_import_stores_them_all_reports_the_unmatched_and_imports_again_as_nothing(
        sample_copy, tmp_path):
    unmatched = tmp_path / "unmatched.ndjson"
    code, out, err = run("audit", "import", "--format", "dsa-sor", SAMPLE, "--db", sample_copy,
                         "--unmatched", unmatched)
    assert code == 0, err
    assert out == (f"imported 4 responses from 5 statements of reasons in {SAMPLE}; "
                   "1 answer no case\n")
    assert (f"{SAMPLE}:line 6: note[D007]: statement 0b6f6c1e-5a3e-4d0e-9a51-2f1f7d0c1a05 not "
            "recorded: no recorded case has its PUID or URL, nor its platform and content "
            "date") in err
    [kept] = [json.loads(line) for line in unmatched.read_text().splitlines()]
    assert kept["code"] == "D007" and kept["statement"]["platform_name"] == "X"
    assert kept["statement"]["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    responses = _by_request(sample_copy)
    for expected in filter(None, EXPECTED):
        request, outcome, reason = expected
        assert (outcome, reason) in {(r.outcome, r.reason) for r in responses[request]}
    code, out, _ = run("audit", "import", "--format", "dsa-sor", SAMPLE, "--db", sample_copy)
    assert code == 0 and "imported 0 responses" in out and "4 already recorded, skipped" in out
    code, out, _ = run("audit", "verify", "--db", sample_copy)
    assert code == 0 and out.startswith("intact:")


def test_check_says_what_would_be_imported_and_stores_nothing(sample_copy):
    code, out, _ = run("audit", "import", "--format", "dsa-sor", SAMPLE, "--db", sample_copy,
                       "--check")
    assert (code, out) == (0, f"{SAMPLE}: 5 statements, 4 responses would be imported; 1 "
                              "answer no case\n")
    assert "DSA statement" not in json.dumps(
        [r.notes for rs in _by_request(sample_copy).values() for r in rs])


def test_unmatched_goes_with_the_dsa_format_only(sample_copy, tmp_path):
    code, _, err = run("audit", "import", FIXTURES / "responses.csv", "--db", sample_copy,
                       "--unmatched", tmp_path / "x.ndjson")
    assert code == 2 and "--unmatched goes with --format dsa-sor" in err


# Problems: each code, where it is, and nothing stored.

def _dump(tmp_path: Path, change: dict, name: str = "bad.csv") -> Path:
    """The sample with one change to its second statement (line 3)."""
    with open(SAMPLE, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    rows[1].update(change)
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("change, code, where, field", [
    ({"decision_visibility": '["DECISION_VISIBILITY_REMOVED"]'}, "D004", "line 3",
     "decision_visibility"),
    ({"decision_visibility": '["DECISION_VISIBILITY_CONTENT_REMOVED"'}, "D004", "line 3",
     "decision_visibility"),
    ({"decision_account": "terminated"}, "D004", "line 3", "decision_account"),
    ({"category": "STATEMENT_CATEGORY_SMUGGLING"}, "D004", "line 3", "category"),
    ({"territorial_scope": '["UK"]'}, "D004", "line 3", "territorial_scope"),
    ({"application_date": ""}, "D003", "line 3", "application_date"),
    ({"decision_ground": ""}, "D003", "line 3", "decision_ground"),
    ({"content_date": "19/05/2025"}, "D005", "line 3", "content_date"),
    ({"application_date": "2025-02-30"}, "D005", "line 3", "application_date"),
    ({"illegal_content_legal_ground": "x" * 501}, "D006", "line 3",
     "illegal_content_legal_ground"),
])
def test_a_malformed_statement_stops_the_file_with_its_code_and_line(
        change, code, where, field, tmp_path, sample_copy):
    path = _dump(tmp_path, change)
    found = read_statements(path, _cases(sample_copy))
    assert [(p.code, p.where, p.field) for p in found.problems] == [(code, where, field)]
    assert found.responses == []
    exit_code, out, err = run("audit", "import", "--format", "dsa-sor", path, "--db",
                              sample_copy)
    assert exit_code == 3 and out == ""
    assert f"{path}:{where}, field {field}: error[{code}]: " in err
    assert "nothing imported: 1 problems" in err


def test_a_json_statement_is_pointed_at(tmp_path):
    rows = _sample_rows()
    rows[3]["decision_ground"] = "DECISION_GROUND_TOS"
    rows[4]["decision_visibility"] = {"removed": True}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"statements": rows}), encoding="utf-8")
    _, problems = parse_statements(path)
    assert [(p.code, p.where) for p in problems] == [
        ("D004", "/statements/3/decision_ground"), ("D004", "/statements/4/decision_visibility")]


@pytest.mark.parametrize("content, where, words", [
    (b"\xff\xfe not text", "line 1", "not UTF-8"),
    (b"", "line 1", "holds no statement"),
    (b"name,date\nx,2025-01-01\n", "line 1", "names none of the database's fields"),
    (b'{"statements": [', "line 1", "not JSON"),
    (b'{"puid": "a", "application_date": "2025-01-01"}\n[1]\n', "line 2",
     "a statement is a JSON object"),
    (b"uuid,application_date\nu1,2025-01-01,extra\n", "line 2", "3 cells"),
])
def test_a_file_that_is_not_statements_is_d001(content, where, words, tmp_path):
    path = tmp_path / "statements.csv"
    path.write_bytes(content)
    _, problems = parse_statements(path)
    assert [(p.code, p.where) for p in problems] == [("D001", where)]
    assert words in problems[0].message


def test_a_file_over_the_limit_is_not_read(tmp_path):
    _, problems = parse_statements(SAMPLE, max_bytes=1000)
    assert [(p.code, p.where) for p in problems] == [("D002", "line 1")]
    assert "bytes, more than the 1,000 allowed" in problems[0].message


def test_a_statement_that_fits_two_cases_is_not_recorded_against_either():
    cases = [dataclasses.replace(a_case("R-7", platform="tiktok"), id=f"C-{i}")
             for i in range(2)]
    statement = Statement("line 2", {"puid": "R-7", "application_date": "2024-02-01",
                                     "decision_visibility": ("DECISION_VISIBILITY_CONTENT_REMOVED",),
                                     "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"})
    responses, unmatched = match_statements([statement], cases, "s.csv")
    assert responses == []
    assert [(u.code, u.why) for u in unmatched] == [
        ("D008", "its PUID fits 2 cases (C-0, C-1)")]
    early = Statement("line 3", {**statement.fields, "application_date": "2024-01-02"})
    _, unmatched = match_statements([early], cases[:1], "s.csv")
    assert [(u.code, u.why) for u in unmatched] == [
        ("D007", "its PUID fits C-0, but it applies from 2024-01-02, before the "
                 "request was submitted")]


@pytest.mark.parametrize("fields, outcome", [
    ({"decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION"}, "page_removed"),
    ({"decision_account": "DECISION_ACCOUNT_SUSPENDED"}, "page_removed"),
    ({"decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION"}, "no_action"),
    ({"decision_visibility": ("DECISION_VISIBILITY_CONTENT_DISABLED",)}, "posts_removed"),
    ({"decision_visibility": ("DECISION_VISIBILITY_CONTENT_DISABLED",),
      "territorial_scope": ("DE", "AT")}, "geo_blocked"),
    ({"decision_visibility": ("DECISION_VISIBILITY_CONTENT_LABELLED",)}, "no_action"),
    ({"decision_monetary": "DECISION_MONETARY_TERMINATION"}, "no_action"),
    ({}, "no_action"),
])
def test_what_each_decision_means(fields, outcome):
    statement = Statement("/", {"application_date": "2025-01-01", **fields})
    assert outcome_of(statement) == outcome
    if not fields:
        assert reason_of(statement) == "no restriction decided"


# The round trip

def test_check_writes_statements_that_import_back_as_the_predicted_outcomes(tmp_path):
    folder = FIXTURES / "tiktok"
    db = tmp_path / "cases.db"
    code, _, err = run("audit", "record", folder, "--db", db)
    assert code == 0, err
    code, out, err = run("check", folder, "--format", "dsa-sor")
    assert code == 0, err
    statements = json.loads(out)["statements"]
    assert all(set(s) >= {"decision_ground", "category"} for s in statements
               if s.get("decision_visibility") or s.get("decision_account"))
    sor = tmp_path / "sor.json"
    sor.write_text(out, encoding="utf-8")
    code, out, err = run("audit", "import", "--format", "dsa-sor", sor, "--db", db)
    assert code == 0, err
    assert "answer no case" not in out
    with open_store(db, create=False) as store:
        cases = store.cases()
        responses = store.responses()
    predicted = {c.id: c.outcome for c in cases if c.outcome != "undetermined"}
    assert predicted and {k: v[-1].outcome for k, v in responses.items()} == predicted
    assert len(set(predicted.values())) >= 2, "the fixtures give more than one outcome"
    page = next(c for c in cases if c.outcome in ("page_removed", "posts_removed"))
    code, out, _ = run("audit", "case", page.id, "--db", db, "--format", "json")
    case_report = json.loads(out)
    assert code == 0 and "DSA statement of reasons" in json.dumps(case_report)
    code, out, _ = run("audit", "report", "--db", db, "--format", "json")
    assert code == 0 and "DSA statement of reasons" not in out  # counted, not quoted
    report = json.loads(out)
    assert report and "tiktok" in json.dumps(report).lower()
