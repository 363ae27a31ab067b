"""A case store in PostgreSQL: the same records and the same chain as in SQLite, the
same append-only rule, a stable code for every way of failing to reach it (never with
the password), and `takedown audit migrate` from one store to an empty other.

All run on the session's own server (tests/postgres.py), and are skipped, saying why,
where none can be started."""

import subprocess
import sys
from urllib.parse import urlsplit

import psycopg
import pytest

from engine.audit.database import PostgresDatabase, StoreError, connect
from engine.audit.migrations import MIGRATIONS, schema_version
from engine.audit.records import Dispute, Response
from engine.audit.store import copy_store, open_store
from tests.audit.support import ROOT, a_case, clock, new_store_location
from tests.postgres import free_port


def _takedown(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _write_some(location: str) -> str:
    """The same writes on any backend; the head hash they lead to."""
    with open_store(location, now=clock()) as store:
        first, _ = store.record_case(a_case("R-1"))
        second, _ = store.record_case(a_case("R-2", platform="x", likelihood=0.25))
        store.add([Response(first.id, "2024-02-01", "no_action", "No violation", "50% sure")],
                  [Dispute(first.id, "2024-02-03", "Escalated", ("meta.x/y",), "analyst")])
        store.add([Response(second.id, "2024-02-02", "page_removed")])
        return store.head().hash


def test_the_same_writes_give_the_same_chain_on_both_backends(request, tmp_path):
    heads = {backend: _write_some(new_store_location(backend, request, tmp_path))
             for backend in ("sqlite", "postgresql")}
    assert heads["sqlite"] == heads["postgresql"]


def test_a_postgresql_store_reads_back_what_was_written(postgres_store):
    _write_some(postgres_store)
    db = connect(postgres_store, create=False)
    assert isinstance(db, PostgresDatabase) and db.dialect == "postgresql"
    assert schema_version(db) == MIGRATIONS[-1].version
    db.close()
    with open_store(postgres_store, create=False) as store:
        assert [(c.id, c.request_id, c.likelihood) for c in store.cases()] == [
            ("C-000001", "R-1", 0.9), ("C-000002", "R-2", 0.25)]
        assert [r.notes for r in store.responses()["C-000001"]] == ["50% sure"]
        assert store.disputes()["C-000001"][0].clauses == ("meta.x/y",)
        assert store.find("R-2").platform == "x"
        assert store.counts() == {"case": 2, "response": 2, "dispute": 1}
        assert store.verify().is_intact


def test_postgresql_tables_are_append_only_and_the_chain_shows_a_change(postgres_store):
    _write_some(postgres_store)
    with open_store(postgres_store, create=False) as store:
        for statement in ("UPDATE ledger SET body = '{}' WHERE seq = 2",
                          "DELETE FROM responses", "TRUNCATE disputes"):
            with pytest.raises(StoreError, match="append-only") as refused, \
                    store.db.transaction(write=True) as tx:
                tx.execute(statement)
            assert refused.value.code == "A003"
        assert store.verify().is_intact
    # the owner of the tables can switch the triggers off; the chain still shows it
    with psycopg.connect(postgres_store, autocommit=True) as owner:
        owner.execute("ALTER TABLE ledger DISABLE TRIGGER ledger_append_only")
        owner.execute("UPDATE ledger SET case_id = 'C-000009' WHERE seq = 2")
    verified = _takedown("audit", "verify", "--db", postgres_store)
    assert verified.returncode == 1
    assert verified.stdout.startswith("broken at record 2: its contents do not match its hash")


def test_every_failure_to_reach_the_server_has_a_code_and_never_the_password(
        postgres_server):
    secret = "Sesame-0pen!"
    good = postgres_server.create_database("reachable")
    wrong = postgres_server.url("reachable", password=secret)
    host = urlsplit(good).netloc.rpartition("@")[2]
    down = f"postgresql://takedown:{secret}@127.0.0.1:{free_port()}/reachable"  # no server
    cases = {
        wrong: "A007",
        postgres_server.url("no_such_database"): "A009",
        down: "A006",
        f"postgresql://takedown:{secret}@[{host}/reachable": "A008",
        f"postgresql://takedown:{secret}@{host}/reachable?color=blue": "A008",
        f"postgresql://takedown@{host}/reachable?password={secret}&sslmode=sideways": "A008",
    }
    for url, code in cases.items():
        with pytest.raises(StoreError) as failed:
            connect(url)
        assert failed.value.code == code, (url, failed.value)
        assert secret not in str(failed.value) and failed.value.hint, failed.value
    with pytest.raises(StoreError) as empty:
        open_store(good, create=False)
    assert empty.value.code == "A005"

    for url, exit_code, code in ((wrong, 2, "A007"), (down, 5, "A006")):
        done = _takedown("audit", "verify", "--db", url)
        assert done.returncode == exit_code, done.stderr
        assert f"error[{code}]" in done.stderr and "= hint: " in done.stderr, done.stderr
        assert secret not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_a_lost_connection_is_a006_and_stores_nothing(postgres_store):
    _write_some(postgres_store)
    with open_store(postgres_store, create=False) as store:
        before = store.counts()
        with psycopg.connect(postgres_store, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'takedown' AND pid <> pg_backend_pid()")
        with pytest.raises(StoreError) as lost:
            store.add([Response("C-000001", "2024-03-01", "pending")])
    assert lost.value.code == "A006" and lost.value.is_retryable
    with open_store(postgres_store, create=False) as store:
        assert store.counts() == before


def test_migrate_copies_a_store_with_its_chain_and_refuses_a_non_empty_target(
        sample_copy, postgres_server, tmp_path):
    target = postgres_server.create_database("migrated")
    copied = _takedown("audit", "migrate", "--from", str(sample_copy), "--to", target)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.startswith("copied ") and "the same chain as the source" in copied.stdout
    assert postgres_server.password not in copied.stdout

    with open_store(sample_copy, create=False) as source, \
            open_store(target, create=False) as copy:
        assert copy.head() == source.head() and copy.counts() == source.counts()
        assert copy.cases() == source.cases()
        assert copy.responses() == source.responses() and copy.disputes() == source.disputes()
        # and back again, into a new SQLite file: the same chain still
        with open_store(tmp_path / "back.db") as back:
            assert copy_store(copy, back) == source.verify().records
            assert back.head() == source.head()
        before = copy.counts()

    again = _takedown("audit", "migrate", "--from", str(sample_copy), "--to", target)
    assert again.returncode == 2 and "error[A010]" in again.stderr, again.stderr
    assert "already holds" in again.stderr and "= hint: copy into a new, empty store" in \
        again.stderr
    with open_store(target, create=False) as copy:
        assert copy.counts() == before and copy.verify().is_intact


def test_migrate_refuses_a_broken_source(sample_copy, tmp_path):
    import sqlite3

    db = sqlite3.connect(sample_copy)
    db.execute("DROP TRIGGER ledger_no_update")
    db.execute("UPDATE ledger SET recorded_at = '2020-01-01T00:00:00+00:00' WHERE seq = 3")
    db.commit()
    db.close()
    done = _takedown("audit", "migrate", "--from", str(sample_copy), "--to",
                     str(tmp_path / "copy.db"))
    assert done.returncode == 1 and done.stdout.startswith("broken at record 3"), done
    assert "nothing copied" in done.stderr and not (tmp_path / "copy.db").exists()


def test_the_test_server_is_reachable_only_with_its_password(postgres_server):
    """The harness itself: the server asks for the password over TCP, so the A007 test
    above means something."""
    with psycopg.connect(postgres_server.url()) as ok:
        assert ok.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres_server.url(password="not it"))
