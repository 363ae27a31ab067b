"""The disk-full drill's inside: run in a mount namespace of its own where `MOUNT` is a
small tmpfs (tests/audit/test_disk_full.py starts it with `unshare`), it copies a store
there, fills the file system, runs `takedown audit record` and `import` against it,
and writes what happened to a JSON report outside the tmpfs.

    python -m tests.audit.disk_full MOUNT STORE EVIDENCE SHEET RULES REPORT

Steps: the disk entirely full; nearly full (a few pages free: the store opens, the
write fails part-way); then room again, where both commands must succeed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from engine.audit.store import open_store

ROOT = Path(__file__).parents[2]
CHUNK = 64 * 1024


def state(db: Path) -> dict:
    try:
        with open_store(db, create=False) as store:
            head = store.head()
            verification = store.verify()
            return {"counts": store.counts(), "head": head.seq if head else 0,
                    "intact": verification.is_intact}
    except Exception as error:  # noqa: BLE001 - reported, not raised: the parent judges it
        return {"error": f"{type(error).__name__}: {error}"}


def state_of_copy(db: Path, elsewhere: Path) -> dict:
    """The state of the store as its files now stand, read from a copy on a disk with
    room: in WAL mode even reading needs to create a file beside the store."""
    elsewhere.mkdir(parents=True, exist_ok=True)
    copy = elsewhere / db.name
    for suffix in ("", "-wal"):
        source = Path(f"{db}{suffix}")
        target = Path(f"{copy}{suffix}")
        target.unlink(missing_ok=True)
        if source.exists():
            shutil.copy(source, target)
    Path(f"{copy}-shm").unlink(missing_ok=True)
    return state(copy)


def fill(filler: Path, leave: int) -> int:
    """Write `filler` until the file system is full, then give `leave` bytes back."""
    written = 0
    with open(filler, "ab") as stream:
        while True:
            try:
                stream.write(b"\0" * CHUNK)
                stream.flush()
                written += CHUNK
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
        with contextlib.suppress(OSError):
            os.fsync(stream.fileno())
    if leave:
        size = filler.stat().st_size
        os.truncate(filler, max(0, size - leave))
    return written


def takedown(*argv: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "engine.cli", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    return {"returncode": done.returncode, "stderr": done.stderr[-2000:],
            "stdout": done.stdout[-500:]}


def main(mount: str, store: str, evidence: str, sheet: str, rules: str, out: str) -> int:
    folder = Path(mount)
    db = folder / "cases.db"
    shutil.copy(store, db)
    filler = folder / "filler"
    steps = []
    for step, leave in (("full", 0), ("nearly full", 24 * 1024), ("room again", None)):
        if leave is None:
            filler.unlink()
        else:
            filler.unlink(missing_ok=True)
            fill(filler, leave)
        free = shutil.disk_usage(folder).free
        copies = Path(out).parent / "copies" / step.replace(" ", "-")
        record = takedown("audit", "record", evidence, "--rules", rules, "--db", str(db))
        after_record = state_of_copy(db, copies / "record")
        imported = takedown("audit", "import", sheet, "--db", str(db))
        after_import = state_of_copy(db, copies / "import")
        verified = takedown("audit", "verify", "--db", str(db))
        steps.append({"step": step, "free_bytes": free, "record": record,
                      "after_record": after_record, "import": imported,
                      "after_import": after_import, "verify": verified})
    report = {"filesystem": "tmpfs", "size_bytes": shutil.disk_usage(folder).total,
              "before": state(Path(store)), "steps": steps}
    Path(out).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
