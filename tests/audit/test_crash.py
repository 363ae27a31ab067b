"""Killing `takedown audit record` or `takedown audit import` at any point leaves the
store as it was before the command or as it is after it, never in between.

Each drill copies a store, times one uninterrupted run of the command (what the store
holds "after"), then runs it again and again on fresh copies, killing it with SIGKILL
(no handler runs, nothing is rolled back by the program) at a random point: half the
time anywhere in the run, half the time once its transaction has begun writing (the
write-ahead log grows) and a random moment into the write. After every kill the store
must hold exactly what it held before, or exactly what the whole command stores, and
its chain must verify. `make test` kills each command a few times, `make drills` 50.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.audit.sheet import read_sheet
from engine.audit.store import open_store
from tests.audit.support import FIXTURES, ROOT
from tests.drills import report, size

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

KILLS = size(3, 50)  # of each command
RECORD_FILES = size(8, 36)  # evidence files one `record` stores
IMPORT_ROWS = size(4_000, 20_000)  # rows one `import` stores


def _state(path: Path):
    """What the store holds, as far as the drill compares: counts and the last record."""
    with open_store(path, create=False) as store:
        head = store.head()
        return store.counts(), head.seq if head else 0, store.verify()


def _record_inputs(folder: Path) -> list[str]:
    """Fixtures as requests the store has not seen (another request id each)."""
    folder.mkdir()
    for path in sorted((FIXTURES / "meta").glob("*.json"))[:RECORD_FILES]:
        document = json.loads(path.read_text(encoding="utf-8"))
        document["request"]["id"] = f"{document['request']['id']}-DRILL"
        (folder / path.name).write_text(json.dumps(document), encoding="utf-8")
    return [str(folder)]


def _import_inputs(db: Path, folder: Path) -> list[str]:
    with open_store(db, create=False) as store:
        cases = sorted(store.case_dates().items())
    sheet = folder / "follow-ups.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["case_id", "date", "outcome", "reason", "notes"])
        for i in range(IMPORT_ROWS):
            case_id, submitted = cases[i % len(cases)]
            writer.writerow([case_id, submitted, "pending", "Acknowledged.", f"reminder {i}"])
    return [str(sheet)]


def _command(name: str, inputs: list[str], db: Path, rules: Path) -> list[str]:
    extra = ["--rules", str(rules)] if name == "record" else []
    return [sys.executable, "-m", "engine.cli", "audit", name, *inputs, *extra, "--db", str(db)]


def _start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("name", ["record", "import"])
def test_a_killed_command_leaves_the_store_before_or_after_it(name, sample_db, audit_rules,
                                                             tmp_path):
    seed = int(os.environ.get("TAKEDOWN_DRILL_SEED", "0")) or random.randrange(1, 10**6)
    chance = random.Random(seed)
    inputs = (_record_inputs(tmp_path / "evidence") if name == "record"
              else _import_inputs(sample_db, tmp_path))
    before = _state(sample_db)
    assert before[2].is_intact

    # One whole run: how long it takes, and what the store holds after it.
    whole = tmp_path / "whole.db"
    shutil.copy(sample_db, whole)
    started = time.monotonic()
    done = subprocess.run(_command(name, inputs, whole, audit_rules), cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    after = _state(whole)
    assert after[:2] != before[:2] and after[2].is_intact

    outcomes = {"before": 0, "after": 0}
    killed_after_writing_began = 0
    for kill in range(KILLS):
        db = tmp_path / f"kill-{kill}.db"
        shutil.copy(sample_db, db)
        wal = Path(f"{db}-wal")
        child = _start(_command(name, inputs, db, audit_rules))
        try:
            if kill % 2 == 0:  # anywhere in the run
                time.sleep(chance.uniform(0, duration * 1.1))
            else:  # once the transaction has begun writing, a little into the write
                deadline = time.monotonic() + 300
                while not (wal.exists() and wal.stat().st_size > 0) and child.poll() is None:
                    assert time.monotonic() < deadline, "the command never began writing"
                    time.sleep(0.0005)
                # a record's write lasts milliseconds, an import's most of its run
                time.sleep(chance.uniform(0, 0.01 if name == "record" else duration / 4))
            writing = wal.exists() and wal.stat().st_size > 0
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                killed_after_writing_began += writing
        finally:
            _, stderr = child.communicate(timeout=120)
        assert child.returncode in (0, -signal.SIGKILL), stderr
        assert b"Traceback" not in stderr, stderr
        state = _state(db)
        assert state[2].is_intact, (kill, seed, state[2].first_problem)
        if state[:2] == before[:2]:
            outcomes["before"] += 1
        else:
            assert state[:2] == after[:2], (f"kill {kill} (seed {seed}) left the store "
                                            f"between: {state[:2]}, before {before[:2]}, "
                                            f"after {after[:2]}")
            outcomes["after"] += 1
        if kill:
            db.unlink()

    # and a store that was killed under takes the next import as if nothing had happened
    db = tmp_path / "kill-0.db"
    with open_store(db, create=False) as store:
        case_id, submitted = sorted(store.case_dates().items())[0]
        small = tmp_path / "one.csv"
        small.write_text(f"case_id,date,outcome\n{case_id},{submitted},rejected\n")
        found = read_sheet(small, store.case_dates(), store.cases_by_request())
        assert len(store.add(found.responses).responses) == 1
        assert store.verify().is_intact

    report(f"crash-{name}", {
        "kills": KILLS, "seed": seed, "command_seconds": round(duration, 2),
        "records_written_by_the_command": after[1] - before[1],
        "killed_after_writing_began": killed_after_writing_began, "left_before": outcomes["before"],
        "left_after": outcomes["after"], "left_between": 0, "verify_failures": 0})
