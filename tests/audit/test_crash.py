"""Killing the process in the middle of an import leaves the store as it was before.

The import runs in a child process on a sheet large enough to take a few seconds to
store; once its transaction has started writing (the write-ahead log grows), the child
is killed with SIGKILL: no handler runs, nothing is rolled back by the program. What
the store holds afterwards is then exactly what it held before, and the chain is whole.
"""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.audit.sheet import read_sheet
from engine.audit.store import open_store
from tests.audit.support import ROOT

ROWS = 20_000
STARTED = 256 * 1024  # bytes of write-ahead log: the transaction is well under way


def _snapshot(path: Path):
    with open_store(path, create=False) as store:
        return store.counts(), store.head(), store.responses()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_import_leaves_the_store_unchanged(sample_copy, tmp_path):
    with open_store(sample_copy, create=False) as store:
        cases = sorted(store.case_dates().items())
    sheet = tmp_path / "follow-ups.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["case_id", "date", "outcome", "reason", "notes"])
        for i in range(ROWS):
            case_id, submitted = cases[i % len(cases)]
            writer.writerow([case_id, submitted, "pending", "Acknowledged.", f"reminder {i}"])
    before = _snapshot(sample_copy)
    wal = Path(f"{sample_copy}-wal")

    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())",
         "audit", "import", str(sheet), "--db", str(sample_copy)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not (wal.exists() and wal.stat().st_size > STARTED):
            assert child.poll() is None, ("the import ended before it could be interrupted: "
                                          f"{child.communicate()}")
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert wal.stat().st_size > STARTED  # uncommitted pages were on disk when it died

    assert _snapshot(sample_copy) == before
    with open_store(sample_copy, create=False) as store:
        assert store.verify().is_intact
        # and the store takes the next import as if nothing had happened
        small = tmp_path / "one.csv"
        small.write_text(f"case_id,date,outcome\n{cases[0][0]},{cases[0][1]},rejected\n")
        found = read_sheet(small, store.case_dates(), store.cases_by_request())
        assert len(store.add(found.responses).responses) == 1
        assert store.verify().is_intact
