"""Progress bars: shown on a terminal, never when stderr is not one.

The terminal is a real pseudo-terminal: in process, stderr is replaced by its slave end
(the command runs as from a shell whose stderr is a terminal); once, the installed
`takedown` runs in a child whose stderr is the pty. Nothing of the progress module is
replaced.
"""

import io
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).parents[2]
TIKTOK = ROOT / "platform_policies" / "tiktok" / "human-smuggling"
SAMPLE = ROOT / "fixtures" / "statements-of-reasons.csv"


class Terminal:
    """A pseudo-terminal whose output is collected as it comes (so that a long one never
    blocks the writer)."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the slave end is closed
                return
            if not data:
                return
            self.chunks.append(data)

    def close(self) -> str:
        os.close(self.slave)
        self.reader.join(10)
        os.close(self.master)
        return b"".join(self.chunks).decode("utf-8", "replace")


@pytest.fixture
def on_terminal(monkeypatch):
    """Run `main(argv)` with stderr on a pseudo-terminal; returns what the terminal got."""
    monkeypatch.delenv("TAKEDOWN_PROGRESS", raising=False)

    def run(argv: list[str]) -> str:
        tty = Terminal()
        stream = io.TextIOWrapper(os.fdopen(os.dup(tty.slave), "wb", buffering=0),
                                  encoding="utf-8", write_through=True)
        assert stream.isatty()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stderr", stream)
            main(argv)
        stream.close()
        return tty.close()

    return run


def _evidence_folder(tmp_path: Path) -> Path:
    """Three TikTok fixtures, one of which a statement in the sample answers."""
    folder = tmp_path / "evidence"
    folder.mkdir(exist_ok=True)
    for name in ("account-lorry-work-visas.json", "rescue-hotline-video.json",
                 "video-albanian-crossing.json"):
        shutil.copy(ROOT / "fixtures" / "tiktok" / name, folder / name)
    return folder


def _store_with_tiktok(tmp_path: Path) -> Path:
    db = tmp_path / "cases.db"
    assert main(["audit", "record", str(_evidence_folder(tmp_path)), "--db", str(db)]) == 0
    return db


def _corpus_args() -> list[str]:
    versions = sorted(TIKTOK.glob("*.yaml"))
    return ["diff", str(versions[-2]), str(versions[-1]), "--corpus",
            str(ROOT / "fixtures" / "tiktok")]  # judged on the fast path: quick


def _validation_copy(tmp_path: Path) -> Path:
    """Two validation cases."""
    folder = tmp_path / "validation"
    folder.mkdir(exist_ok=True)
    for case in sorted((ROOT / "validation" / "x").glob("*.json"))[:2]:
        shutil.copy(case, folder / case.name)
    return folder


def test_every_long_command_is_silent_when_stderr_is_not_a_terminal(tmp_path, capsys):
    db = _store_with_tiktok(tmp_path)
    assert "%|" not in capsys.readouterr().err
    commands = [
        ["audit", "import", "--format", "dsa-sor", str(SAMPLE), "--db", str(db)],
        ["validate", str(_validation_copy(tmp_path))],
        _corpus_args(),
    ]
    for argv in commands:
        main(argv)
        err = capsys.readouterr().err
        assert "%|" not in err and "\r" not in err, (argv, err)


@pytest.mark.parametrize("what, label", [
    ("record", "evaluating"), ("import", "statements read"), ("validate", "validating"),
    ("diff", "judging the corpus")])
def test_each_long_command_shows_progress_on_a_terminal(what, label, tmp_path, on_terminal):
    argv = {"import": lambda: ["audit", "import", "--format", "dsa-sor", str(SAMPLE), "--db",
                               str(_store_with_tiktok(tmp_path))],
            "validate": lambda: ["validate", str(_validation_copy(tmp_path))],
            "diff": _corpus_args,
            "record": lambda: ["audit", "record", str(_evidence_folder(tmp_path)), "--db",
                               str(tmp_path / "new.db")]}[what]()
    shown = on_terminal(argv)
    assert label in shown, shown
    assert re.search(re.escape(label) + r"[^\r]*\r +\r", shown), "the bar is cleared at the end"


def test_progress_can_be_turned_off_on_a_terminal(tmp_path, on_terminal, monkeypatch):
    folder = str(_validation_copy(tmp_path))
    monkeypatch.setenv("TAKEDOWN_PROGRESS", "never")
    assert on_terminal(["validate", folder]) == ""


def test_the_installed_command_shows_a_bar_on_a_pty(tmp_path):
    """End to end, with nothing patched: the child's stderr is the terminal."""
    folder = str(_validation_copy(tmp_path))
    takedown = Path(sys.executable).with_name("takedown")
    env = {k: v for k, v in os.environ.items() if k != "TAKEDOWN_PROGRESS"}
    tty = Terminal()
    done = subprocess.run([str(takedown), "validate", folder], stdout=subprocess.PIPE,
                          stderr=tty.slave, stdin=subprocess.DEVNULL, env=env, timeout=300)
    shown = tty.close()
    assert done.returncode == 0 and "validating" in shown and "%|" in shown, shown
    assert b"%|" not in done.stdout, "the bar never goes to stdout"
