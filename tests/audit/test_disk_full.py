"""A full disk gives a clear error and loses nothing.

The store lives on a real, small file system: a tmpfs mounted in a mount namespace of
the test's own (`unshare --user --map-root-user --mount`, which needs no root on systems
that allow unprivileged user namespaces, and works as root everywhere). The inside of
the drill is tests/audit/disk_full.py. With the disk full, and nearly full (the store
opens, the write fails part-way), `record` and `import` exit 5 with error A002 and a
hint, print no traceback, and leave the store as it was, intact; with room again, both
succeed. Where no namespace can be made the test is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.audit.support import PAGE_TWO_ADVERTS, ROOT
from tests.drills import report


def _unshare_works() -> str:
    if shutil.which("unshare") is None:
        return "no unshare command"
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           "mount -t tmpfs -o size=1m tmpfs /mnt 2>&1 || mount -t tmpfs -o "
                           "size=1m tmpfs \"$HOME\" 2>&1"], capture_output=True, text=True,
                          timeout=30)
    return "" if done.returncode == 0 else f"cannot mount a tmpfs in a namespace: {done.stdout}"


def test_a_full_disk_gives_a_clear_error_and_loses_nothing(sample_db, audit_rules, tmp_path):
    why = _unshare_works()
    if why:
        pytest.skip(why)
    evidence = tmp_path / "new.json"
    document = json.loads(PAGE_TWO_ADVERTS.read_text(encoding="utf-8"))
    document["request"]["id"] = "DISK-FULL-1"
    evidence.write_text(json.dumps(document), encoding="utf-8")
    sheet = tmp_path / "responses.csv"
    sheet.write_text("request_id,date,outcome,reason\n" + "".join(
        f"NCA-2023-0412,2023-04-{day:02d},pending,reminder {day}\n" for day in range(13, 29)),
        encoding="utf-8")
    mount = tmp_path / "small"
    mount.mkdir()
    out = tmp_path / "report.json"
    size = os.path.getsize(sample_db) + 2 * 1024 * 1024
    inside = [sys.executable, "-m", "tests.audit.disk_full", str(mount), str(sample_db),
              str(evidence), str(sheet), str(audit_rules), str(out)]
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           f'mount -t tmpfs -o size={size} tmpfs "$0" && exec "$@"',
                           str(mount), *inside], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    before = result["before"]
    assert before["intact"]

    *full, room = result["steps"]
    for step in full:
        for command in ("record", "import"):
            run, after = step[command], step[f"after_{command}"]
            assert run["returncode"] == 5, (step["step"], command, run)
            assert "error[A002]" in run["stderr"] and "is full" in run["stderr"], run
            assert "= hint: free some space" in run["stderr"]
            assert "Traceback" not in run["stderr"]
            assert after == before, (step["step"], command, after)
        # verify says whether the chain holds, or, when it cannot even read, that the
        # disk is full: never a traceback
        verified = step["verify"]
        assert verified["returncode"] == 0 or "error[A002]" in verified["stderr"], verified
        assert "Traceback" not in verified["stderr"]
    assert room["record"]["returncode"] == 0, room["record"]
    assert room["import"]["returncode"] == 0, room["import"]
    assert room["after_record"]["counts"]["case"] == before["counts"]["case"] + 1
    assert room["after_import"]["counts"]["response"] == before["counts"]["response"] + 16
    assert room["after_import"]["intact"]

    report("disk-full", {
        "filesystem": f"tmpfs of {result['size_bytes']} bytes in a mount namespace",
        "steps": [{"step": s["step"], "free_bytes": s["free_bytes"],
                   "record": s["record"]["returncode"], "import": s["import"]["returncode"],
                   "message": next((line for line in s["record"]["stderr"].splitlines()
                                    if "error[" in line), ""),
                   "store_unchanged": s["after_import"] == before,
                   "verify": (s["verify"]["stdout"] or s["verify"]["stderr"]).strip()[:90]}
                  for s in result["steps"]]})
