"""Four processes writing to one store at once lose nothing, and a writer kept waiting
by another says so, with a code and a hint, after a bounded time.

On both backends (a SQLite file, and a PostgreSQL database on the session's own server),
four processes append 500 records each, every one its own transaction, to one new store
that they also create at once; afterwards the ledger holds every record once, in one
chain, and `takedown audit verify` says it is intact.

Two more kinds of writer run, each as four processes at once on one SQLite store:

- *store writers*, forked processes that call the store as the commands do (open,
  record one case, close; open, import one responses sheet, close), in tight loops, so
  that their writes really contend for the lock;
- *command writers*, `takedown audit record` then `takedown audit import` as a user
  runs them, a few rounds each.

Afterwards every case a writer was told it recorded is in the store with its evidence,
every response it imported is there once, the chain is intact and `takedown audit
verify` says so. The short form runs in `make test`; `make drills` runs more rounds.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine import Engine
from engine.audit.database import WRITE_LOCK_KEY
from engine.audit.intake import prepare_case
from engine.audit.records import Response
from engine.audit.redaction import DEFAULT_RULES
from engine.audit.sheet import read_sheet
from engine.audit.store import StoreError, open_store
from engine.evidence import parse_evidence
from tests.audit.support import PAGE_TWO_ADVERTS, ROOT, a_case
from tests.drills import report, size

WRITERS = 4
RECORDS = 500  # per writer: a case, then a response to it, each its own transaction
STORE_ROUNDS = size(25, 250)  # per store writer
COMMAND_ROUNDS = size(0, 5)  # per command writer: each costs seconds of start-up


def evidence_variant(writer: int, round_: int, kind: str) -> dict:
    """The sample evidence as another request: a digest no other writer records."""
    document = json.loads(PAGE_TWO_ADVERTS.read_text(encoding="utf-8"))
    document = copy.deepcopy(document)
    document["request"]["id"] = f"{kind}-W{writer}-R{round_:03d}"
    return document


def sheet_text(request_id: str, submitted: str, round_: int) -> str:
    return ("request_id,date,outcome,reason,notes\n"
            f"{request_id},{submitted},rejected,No violation,round {round_}\n"
            f"{request_id},{submitted},page_removed,On appeal,round {round_}\n")


def _store_writer(db: str, writer: int, rounds: int, rules_dir: str, out: str) -> None:
    """Runs in a forked process: record a case, then import its responses, `rounds`
    times, each write in a store opened for it alone (as a command would)."""
    engine = Engine.from_paths([rules_dir])
    folder = Path(out)
    done = []
    for round_ in range(rounds):
        document = evidence_variant(writer, round_, "STORE")
        evidence, problems = parse_evidence(json.dumps(document), f"w{writer}-{round_}.json")
        assert evidence is not None, problems
        case = prepare_case(engine, evidence, DEFAULT_RULES, f"w{writer}-{round_}.json")
        with open_store(db, wait=60) as store:
            stored, is_new = store.record_case(case)
        sheet = folder / f"w{writer}-{round_}.csv"
        sheet.write_text(sheet_text(case.request_id, case.submitted, round_), encoding="utf-8")
        with open_store(db, create=False, wait=60) as store:
            read = read_sheet(sheet, store.case_dates(), store.cases_by_request())
            assert not read.problems, read.problems
            added = store.add(read.responses, read.disputes)
        done.append({"case": stored.id, "digest": case.evidence_digest, "new": is_new,
                     "responses": len(added.responses)})
    (folder / f"writer-{writer}.json").write_text(json.dumps(done), encoding="utf-8")


def _command_writer(db: Path, writer: int, rounds: int, rules_dir: Path, folder: Path,
                    results: dict) -> None:
    """Runs in a thread: `takedown audit record`, then `import`, as separate processes."""
    done = []
    for round_ in range(rounds):
        document = evidence_variant(writer, round_, "CLI")
        path = folder / f"cli-w{writer}-{round_}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        recorded = _takedown("audit", "record", str(path), "--rules", str(rules_dir),
                             "--db", str(db), "--wait", "120")
        assert recorded.returncode == 0, recorded.stderr
        case_id = recorded.stdout.strip()
        sheet = folder / f"cli-w{writer}-{round_}.csv"
        sheet.write_text(sheet_text(document["request"]["id"],
                                    document["request"]["submitted"], round_), encoding="utf-8")
        imported = _takedown("audit", "import", str(sheet), "--db", str(db), "--wait", "120")
        assert imported.returncode == 0, imported.stderr
        done.append({"case": case_id, "request": document["request"]["id"],
                     "imported": imported.stdout.strip()})
    results[writer] = done


def _takedown(*argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _record_writer(location: str, writer: int, records: int, out: str) -> None:
    """Runs in a forked process: `records` writes on one connection, each its own
    transaction, a new case and a response to it in turn."""
    done = []
    with open_store(location, wait=60) as store:
        for n in range(records // 2):
            case, is_new = store.record_case(a_case(f"W{writer}-{n:03d}"))
            added = store.add([Response(case.id, "2024-02-01", "no_action", f"writer {writer}")])
            assert is_new and len(added.responses) == 1
            done.append((case.id, case.seq, added.responses[0].seq))
    Path(out, f"records-{writer}.json").write_text(json.dumps(done), encoding="utf-8")


def test_four_writer_processes_append_to_one_chain_and_lose_nothing(empty_store, tmp_path):
    context = multiprocessing.get_context("fork")
    started = time.monotonic()
    writers = [context.Process(target=_record_writer, args=(empty_store, w, RECORDS,
                                                            str(tmp_path)))
               for w in range(WRITERS)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=300)
        assert process.exitcode == 0, f"a writer failed (exit {process.exitcode})"
    seconds = time.monotonic() - started

    done = {w: json.loads((tmp_path / f"records-{w}.json").read_text()) for w in range(WRITERS)}
    total = WRITERS * RECORDS
    # every write got its own place in the one chain: none lost, none twice
    assert sorted(seq for rows in done.values() for _, case, response in rows
                  for seq in (case, response)) == list(range(1, total + 1))
    with open_store(empty_store, create=False) as store:
        assert store.counts() == {"case": total // 2, "response": total // 2, "dispute": 0}
        responses = store.responses()
        for writer, rows in done.items():
            for n, (case_id, case_seq, response_seq) in enumerate(rows):
                case = store.case(case_id)
                assert (case.request_id, case.seq) == (f"W{writer}-{n:03d}", case_seq)
                assert [r.seq for r in responses[case_id]] == [response_seq]
        assert store.verify().is_intact
    verified = _takedown("audit", "verify", "--db", empty_store)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"intact: {total} records"), verified.stdout
    report(f"concurrent-records-{'postgresql' if '://' in empty_store else 'sqlite'}", {
        "processes": WRITERS, "records_per_process": RECORDS, "records": total,
        "records_lost": 0, "seconds": round(seconds, 1)})


@contextmanager
def write_lock_held(location: str):
    """Another process's write in progress: the store's write lock, taken as a writer
    takes it, held until the block ends."""
    if "://" in location:
        import psycopg

        with psycopg.connect(location, autocommit=True) as holder:
            holder.execute("BEGIN")
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            try:
                yield
            finally:
                holder.execute("ROLLBACK")
    else:
        holder = sqlite3.connect(location, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_a_writer_kept_waiting_gives_up_with_a001_on_either_backend(empty_store):
    with open_store(empty_store) as store:
        case, _ = store.record_case(a_case("R-1"))
        before = (store.counts(), store.head())
    with write_lock_held(empty_store):
        started = time.monotonic()
        with open_store(empty_store, create=False, wait=0.5) as store, \
                pytest.raises(StoreError) as waited:
            store.add([Response(case.id, "2024-02-01", "no_action")])
        assert time.monotonic() - started < 10
        done = _takedown("audit", "respond", case.id, "--outcome", "rejected", "--db",
                         empty_store, "--wait", "1", timeout=120)
    assert waited.value.code == "A001" and "held its write lock for more than 0.5 s" in str(
        waited.value)
    assert done.returncode == 5, done.stderr
    assert "error[A001]" in done.stderr and "is busy" in done.stderr, done.stderr
    assert "= hint: another takedown command is writing to it" in done.stderr
    assert "Traceback" not in done.stderr
    with open_store(empty_store, create=False) as store:
        assert (store.counts(), store.head()) == before


def test_four_writers_at_once_lose_nothing(sample_copy, audit_rules, tmp_path):
    with open_store(sample_copy, create=False) as store:
        before = store.counts()

    started = time.monotonic()
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_store_writer, args=(
        str(sample_copy), w, STORE_ROUNDS, str(audit_rules), str(tmp_path))) for w in range(WRITERS)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=900)
        assert process.exitcode == 0, f"a store writer failed (exit {process.exitcode})"
    store_seconds = time.monotonic() - started

    started = time.monotonic()
    results: dict = {}
    threads = [threading.Thread(target=_command_writer, args=(
        sample_copy, w, COMMAND_ROUNDS, audit_rules, tmp_path, results)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=1800)
    command_seconds = time.monotonic() - started
    assert sorted(results) == list(range(WRITERS)), "a command writer failed"

    store_done = [r for w in range(WRITERS)
                  for r in json.loads((tmp_path / f"writer-{w}.json").read_text())]
    command_done = [r for w in range(WRITERS) for r in results[w]]
    new_cases = len(store_done) + len(command_done)
    with open_store(sample_copy, create=False) as store:
        after = store.counts()
        for done in store_done:
            case = store.case(done["case"])
            assert case is not None and case.evidence_digest == done["digest"], done
            assert done["new"] and done["responses"] == 2
        for done in command_done:
            case = store.find(done["request"])
            assert case.id == done["case"], done
            assert done["imported"].startswith("imported 2 responses"), done
        responses = store.responses()
        for done in store_done + command_done:
            assert len(responses[done["case"]]) == 2, done
        assert len({d["case"] for d in store_done + command_done}) == new_cases
        assert store.verify().is_intact
    assert after["case"] == before["case"] + new_cases
    assert after["response"] == before["response"] + 2 * new_cases
    assert after["dispute"] == before["dispute"]
    verified = _takedown("audit", "verify", "--db", str(sample_copy))
    assert verified.returncode == 0 and verified.stdout.startswith("intact: "), verified

    report("concurrent-writers", {
        "processes": WRITERS, "store_writer_rounds": STORE_ROUNDS,
        "command_writer_rounds": COMMAND_ROUNDS, "cases_recorded": new_cases,
        "responses_imported": 2 * new_cases, "records_lost": 0,
        "store_writers_seconds": round(store_seconds, 1),
        "command_writers_seconds": round(command_seconds, 1),
        "verify": verified.stdout.strip()[:60]})


def test_a_writer_kept_waiting_says_so_after_its_timeout(sample_copy, audit_rules, tmp_path):
    """Another process holds the write lock: record and import wait --wait seconds, then
    exit 5 with error A001 and a hint, store nothing, and print no traceback."""
    sheet = tmp_path / "one.csv"
    with open_store(sample_copy, create=False) as store:
        case_id, submitted = sorted(store.case_dates().items())[0]
        before = (store.counts(), store.head())
    sheet.write_text(f"case_id,date,outcome\n{case_id},{submitted},rejected\n")
    evidence = tmp_path / "new.json"
    evidence.write_text(json.dumps(evidence_variant(9, 0, "LOCKED")), encoding="utf-8")

    holder = sqlite3.connect(sample_copy, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held until ROLLBACK
    try:
        runs = {}
        for name, argv in {
            "import": ("audit", "import", str(sheet), "--db", str(sample_copy), "--wait", "1"),
            "record": ("audit", "record", str(evidence), "--rules", str(audit_rules),
                       "--db", str(sample_copy), "--wait", "1"),
        }.items():
            started = time.monotonic()
            done = _takedown(*argv, timeout=120)
            runs[name] = (done, time.monotonic() - started)
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    for name, (done, seconds) in runs.items():
        assert done.returncode == 5, (name, done.stderr)
        assert "error[A001]" in done.stderr and "is busy" in done.stderr, done.stderr
        assert "= hint: another takedown command is writing to it" in done.stderr
        assert "Traceback" not in done.stderr
        assert seconds < 30, (name, seconds)  # one second of waiting, plus start-up
    assert "nothing recorded of 1 cases" in runs["record"][0].stderr
    with open_store(sample_copy, create=False) as store:
        assert (store.counts(), store.head()) == before
