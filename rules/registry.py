"""The registry: every loaded version of every rule set, and which is in force when.

Versions of one rule set follow each other: a version without `until` runs to the day
before the next one starts. The registry checks that versions neither overlap nor
leave a gap, and answers "which rule sets applied to this platform on this date?" for
the engine and for auditors replaying an old request.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from rules.diagnostics import Diagnostic, Location, sorted_diagnostics
from rules.loader import load_ruleset
from rules.ruleset import RuleSet

__all__ = ["Registry", "load_registry", "rule_files"]

RULE_FILE_SUFFIXES = (".yaml", ".yml")


def rule_files(paths: Iterable[str | Path]) -> list[Path]:
    """The rule files named by `paths`: files as given, directories searched recursively."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in RULE_FILE_SUFFIXES
                              and p.is_file() and not p.name.startswith(".")))
        else:
            out.append(path)
    return out


class Registry:
    """Loaded rule sets by id, each id's versions in order of their start."""

    def __init__(self, rulesets: Iterable[RuleSet]):
        by_id: dict[str, list[RuleSet]] = defaultdict(list)
        for ruleset in rulesets:
            by_id[ruleset.id].append(ruleset)
        self._by_id: dict[str, tuple[RuleSet, ...]] = {}
        for rid, versions in by_id.items():
            versions.sort(key=lambda r: r.effective_from)
            chained = []
            for index, version in enumerate(versions):
                if version.effective_until is None and index + 1 < len(versions):
                    version = dataclasses.replace(
                        version, effective_until=versions[index + 1].effective_from)
                chained.append(version)
            self._by_id[rid] = tuple(chained)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_id.values())

    def __iter__(self):
        for rid in sorted(self._by_id):
            yield from self._by_id[rid]

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def versions(self, ruleset_id: str) -> tuple[RuleSet, ...]:
        return self._by_id.get(ruleset_id, ())

    def get(self, ruleset_id: str, version: str) -> RuleSet | None:
        for ruleset in self.versions(ruleset_id):
            if ruleset.version == version:
                return ruleset
        return None

    def in_force(self, platform: str, day: datetime.date) -> list[RuleSet]:
        """Every rule set covering `platform` (a platform or a surface such as
        "instagram"), in the version in force on `day`."""
        out = []
        for rid in sorted(self._by_id):
            for ruleset in self._by_id[rid]:
                if ruleset.covers(platform) and ruleset.is_in_force(day):
                    out.append(ruleset)
                    break
        return out

    def platforms(self) -> list[str]:
        return sorted({r.platform for r in self})


def load_registry(paths: Iterable[str | Path], *, relative_to: str | Path | None = None,
                  ) -> tuple[Registry, list[Diagnostic]]:
    """Load every rule file under `paths` and check versions against each other.

    Files are named in diagnostics and rule sets relative to the working directory, or
    to `relative_to` when given (a copy of a rule directory named as the original is).
    A file's loading is cached by its bytes and name, so loading a directory again after
    one file changed parses that file only, if the names stay the same."""
    diagnostics: list[Diagnostic] = []
    rulesets: list[RuleSet] = []
    for path in rule_files(paths):
        name = (_shown(path) if relative_to is None
                else path.relative_to(relative_to).as_posix())
        ruleset, found = load_ruleset(path, name)
        diagnostics.extend(found)
        if ruleset is not None:
            rulesets.append(ruleset)
    diagnostics.extend(_version_checks(rulesets))
    return Registry(rulesets), sorted_diagnostics(diagnostics)


def _shown(path: Path) -> str:
    """A path as the user would write it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _version_checks(rulesets: list[RuleSet]) -> list[Diagnostic]:
    out = []
    by_id: dict[str, list[RuleSet]] = defaultdict(list)
    for r in rulesets:
        by_id[r.id].append(r)
    for rid, versions in by_id.items():
        versions.sort(key=lambda r: (r.effective_from, r.path))
        for a, b in zip(versions, versions[1:], strict=False):
            where = b.effective_location or Location(b.path, 1, 1, 1, 2)
            if a.version == b.version:
                out.append(Diagnostic("V005", f"`{rid}` version {b.version} is declared twice",
                                      where, hint=f"also declared in {a.path}",
                                      related=(("first declared here", (a.effective_location or Location(a.path, 1, 1, 1, 2))),)))
            if a.effective_from == b.effective_from or (
                    a.effective_until is not None and a.effective_until > b.effective_from):
                out.append(Diagnostic(
                    "V001", f"`{rid}` versions {a.version} and {b.version} are both in force on "
                    f"{b.effective_from}", where,
                    hint=f"end {a.version} on {b.effective_from} (until: {b.effective_from}) "
                    "or move this version's start",
                    related=(("the other version", (a.effective_location or Location(a.path, 1, 1, 1, 2))),)))
            elif a.effective_until is not None and a.effective_until < b.effective_from:
                out.append(Diagnostic(
                    "V002", f"no version of `{rid}` is in force from {a.effective_until} to "
                    f"{b.effective_from - datetime.timedelta(days=1)}", where,
                    hint="if the policy did exist then, move a date",
                    related=(("the version before", (a.effective_location or Location(a.path, 1, 1, 1, 2))),)))
    return out
