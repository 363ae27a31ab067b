"""The responses spreadsheet: columns, the words teams use, and every bad row reported
by its line number."""

from engine.audit.records import response_outcome
from engine.audit.sheet import read_sheet

CASES = {"C-000001": "2024-01-10", "C-000002": "2024-02-01", "C-000003": "2024-02-01"}
BY_REQUEST = {"NCA-1": ["C-000001"], "NCA-2": ["C-000002", "C-000003"]}


def _read(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "responses.csv"
    path.write_text(text, encoding=encoding)
    return read_sheet(path, CASES, BY_REQUEST)


def test_spreadsheet_words_name_outcomes():
    assert [response_outcome(w) for w in ("Rejected", "posts only", "Page-removed", "WITHHELD",
                                           "pending", "no action", "maybe")] == [
        "no_action", "posts_removed", "page_removed", "geo_blocked", "pending", "no_action", None]


def test_a_good_sheet_gives_responses_and_disputes(tmp_path):
    sheet = _read(tmp_path, "Request ID,Response date,Outcome,Reason,Notes,Dispute,Clauses,Ticket\n"
                  'NCA-1,2024-01-20,rejected,"No violation, sorry.",,escalated,a/b; c/d,T-1\n'
                  "\n"
                  "NCA-1,2024-02-20,page removed,,on appeal,,,T-2\n")
    assert sheet.problems == [] and sheet.rows == 2
    assert [(r.case_id, r.date, r.outcome, r.reason, r.source[-15:]) for r in sheet.responses] == [
        ("C-000001", "2024-01-20", "no_action", "No violation, sorry.", "responses.csv:2"),
        ("C-000001", "2024-02-20", "page_removed", "", "responses.csv:4")]
    assert [(d.text, d.clauses) for d in sheet.disputes] == [("escalated", ("a/b", "c/d"))]
    assert sheet.ignored_columns == ["Ticket"]


def test_semicolons_and_a_byte_order_mark_are_read(tmp_path):
    sheet = _read(tmp_path, "case_id;date;outcome\nC-000002;2024-02-03;posts only\n",
                  encoding="utf-8-sig")
    assert sheet.problems == [] and sheet.responses[0].outcome == "posts_removed"


def test_every_bad_row_is_reported_with_its_line(tmp_path):
    sheet = _read(tmp_path, "request_id,case_id,date,outcome,reason\n"
                  "NCA-1,,2024-01-20,rejectd,\n"            # 2: a misspelt outcome
                  "NCA-9,,2024-01-20,rejected,\n"           # 3: no such request
                  "NCA-2,,2024-02-05,rejected,\n"           # 4: two cases have it
                  ",C-000001,2023-12-31,rejected,\n"        # 5: before the submission
                  ",C-000001,20/01/2024,rejected,\n"        # 6: not a date
                  ',C-000001,2024-01-20,rejected,"a",b\n'   # 7: a cell too many
                  ",,2024-01-20,rejected,\n"                # 8: no case named
                  '"NCA-1",,2024-01-21,rejected,"two\nlines"\n'  # 9-10: fine
                  ",C-000009,2024-01-20,rejected,\n")       # 11: no such case
    found = [(p.line, p.column) for p in sheet.problems]
    assert found == [(2, "outcome"), (3, "request_id"), (4, "request_id"), (5, "date"),
                     (6, "date"), (7, None), (8, "case_id"), (11, "case_id")]
    assert "before the request was submitted (2024-01-10)" in str(sheet.problems[3])
    assert "one of page_removed" in str(sheet.problems[0])
    assert len(sheet.responses) == 1  # line 9, which the caller will not store either


def test_a_sheet_without_the_columns_it_needs_is_refused(tmp_path):
    assert [str(p) for p in _read(tmp_path, "ticket,when\nT-1,2024-01-01\n").problems] == [
        "line 1: no case_id or request_id column (name each row's case by the store's case id "
        "or the request id)", "line 1: no date column", "line 1: no outcome column"]
    assert _read(tmp_path, "").problems[0].message == "the file is empty"
    assert _read(tmp_path, "request_id,date,outcome\n").problems[0].message == \
        "the file has a header but no rows"
    assert "not UTF-8" in _read(tmp_path, "request_id,date,outcome\nNCA-é,2024-01-20,x\n",
                                encoding="latin-1").problems[0].message


def test_rows_for_requests_never_recorded_can_be_left_out(tmp_path):
    path = tmp_path / "responses.csv"
    path.write_text("request_id,case_id,date,outcome\n"
                    "NCA-1,,2024-01-20,rejected\n"
                    "NCA-7,,2024-01-20,rejected\n"      # 3: never recorded
                    "NCA-7,,2024-02-20,page removed\n"  # 4: never recorded
                    ",C-000009,2024-01-20,rejected\n")  # 5: a case id is never skipped
    strict = read_sheet(path, CASES, BY_REQUEST)
    assert [(p.line, p.column) for p in strict.problems] == [
        (3, "request_id"), (4, "request_id"), (5, "case_id")]
    lenient = read_sheet(path, CASES, BY_REQUEST, skip_unrecorded=True)
    assert [(p.line, p.column) for p in lenient.problems] == [(5, "case_id")]
    assert lenient.skipped == [(3, "NCA-7"), (4, "NCA-7")]
    assert lenient.rows == 4 and [r.case_id for r in lenient.responses] == ["C-000001"]
