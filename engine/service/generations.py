"""The rule sets in service, and replacing them without a restart.

A *generation* is one loaded, checked set of rule files, named by a hash of their paths
and contents. A reload copies the rule directory into a snapshot, loads and checks the
snapshot, and only if it has no errors publishes it: the process switches to it and a
small pointer file in the shared state directory names it, so that every worker
process switches too (each looks at the pointer, one `stat`, as a request starts).
A snapshot with errors is deleted and the old generation stays in service.

Switching replaces one reference. A request holds the generation it started with to
the end, so requests in flight finish on the version they started on; every decision
names the rule sets (and their hashes) it used, and every response names the
generation.

Snapshots matter because the files may change while they are read (an editor saving,
a deployment copying): what is checked is exactly what is served, by every worker.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import rules
from engine.api import Engine
from engine.evaluation import RulesError

__all__ = ["Generation", "ReloadResult", "RuleStore"]

_POINTER = "current.json"
_KEEP_SNAPSHOTS = 3


@dataclass(frozen=True)
class Generation:
    """Rule sets loaded from one snapshot, compiled, ready to serve."""

    id: str
    engine: Engine
    root: Path  # the snapshot directory; rule-set paths are shown relative to it
    loaded_at: str
    warnings: tuple[rules.Diagnostic, ...] = ()

    def rulesets(self) -> list[rules.RuleSet]:
        return list(self.engine.registry)

    def relative_path(self, ruleset: rules.RuleSet) -> str:
        path = Path(ruleset.path)
        if not path.is_absolute():  # loaded relative to the snapshot (`_load`)
            return path.as_posix()
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.name


@dataclass(frozen=True)
class ReloadResult:
    serving: Generation  # what is in service after the reload
    previous: Generation | None
    diagnostics: tuple[rules.Diagnostic, ...]

    @property
    def is_loaded(self) -> bool:
        """Whether the rule files now on disk are what is served (changed or not)."""
        return not rules.has_errors(self.diagnostics)

    @property
    def is_changed(self) -> bool:
        return self.previous is None or self.serving.id != self.previous.id

    @property
    def outcome(self) -> str:
        """loaded, unchanged or rejected."""
        if not self.is_loaded:
            return "rejected"
        return "loaded" if self.is_changed else "unchanged"

    def as_json(self) -> dict:
        return {"reloaded": self.is_loaded, "changed": self.is_loaded and self.is_changed,
                "generation": self.serving.id,
                "previous": self.previous.id if self.previous else None,
                "rulesets": len(self.serving.engine.registry),
                "errors": sum(d.is_error for d in self.diagnostics),
                "diagnostics": [d.as_json() for d in self.diagnostics]}


class RuleStore:
    """The generation this process serves, and the state directory it shares with the
    other workers of the same service."""

    def __init__(self, rules_dir: Path, state_dir: Path):
        self.rules_dir = Path(rules_dir)
        self.state_dir = Path(state_dir)
        self._snapshots = self.state_dir / "snapshots"
        self._snapshots.mkdir(parents=True, exist_ok=True)
        self._pointer = self.state_dir / _POINTER
        self._current: Generation | None = None
        self._stamp: tuple | None = None  # the pointer file as last followed
        self._lock = threading.Lock()

    def current(self) -> Generation:
        if self._current is None:
            raise RuntimeError("no rule sets loaded: call start() first")
        return self._current

    def start(self) -> ReloadResult:
        """Serve the generation the other workers serve, or, in the first process, load
        the rule directory."""
        if self._read_stamp() is not None:
            self.follow()
            return ReloadResult(self.current(), None, self.current().warnings)
        return self.reload()

    def is_stale(self) -> bool:
        """Whether another process has published a generation since this one looked."""
        return self._read_stamp() != self._stamp

    def follow(self) -> Generation:
        """Switch to the published generation (blocking: it loads the snapshot)."""
        with self._lock:
            return self._follow()

    def _follow(self) -> Generation:
        stamp = self._read_stamp()
        if stamp is None or stamp == self._stamp:
            return self.current()
        # Looked at once whatever happens: a snapshot that fails to load now is not
        # retried on every request.
        self._stamp = stamp
        pointer = json.loads(self._pointer.read_text(encoding="utf-8"))
        if self._current is None or pointer["generation"] != self._current.id:
            snapshot = self._snapshots / pointer["generation"]
            registry, diagnostics = _load(snapshot)
            if rules.has_errors(diagnostics):  # it was checked before it was published
                raise RulesError(list(diagnostics))
            self._current = _generation(pointer["generation"], registry, snapshot,
                                        diagnostics, self._current)
        return self._current

    def reload(self) -> ReloadResult:
        """Snapshot the rule directory, check it, and serve it if it has no errors.
        Blocking, and serialised across the workers by a lock file."""
        with self._lock, self._exclusive():
            if self._current is not None and self.is_stale():
                self._follow()  # another worker reloaded: compare with what it published
            previous = self._current
            snapshot, generation_id = self._snapshot()
            if previous is not None and previous.id == generation_id:
                # The very bytes in service, checked when they were loaded.
                return ReloadResult(previous, previous, previous.warnings)
            registry, diagnostics = _load(snapshot)
            diagnostics = tuple(diagnostics)
            if not len(registry) and not rules.has_errors(diagnostics):
                diagnostics += (rules.Diagnostic(
                    "Y005", "the rule-set directory has no rule files",
                    rules.Location(self.rules_dir.name or str(self.rules_dir)),
                    hint="a service without rule sets could decide nothing; check --rules"),)
            if rules.has_errors(diagnostics):
                if not self._is_published(generation_id):
                    shutil.rmtree(snapshot, ignore_errors=True)
                if previous is None:
                    raise RulesError(list(diagnostics))
                return ReloadResult(previous, previous, diagnostics)
            generation = _generation(generation_id, registry, snapshot, diagnostics, previous)
            self._publish(generation_id)
            self._current = generation
            self._prune()
            return ReloadResult(generation, previous, diagnostics)

    # the shared directory

    def _read_stamp(self) -> tuple | None:
        try:
            st = os.stat(self._pointer)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _is_published(self, generation_id: str) -> bool:
        try:
            pointer = json.loads(self._pointer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return False
        return pointer["generation"] == generation_id

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with open(self.state_dir / "reload.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _snapshot(self) -> tuple[Path, str]:
        """Copy every rule file into a new snapshot directory named by its contents."""
        staging = self._snapshots / f".staging-{uuid.uuid4().hex}"
        listing = hashlib.sha256()
        try:
            for path in rules.rule_files([self.rules_dir]):
                relative = path.relative_to(self.rules_dir)
                data = path.read_bytes()
                target = staging / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                listing.update(f"{relative.as_posix()}\0{hashlib.sha256(data).hexdigest()}\n"
                               .encode())
            staging.mkdir(parents=True, exist_ok=True)
            generation_id = listing.hexdigest()
            final = self._snapshots / generation_id
            if final.exists():  # the same files as an earlier generation
                shutil.rmtree(staging)
            else:
                staging.rename(final)
            return final, generation_id
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _publish(self, generation_id: str) -> None:
        staging = self._pointer.with_suffix(f".{uuid.uuid4().hex}.tmp")
        staging.write_text(json.dumps({"generation": generation_id}), encoding="utf-8")
        os.replace(staging, self._pointer)
        self._stamp = self._read_stamp()

    def _prune(self) -> None:
        """Keep the last few snapshots: a worker may still be loading the one before."""
        snapshots = sorted((p for p in self._snapshots.iterdir() if not p.name.startswith(".")),
                           key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in snapshots[_KEEP_SNAPSHOTS:]:
            if self._current is None or old.name != self._current.id:
                shutil.rmtree(old, ignore_errors=True)


def _load(snapshot: Path) -> tuple[rules.Registry, list[rules.Diagnostic]]:
    """The snapshot's rule sets, files named relative to it: as the user knows them
    (the rule directory's layout; the server's own is nobody's business), and the same
    name in every snapshot, so that the files a reload did not change are not parsed
    again (rules.load_registry)."""
    return rules.load_registry([snapshot], relative_to=snapshot)


def _generation(generation_id: str, registry: rules.Registry, snapshot: Path,
                diagnostics, previous: Generation | None = None) -> Generation:
    engine = Engine(registry)
    if previous is not None:  # what did not change is not compiled again
        engine.share_compiled(previous.engine)
    for ruleset in registry:  # compile now, not on the first request that needs it
        engine.compiled(ruleset)
    return Generation(generation_id, engine, snapshot,
                      datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                      tuple(d for d in diagnostics if not d.is_error))
