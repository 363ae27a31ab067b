"""`takedown audit ...` end to end, as a team would run it: record the fixtures, import
the responses they keep in a spreadsheet, report, verify; and `takedown check --db`."""

import contextlib
import io
import json
import sqlite3

import pytest

from engine.cli import main
from tests.audit.support import PAGE_TWO_ADVERTS, RESPONSES, fixture_folders, fixture_paths


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exit:  # argparse's usage errors
            code = exit.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def db(tmp_path_factory, audit_rules):
    """The fixtures recorded and the sample responses imported, through the CLI."""
    path = tmp_path_factory.mktemp("cli") / "cases.db"
    code, out, err = run("audit", "record", *fixture_folders(), "--db", path, "--rules",
                         audit_rules)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(fixture_paths())
    assert lines[0].startswith("C-000001  ") and lines[0].endswith(".json")
    code, out, err = run("audit", "import", RESPONSES, "--db", path)
    assert (code, out) == (0, f"imported 50 responses and 4 disputes from {RESPONSES}\n"), err
    return path


def _count(path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_recording_again_gives_the_same_case(db, audit_rules):
    code, out, err = run("audit", "record", PAGE_TWO_ADVERTS, "--db", db, "--rules", audit_rules)
    assert code == 0 and out.strip().startswith("C-") and "already recorded" in err


def test_importing_again_adds_nothing(db):
    code, out, _ = run("audit", "import", RESPONSES, "--db", db)
    assert code == 0 and "imported 0 responses and 0 disputes" in out
    assert "54 already recorded, skipped" in out


def test_a_bad_sheet_imports_nothing_and_names_its_lines(db, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text("request_id,date,outcome\nNCA-2023-0412,2023-05-01,page removed\n"
                     "NCA-2023-0412,2023-05-02,accepted maybe\nNOPE-1,2023-05-01,rejected\n")
    before = _count(db, "ledger")
    code, out, err = run("audit", "import", sheet, "--db", db)
    assert code == 3 and out == ""
    assert f"{sheet}:line 3, column outcome: 'accepted maybe' is not an outcome" in err
    assert f"{sheet}:line 4, column request_id: no case for request NOPE-1" in err
    assert "nothing imported: 2 problems in 3 rows" in err
    assert _count(db, "ledger") == before


def test_a_sheet_can_be_checked_without_storing_it(db, tmp_path):
    sheet = tmp_path / "new.csv"
    sheet.write_text("request_id,date,outcome,dispute\nNCA-2024-0311,2024-04-01,page removed,"
                     "on appeal\n")
    before = _count(db, "ledger")
    code, out, _ = run("audit", "import", sheet, "--db", db, "--check")
    assert code == 0 and "1 responses and 1 disputes would be imported" in out
    assert _count(db, "ledger") == before


def test_responses_and_disputes_from_the_command_line(db, tmp_path):
    code, out, _ = run("audit", "respond", "EU-IRU-2025-0610", "--outcome", "rejected", "--reason",
                       "No violation found.", "--date", "2025-07-01", "--db", db)
    assert code == 0 and "no_action on 2025-07-01 recorded" in out
    code, _, err = run("audit", "respond", "EU-IRU-2025-0610", "--outcome", "maybe", "--db", db)
    assert code == 2 and "not an outcome" in err
    code, _, err = run("audit", "respond", "EU-IRU-2025-0610", "--outcome", "rejected",
                       "--date", "2020-01-01", "--db", db)
    assert code == 2 and "before the request was submitted" in err
    code, out, err = run("audit", "dispute", "NCA-2023-1120", "--text", "Not a news outlet.",
                         "--clause", "meta.human-exploitation/smuggling-offer", "--clause",
                         "meta.made-up/rule", "--date", "2023-12-01", "--db", db)
    assert code == 0 and "dispute recorded" in out and "meta.made-up/rule is not among" in err
    code, _, err = run("audit", "respond", "C-999999", "--outcome", "rejected", "--db", db)
    assert code == 2 and "no case or request C-999999" in err


@pytest.mark.parametrize("fmt", ["markdown", "html", "json", "text"])
def test_the_case_report(db, audit_rules, tmp_path, fmt):
    output = tmp_path / f"case.{fmt}"
    code, out, err = run("audit", "case", "NCA-2023-0412", "--db", db, "--rules", audit_rules,
                         "--format", fmt, "--output", output)
    assert (code, out) == (0, f"{output}\n"), err
    text = output.read_text()
    if fmt == "json":
        model = json.loads(text)
        assert model["finding"]["status"] == "inconsistent"
        assert model["prediction"]["calibrated"]["basis"]["group"] == \
            "meta.human-exploitation/smuggling-offer"
    else:
        assert "falls short of its own published policy" in text and "3000 pounds" in text


@pytest.mark.parametrize("fmt", ["markdown", "html", "json", "text"])
def test_the_report_over_many_cases(db, fmt):
    code, out, err = run("audit", "report", "--db", db, "--format", fmt, "--platform", "meta",
                         "--from", "2023-01-01", "--to", "2024-12-31")
    assert code == 0, err
    if fmt == "json":
        model = json.loads(out)
        assert model["filters"] == {"platform": "meta", "from": "2023-01-01",
                                    "to": "2024-12-31", "period": "quarter"}
        assert {c["platform"] for c in model["cases"]} <= {"facebook", "instagram"}
        assert all("2023-01-01" <= c["submitted"] <= "2024-12-31" for c in model["cases"])
    else:
        assert "flagged" in out and "Meta" in out


def test_recording_a_folder_goes_on_past_requests_no_rule_set_covers(tmp_path, audit_rules):
    folder = tmp_path / "requests"
    folder.mkdir()
    (folder / "a.json").write_text(PAGE_TWO_ADVERTS.read_text(encoding="utf-8"))
    uncovered = json.loads(PAGE_TWO_ADVERTS.read_text(encoding="utf-8"))
    uncovered["request"].update(id="NCA-2010-0001", submitted="2010-02-01")
    (folder / "b.json").write_text(json.dumps(uncovered))
    (folder / "c.json").write_text(json.dumps({**uncovered, "request": {
        **uncovered["request"], "id": "NCA-2010-0002"}}))
    code, out, err = run("audit", "record", folder, "--db", tmp_path / "x.db", "--rules",
                         audit_rules)
    assert code == 4 and len(out.splitlines()) == 1 and out.endswith("a.json\n")
    assert err.count("error[V007]: no rule set covers facebook on 2010-02-01") == 2
    assert err.endswith("2 of 3 requests not recorded: no rule set in force on their dates\n")


def test_usage_errors(db, tmp_path):
    assert run("audit", "report", "--db", db, "--from", "last week")[0] == 2
    assert run("audit", "case", "C-1", "--db", tmp_path / "none.db")[0] == 2
    assert not (tmp_path / "none.db").exists()  # reading never creates a store
    code, _, err = run("audit", "record", PAGE_TWO_ADVERTS, "--db", tmp_path / "x.db",
                       "--redact", tmp_path / "missing.yaml")
    assert code == 2 and "cannot read" in err


def test_check_gives_the_calibrated_likelihood_beside_the_rule_based_one(db, audit_rules):
    code, out, err = run("check", PAGE_TWO_ADVERTS, "--format", "json", "--db", db,
                         "--rules", audit_rules)
    assert code == 0, err
    decision = json.loads(out)
    assert decision["likelihood"] == pytest.approx(0.902, abs=0.1)
    assert 0 < decision["calibrated_likelihood"] < 1
    assert decision["calibration"]["group"] == "meta.human-exploitation/smuggling-offer"
    code, out, _ = run("check", PAGE_TWO_ADVERTS, "--db", db, "--rules", audit_rules)
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Likelihood of acceptance"))
    assert lines[at + 1].startswith("Calibrated likelihood: ")
    code, _, err = run("check", PAGE_TWO_ADVERTS, "--db", "/nonexistent/cases.db")
    assert code == 2 and "no case store" in err


def test_verify_names_the_first_tampered_record(db, tmp_path):
    code, out, _ = run("audit", "verify", "--db", db)
    assert code == 0 and out.startswith("intact: ")
    copy = tmp_path / "tampered.db"
    with contextlib.closing(sqlite3.connect(db)) as source, \
            contextlib.closing(sqlite3.connect(copy)) as target:
        source.backup(target)
        target.execute("DROP TRIGGER ledger_no_update")
        # a rejection turned into an acceptance, in the ledger only
        seq = target.execute("SELECT seq FROM responses WHERE outcome = 'no_action' "
                             "ORDER BY seq LIMIT 1").fetchone()[0]
        target.execute("UPDATE ledger SET body = replace(body, '\"no_action\"', "
                       "'\"page_removed\"') WHERE seq = ?", (seq,))
        target.commit()
    code, out, _ = run("audit", "verify", "--db", copy)
    assert code == 1 and out.startswith(f"broken at record {seq}: ")
