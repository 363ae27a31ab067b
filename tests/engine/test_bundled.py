"""The bundled rule sets are kept finished: formatted as `takedown fmt` writes them, every
rule, exception, threshold and dated value exercised by their own tests, and no
paraphrase left blank or copied from its source.
"""

import datetime
import json
from pathlib import Path

from engine.cli import main
from rules import drafting

BUNDLED = Path(__file__).resolve().parents[2] / "platform_policies"


def test_every_bundled_file_is_formatted(capsys):
    assert main(["fmt", "--check", str(BUNDLED)]) == 0, capsys.readouterr().out


def test_every_bundled_version_is_fully_covered_by_its_own_tests(tmp_path, capsys):
    report = tmp_path / "coverage.json"
    code = main(["test", "--coverage", "--fail-under", "100", "--coverage-json", str(report),
                 str(BUNDLED)])
    assert code == 0, capsys.readouterr().out
    versions = json.loads(report.read_text())["rulesets"]
    assert len(versions) == len(list(BUNDLED.rglob("*.yaml")))
    for version in versions:
        assert version["percent"] == 100, (version["ruleset"], version["version"])


def test_no_paraphrase_is_blank_a_placeholder_or_copied():
    # W006 (blank or placeholder paraphrase) and W008 (copied text) do not depend on the day;
    # W007 and W009 (the age of a source) do, and are left to `takedown lint --drafting`.
    today = datetime.date.today()
    found = [f"{path.relative_to(BUNDLED)}:{d.location.line}:{d.location.column} {d.code} {d.message}"
             for path in sorted(BUNDLED.rglob("*.yaml"))
             for d in drafting.check_drafting(path.read_bytes(), str(path), today)
             if d.code in {"W006", "W008"}]
    assert found == []
