"""The case store: migrations, transactions, the hash chain, and what `verify` finds."""

import dataclasses
import sqlite3

import pytest

from engine.audit.database import SqliteDatabase, StoreError, connect
from engine.audit.ledger import GENESIS, LedgerRecord, check_chain, record_hash
from engine.audit.migrations import MIGRATIONS, Migration, migrate, schema_version
from engine.audit.records import Dispute, Response
from engine.audit.store import open_store
from tests.audit.support import a_case


def _tamper(path, *statements):
    """Change the file behind the store's back, as someone with the file would: the
    triggers that keep it append-only are dropped first."""
    db = sqlite3.connect(path)
    for table in ("ledger", "cases", "responses", "disputes"):
        for action in ("update", "delete"):
            db.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


# Migrations

def test_a_new_store_is_migrated_and_in_wal_mode(tmp_path):
    db = connect(tmp_path / "cases.db")
    assert migrate(db) == [m.version for m in MIGRATIONS]
    assert migrate(db) == []  # applied once
    assert schema_version(db) == MIGRATIONS[-1].version
    assert db.journal_mode() == "wal"
    db.close()


def test_a_later_migration_upgrades_an_existing_store(tmp_path):
    path = tmp_path / "cases.db"
    with open_store(path) as store:
        store.record_case(a_case())
    extra = Migration(MIGRATIONS[-1].version + 1, "a column for a later feature",
                      ("ALTER TABLE cases ADD COLUMN note TEXT",))
    db = connect(path)
    assert migrate(db, (*MIGRATIONS, extra)) == [extra.version]
    assert schema_version(db) == extra.version
    db.close()


def test_a_failing_migration_leaves_the_store_at_the_version_before(tmp_path):
    path = tmp_path / "cases.db"
    open_store(path).close()
    broken = Migration(MIGRATIONS[-1].version + 1, "half a migration",
                       ("CREATE TABLE halfway (x TEXT)", "THIS IS NOT SQL"))
    db = connect(path)
    with pytest.raises(StoreError, match="half a migration"):
        migrate(db, (*MIGRATIONS, broken))
    assert schema_version(db) == MIGRATIONS[-1].version
    with db.transaction() as tx:  # the first statement was rolled back with the rest
        assert tx.execute("SELECT name FROM sqlite_master WHERE name = 'halfway'") == []
    db.close()


def test_a_store_from_a_newer_takedown_is_refused(tmp_path):
    path = tmp_path / "cases.db"
    open_store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', '2030-01-01')")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer takedown"):
        open_store(path)


def test_locations_name_the_backend(tmp_path):
    db = connect(f"sqlite:///{tmp_path}/by-url.db")
    assert isinstance(db, SqliteDatabase) and db.path == tmp_path / "by-url.db"
    db.close()
    with pytest.raises(StoreError, match="no case-store backend for mysql") as refused:
        connect("mysql://auditor:s3cret@db.example/cases")
    assert refused.value.code == "A008" and "s3cret" not in str(refused.value)
    with pytest.raises(StoreError, match="no case store"):
        connect(tmp_path / "missing.db", create=False)


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database, only notes\n" * 100)
    with pytest.raises(StoreError):
        open_store(path)


# Writing

def test_a_case_is_recorded_once_per_evidence(store):
    first, is_new = store.record_case(a_case("R-1"))
    again, is_new_again = store.record_case(a_case("R-1"))
    other, _ = store.record_case(a_case("R-2"))
    assert (first.id, is_new, again.id, is_new_again, other.id) == (
        "C-000001", True, "C-000001", False, "C-000002")
    assert store.case("C-000001") == first
    assert first.recorded_at == "2026-01-01T12:00:00+00:00"


def test_responses_are_stored_all_or_none(store):
    case, _ = store.record_case(a_case())
    good = Response(case.id, "2024-02-01", "no_action", "no violation")
    orphan = Response("C-999999", "2024-02-01", "no_action")
    with pytest.raises(StoreError, match="no case C-999999"):
        store.add([good, orphan])
    assert store.responses() == {}
    assert store.counts() == {"case": 1, "response": 0, "dispute": 0}
    added = store.add([good], [Dispute(case.id, "2024-02-03", "escalated", ("a/b",))])
    assert [r.seq for r in added.responses] == [2] and [d.seq for d in added.disputes] == [3]


def test_the_same_response_is_not_stored_twice(store):
    case, _ = store.record_case(a_case())
    response = Response(case.id, "2024-02-01", "no_action", "no violation", "", "sheet.csv:2")
    assert len(store.add([response, response]).responses) == 1
    again = store.add([Response(case.id, "2024-02-01", "no_action", "no violation", "",
                                "sheet.csv:9")])
    assert (again.responses, again.skipped) == ([], 1)
    later = store.add([Response(case.id, "2024-03-01", "page_removed", "on appeal")])
    assert len(later.responses) == 1
    assert [r.outcome for r in store.responses(case.id)[case.id]] == ["no_action", "page_removed"]


def test_the_store_is_append_only(store, tmp_path):
    store.record_case(a_case())
    db = sqlite3.connect(tmp_path / "cases.db")
    for statement in ("UPDATE ledger SET body = '{}'", "DELETE FROM cases",
                      "UPDATE cases SET outcome = 'no_action'"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(statement)
    db.close()


def test_cases_are_found_by_case_id_or_unique_request_id(store):
    store.record_case(a_case("R-1", digest="one"))
    assert store.find("R-1").id == "C-000001"
    assert store.find("C-000001").request_id == "R-1"
    store.record_case(a_case("R-1", digest="two", submitted="2024-05-01"))
    with pytest.raises(StoreError, match="several cases .C-000001, C-000002."):
        store.find("R-1")
    with pytest.raises(StoreError, match="no case or request"):
        store.find("R-404")


def test_cases_are_selected_by_platform_and_dates(store):
    for n, (platform, day) in enumerate([("facebook", "2023-01-05"), ("x", "2023-06-01"),
                                         ("facebook", "2024-02-01")]):
        store.record_case(a_case(f"R-{n}", platform=platform, submitted=day))
    assert [c.request_id for c in store.cases(["facebook"])] == ["R-0", "R-2"]
    assert [c.request_id for c in store.cases(since="2023-06-01", until="2023-12-31")] == ["R-1"]


# The chain

def _chain(n: int) -> list[LedgerRecord]:
    out, prev = [], GENESIS
    for seq in range(1, n + 1):
        body = f'{{"n":{seq}}}'
        digest = record_hash(prev, seq, "response", "C-000001", "2026-01-01T12:00:00+00:00", body)
        out.append(LedgerRecord(seq, "response", "C-000001", "2026-01-01T12:00:00+00:00", body,
                                prev, digest))
        prev = digest
    return out


def test_the_chain_names_the_first_broken_record():
    records = _chain(5)
    assert check_chain(records) == (5, records[-1], None)
    changed = records[:2] + [dataclasses.replace(records[2], body='{"n":99}')] + records[3:]
    broken = check_chain(changed)[2]
    assert broken.seq == 3 and "contents do not match" in broken.problem
    broken = check_chain(records[:2] + records[3:])[2]  # record 3 removed
    assert broken.seq == 4 and "record 3 is missing" in broken.problem
    # whoever changes a record and recomputes its hash breaks the link to the next one
    rehashed = dataclasses.replace(changed[2], hash=changed[2].computed_hash())
    broken = check_chain(records[:2] + [rehashed] + records[3:])[2]
    assert broken.seq == 4 and "previous record's hash" in broken.problem


def test_verify_finds_a_changed_record(store, tmp_path):
    case, _ = store.record_case(a_case())
    store.add([Response(case.id, "2024-02-01", "no_action", "no violation")])
    store.add([Response(case.id, "2024-03-01", "page_removed", "on appeal")])
    assert store.verify().is_intact and store.verify().records == 3
    _tamper(tmp_path / "cases.db",
            "UPDATE ledger SET body = replace(body, 'no violation', 'agreed') WHERE seq = 2")
    problem = store.verify().first_problem
    assert problem.seq == 2 and "changed after it was recorded" in problem.problem


def test_verify_finds_a_changed_index_row(store, tmp_path):
    case, _ = store.record_case(a_case())
    store.add([Response(case.id, "2024-02-01", "no_action")])
    _tamper(tmp_path / "cases.db", "UPDATE responses SET outcome = 'page_removed'")
    problem = store.verify().first_problem
    assert problem.seq == 2 and "outcome differs from the ledger record" in problem.problem


def test_verify_finds_a_removed_record(store, tmp_path):
    case, _ = store.record_case(a_case())
    store.add([Response(case.id, "2024-02-01", "no_action")])
    store.add([Response(case.id, "2024-03-01", "pending")])
    _tamper(tmp_path / "cases.db", "DELETE FROM responses WHERE seq = 2",
            "DELETE FROM ledger WHERE seq = 2")
    problem = store.verify().first_problem
    assert problem.seq == 3 and "record 2 is missing" in problem.problem
