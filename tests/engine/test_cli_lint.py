"""`takedown lint` and `takedown versions`: exit codes, and output that tools can read
(JSON, SARIF 2.1.0) as well as people."""

import hashlib
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.cli import main
from engine.cli.common import DEFAULT_RULES
from rules import rule_files

META = DEFAULT_RULES / "meta" / "human-exploitation"
V2019 = META / "2019-09-03.yaml"
V2022 = META / "2022-12-07.yaml"
MISSPELT = "post.signals.offers_crosing"  # in `broken`, for post.signals.offers_crossing

# What code-scanning tools need from a SARIF 2.1.0 log, and what takedown promises in it.
SARIF_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string", "pattern": "sarif-2\\.1\\.0"},
        "runs": {"type": "array", "minItems": 1, "maxItems": 1,
                 "items": {"$ref": "#/$defs/run"}},
    },
    "$defs": {
        "run": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {
                    "type": "object",
                    "required": ["driver"],
                    "properties": {"driver": {
                        "type": "object",
                        "required": ["name", "rules"],
                        "properties": {
                            "name": {"const": "takedown"},
                            "version": {"type": "string", "minLength": 1},
                            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
                        },
                    }},
                },
                "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
            },
        },
        "code": {"type": "string", "pattern": "^[A-Z][0-9]{3}$"},
        "level": {"enum": ["none", "note", "warning", "error"]},
        "message": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1}},
        },
        "rule": {
            "type": "object",
            "required": ["id", "shortDescription"],
            "properties": {
                "id": {"$ref": "#/$defs/code"},
                "shortDescription": {"$ref": "#/$defs/message"},
                "fullDescription": {"$ref": "#/$defs/message"},
                "defaultConfiguration": {
                    "type": "object",
                    "properties": {"level": {"$ref": "#/$defs/level"}},
                },
            },
        },
        "result": {
            "type": "object",
            "required": ["ruleId", "level", "message", "locations"],
            "properties": {
                "ruleId": {"$ref": "#/$defs/code"},
                "ruleIndex": {"type": "integer", "minimum": 0},
                "level": {"$ref": "#/$defs/level"},
                "message": {"$ref": "#/$defs/message"},
                "locations": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["physicalLocation"],
                        "properties": {"physicalLocation": {"$ref": "#/$defs/physicalLocation"}},
                    },
                },
            },
        },
        "physicalLocation": {
            "type": "object",
            "required": ["artifactLocation", "region"],
            "properties": {
                "artifactLocation": {
                    "type": "object",
                    "required": ["uri"],
                    "properties": {"uri": {"type": "string", "minLength": 1}},
                },
                "region": {
                    "type": "object",
                    "required": ["startLine", "startColumn"],
                    "properties": {
                        "startLine": {"type": "integer", "minimum": 1},
                        "startColumn": {"type": "integer", "minimum": 1},
                        "endLine": {"type": "integer", "minimum": 1},
                        "endColumn": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
}
Draft202012Validator.check_schema(SARIF_SCHEMA)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the 2022 rule set with one misspelt field (its first offers_crossing)."""
    text = V2022.read_text(encoding="utf-8")
    assert "post.signals.offers_crossing" in text
    path = tmp_path / "2022-12-07.yaml"
    path.write_text(text.replace("post.signals.offers_crossing", MISSPELT, 1), encoding="utf-8")
    return path


def misspelt_at(path: Path) -> tuple[int, int]:
    """Line and column of the misspelt name (after `post.signals.`) in `path`."""
    text = path.read_text(encoding="utf-8")
    offset = text.index(MISSPELT) + len("post.signals.")
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def summary(out: str) -> str:
    return out.rstrip().splitlines()[-1]


# lint: exit codes

def test_lint_bundled_rule_sets(capsys):
    status, out, err = run(capsys, "lint")
    assert status == 0, out
    assert "error[" not in out and err == ""
    files = len(rule_files([DEFAULT_RULES]))
    assert re.fullmatch(rf"{files} files checked: (no problems|.*\bnotes?\b.*)", summary(out))


def test_lint_without_paths_checks_the_bundled_rule_sets(capsys):
    assert run(capsys, "lint") == run(capsys, "lint", str(DEFAULT_RULES))


def test_lint_one_bundled_file(capsys):
    status, out, _ = run(capsys, "lint", str(V2022))
    assert status == 0
    assert summary(out).startswith("1 file checked: ")


def test_lint_file_with_an_error(capsys, broken):
    status, out, _ = run(capsys, "lint", str(broken))
    assert status == 1
    line, column = misspelt_at(broken)
    assert f"{broken}:{line}:{column}: error[N001]: unknown evidence field `{MISSPELT}`" in out
    assert "= hint: did you mean `post.signals.offers_crossing`?" in out
    assert re.fullmatch(r"1 file checked: 1 error(, .*)?", summary(out))


def test_lint_quiet_shows_errors_only(capsys, broken):
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        "retrieved: 20", "retrieved: 19", 1), encoding="utf-8")  # and a warning, W002
    status, out, _ = run(capsys, "lint", str(broken))
    assert status == 1 and "warning[W002]" in out
    status, out, _ = run(capsys, "lint", "--quiet", str(broken))
    assert status == 1
    assert "error[N001]" in out and "warning" not in out
    assert summary(out) == "1 file checked: 1 error"


def test_lint_missing_path_is_a_usage_error(capsys, tmp_path):
    status, out, err = run(capsys, "lint", str(tmp_path / "absent.yaml"))
    assert status == 2
    assert out == ""
    assert "no such file or directory" in err and "absent.yaml" in err


def test_lint_warnings_alone_pass(capsys, tmp_path):
    """A gap between versions is a warning (V002): reported, and the exit code stays 0."""
    text = V2019.read_text(encoding="utf-8")
    assert "effective: {from: 2019-09-03}" in text
    (tmp_path / "2019-09-03.yaml").write_text(text.replace(
        "effective: {from: 2019-09-03}", "effective: {from: 2019-09-03, until: 2020-01-01}"),
        encoding="utf-8")
    (tmp_path / "2022-12-07.yaml").write_text(V2022.read_text(encoding="utf-8"), encoding="utf-8")
    status, out, _ = run(capsys, "lint", str(tmp_path))
    assert status == 0
    assert "warning[V002]: no version of `meta.human-exploitation` is in force from 2020-01-01 to 2022-12-06" in out


# lint: formats for tools

def test_lint_json(capsys, broken):
    status, out, _ = run(capsys, "lint", "--format", "json", str(broken), str(META))
    assert status == 1
    report = json.loads(out)
    assert (report["files"], report["errors"]) == (1 + len(rule_files([META])), 1)
    for d in report["diagnostics"]:
        assert {"code", "severity", "message", "file", "line", "column"} <= set(d)
    (error,) = [d for d in report["diagnostics"] if d["severity"] == "error"]
    line, column = misspelt_at(broken)
    assert (error["code"], error["file"], error["line"], error["column"]) == (
        "N001", str(broken), line, column)
    assert (error["end_line"], error["end_column"]) == (line, column + len("offers_crosing"))
    assert error["hint"] == "did you mean `post.signals.offers_crossing`?"
    assert error["pointer"].endswith("/when")


def test_lint_json_of_the_bundled_rule_sets(capsys):
    status, out, _ = run(capsys, "lint", "--format", "json")
    assert status == 0
    report = json.loads(out)
    assert (report["files"], report["errors"]) == (len(rule_files([DEFAULT_RULES])), 0)
    assert all(d["severity"] != "error" for d in report["diagnostics"])


def test_lint_sarif_is_valid(capsys, broken):
    # A warning as well as the error, so that results of two levels are checked.
    broken.write_text(broken.read_text(encoding="utf-8").replace(
        "retrieved: 20", "retrieved: 19", 1), encoding="utf-8")
    status, out, _ = run(capsys, "lint", "--format", "sarif", str(broken), str(META))
    assert status == 1
    log = json.loads(out)
    errors = sorted(Draft202012Validator(SARIF_SCHEMA).iter_errors(log), key=str)
    assert errors == [], [e.message for e in errors]
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "takedown"
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    assert sorted({r["id"] for r in rules}) == [r["id"] for r in rules]  # one rule per code
    assert {r["ruleId"] for r in results} == {r["id"] for r in rules}
    for result in results:
        # ruleIndex points at the rule the result names.
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"],
                                                             region["startColumn"])
    (error,) = [r for r in results if r["level"] == "error"]
    location = error["locations"][0]["physicalLocation"]
    assert error["ruleId"] == "N001"
    assert location["artifactLocation"]["uri"] == str(broken)
    region = location["region"]
    assert (region["startLine"], region["startColumn"]) == misspelt_at(broken)
    assert "unknown evidence field" in error["message"]["text"]
    assert {"error", "warning"} <= {r["level"] for r in results}


def test_sarif_schema_rejects_what_it_should(capsys, broken):
    """The inline schema is not vacuous: a result without a region fails it."""
    log = json.loads(run(capsys, "lint", "--format", "sarif", str(broken))[1])
    del log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    log["runs"][0]["tool"]["driver"]["name"] = "other"
    log["version"] = "2.0.0"
    messages = [e.message for e in Draft202012Validator(SARIF_SCHEMA).iter_errors(log)]
    assert any("region" in m for m in messages)
    assert any("takedown" in m for m in messages)
    assert any("2.1.0" in m for m in messages)


# versions

def table(out: str) -> list[list[str]]:
    """The rows of a `takedown versions` table, cells split on runs of 2+ spaces."""
    return [re.split(r"\s{2,}", line) for line in out.splitlines()[2:]]


def test_versions_lists_the_meta_versions(capsys):
    status, out, _ = run(capsys, "versions", "--rules", str(META))
    assert status == 0
    rows = table(out)
    starts = [p.stem for p in rule_files([META])]
    assert [row[:3] for row in rows] == [["meta.human-exploitation", s, s] for s in starts]
    # Each version runs until the next one starts; the last is in force.
    assert [row[3] for row in rows] == [*starts[1:], "(in force)"]
    assert rows[0][:3] == ["meta.human-exploitation", "2017-01-01", "2017-01-01"]
    by_version = {row[1]: row for row in rows}
    assert by_version["2019-09-03"][3] == "2022-12-07"
    assert by_version["2022-12-07"][-1] == hashlib.sha256(V2022.read_bytes()).hexdigest()[:12]


def test_versions_without_rules_lists_every_bundled_rule_set(capsys):
    status, out, _ = run(capsys, "versions")
    assert (status, out) == run(capsys, "versions", "--rules", str(DEFAULT_RULES))[:2]
    meta_rows = [row[:4] for row in table(out) if row[0] == "meta.human-exploitation"]
    assert ["meta.human-exploitation", "2019-09-03", "2019-09-03", "2022-12-07"] in meta_rows
    assert any(row[1:3] == ["2022-12-07", "2022-12-07"] for row in meta_rows)


def test_versions_json(capsys):
    status, out, _ = run(capsys, "versions", "--format", "json")
    assert status == 0
    versions = json.loads(out)
    assert len(versions) == len(rule_files([DEFAULT_RULES]))
    for version in versions:
        assert re.fullmatch(r"[0-9a-f]{64}", version["sha256"])
        assert version["sha256"] == hashlib.sha256(Path(version["path"]).read_bytes()).hexdigest()
    meta = {v["version"]: v for v in versions if v["id"] == "meta.human-exploitation"}
    assert meta["2019-09-03"]["effective"] == {"from": "2019-09-03", "until": "2022-12-07"}
    assert meta["2022-12-07"]["effective"]["from"] == "2022-12-07"
    assert "smuggling-request" in meta["2022-12-07"]["rules"]
    assert "smuggling-request" not in meta["2019-09-03"]["rules"]


def test_versions_for_a_platform(capsys):
    options = ("--rules", str(META), "--format", "json")
    status, out, _ = run(capsys, "versions", "instagram", *options)
    assert status == 0 and len(json.loads(out)) == len(rule_files([META]))
    status, out, _ = run(capsys, "versions", "youtube", *options)
    assert status == 0 and json.loads(out) == []


def test_versions_of_broken_rule_sets(capsys, broken):
    status, out, err = run(capsys, "versions", "--rules", str(broken.parent))
    assert status == 4
    assert out == ""
    assert "error[N001]" in err and "run `takedown lint`" in err


def test_versions_of_a_missing_directory(capsys, tmp_path):
    status, _, err = run(capsys, "versions", "--rules", str(tmp_path / "absent"))
    assert status == 2
    assert "no such directory" in err
