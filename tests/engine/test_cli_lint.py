"""`takedown lint` and `takedown versions`: exit codes, and output that tools can read
(JSON, SARIF 2.1.0) as well as people."""

import hashlib
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.cli import DEFAULT_RULES, main

# The Meta rule sets are named explicitly: other platforms' rule sets are work in progress.
META_RULES = DEFAULT_RULES / "meta"
META = META_RULES / "human-exploitation"
V2022 = META / "2022-12-07.yaml"

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
    """A copy of the 2022 rule set with a misspelt field at line 74, column 20."""
    text = V2022.read_text(encoding="utf-8")
    old = "      post.signals.offers_crossing\n"
    assert text.count(old) == 1
    path = tmp_path / "2022-12-07.yaml"
    path.write_text(text.replace(old, "      post.signals.offers_crosing\n"), encoding="utf-8")
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# lint: exit codes

def test_lint_bundled_rule_sets(capsys):
    status, out, _ = run(capsys, "lint", str(META))
    assert status == 0
    assert out.rstrip().endswith("2 files checked: 2 notes")


def test_lint_without_paths_checks_the_bundled_rule_sets(capsys):
    assert run(capsys, "lint") == run(capsys, "lint", str(DEFAULT_RULES))
    assert "human-exploitation/2022-12-07.yaml:47:5: note[W001]" in run(capsys, "lint")[1]


def test_lint_file_with_an_error(capsys, broken):
    status, out, _ = run(capsys, "lint", str(broken))
    assert status == 1
    assert f"{broken}:74:20: error[N001]: unknown evidence field `post.signals.offers_crosing`" in out
    assert "= hint: did you mean `post.signals.offers_crossing`?" in out
    assert out.rstrip().endswith("1 file checked: 1 error, 1 note")


def test_lint_quiet_shows_errors_only(capsys, broken):
    status, out, _ = run(capsys, "lint", "--quiet", str(broken))
    assert status == 1
    assert "error[N001]" in out and "W001" not in out


def test_lint_missing_path_is_a_usage_error(capsys, tmp_path):
    status, out, err = run(capsys, "lint", str(tmp_path / "absent.yaml"))
    assert status == 2
    assert out == ""
    assert "no such file or directory" in err and "absent.yaml" in err


def test_lint_warnings_alone_pass(capsys, tmp_path):
    """A gap between versions is a warning (V002): reported, and the exit code stays 0."""
    text = V2022.read_text(encoding="utf-8")
    older = (text.replace('version: "2022-12-07"', 'version: "2019-09-03"')
             .replace("effective: {from: 2022-12-07}",
                      "effective: {from: 2019-09-03, until: 2020-01-01}"))
    (tmp_path / "2019-09-03.yaml").write_text(older, encoding="utf-8")
    (tmp_path / "2022-12-07.yaml").write_text(text, encoding="utf-8")
    status, out, _ = run(capsys, "lint", str(tmp_path))
    assert status == 0
    assert "warning[V002]" in out


# lint: formats for tools

def test_lint_json(capsys, broken):
    status, out, _ = run(capsys, "lint", "--format", "json", str(broken), str(META))
    assert status == 1
    report = json.loads(out)
    assert (report["files"], report["errors"]) == (3, 1)
    found = [(d["code"], Path(d["file"]).name, d["line"], d["column"], d["severity"])
             for d in report["diagnostics"]]
    assert ("N001", "2022-12-07.yaml", 74, 20, "error") in found
    assert found.count(("W001", "2022-12-07.yaml", 47, 5, "note")) == 2  # the copy and the original
    for d in report["diagnostics"]:
        assert {"code", "severity", "message", "file", "line", "column"} <= set(d)
    (error,) = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert error["hint"] == "did you mean `post.signals.offers_crossing`?"
    assert error["pointer"] == "/rules/smuggling-offer/when"
    assert (error["end_line"], error["end_column"]) == (74, 34)


def test_lint_json_of_the_bundled_rule_sets(capsys):
    status, out, _ = run(capsys, "lint", "--format", "json", str(META))
    assert status == 0
    report = json.loads(out)
    assert (report["files"], report["errors"]) == (2, 0)
    assert [d["code"] for d in report["diagnostics"]] == ["W001", "W001"]


def test_lint_sarif_is_valid(capsys, broken):
    status, out, _ = run(capsys, "lint", "--format", "sarif", str(broken), str(META))
    assert status == 1
    log = json.loads(out)
    errors = sorted(Draft202012Validator(SARIF_SCHEMA).iter_errors(log), key=str)
    assert errors == [], [e.message for e in errors]
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["name"] == "takedown"
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    assert sorted(r["ruleId"] for r in results) == ["N001", "W001", "W001", "W001"]
    for result in results:
        # ruleIndex points at the rule the result names.
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"],
                                                             region["startColumn"])
    (error,) = [r for r in results if r["level"] == "error"]
    location = error["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == str(broken)
    assert (location["region"]["startLine"], location["region"]["startColumn"]) == (74, 20)
    assert "unknown evidence field" in error["message"]["text"]
    assert {r["level"] for r in results} == {"error", "note"}


def test_sarif_schema_rejects_what_it_should(capsys):
    """The inline schema is not vacuous: a result without a region fails it."""
    log = json.loads(run(capsys, "lint", "--format", "sarif", str(META))[1])
    del log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    log["runs"][0]["tool"]["driver"]["name"] = "other"
    messages = [e.message for e in Draft202012Validator(SARIF_SCHEMA).iter_errors(log)]
    assert any("region" in m for m in messages)
    assert any("takedown" in m for m in messages)


# versions

def test_versions_without_rules_reads_the_bundled_rule_sets(capsys):
    assert run(capsys, "versions") == run(capsys, "versions", "--rules", str(DEFAULT_RULES))


def test_versions_lists_both_meta_versions(capsys):
    status, out, _ = run(capsys, "versions", "--rules", str(META_RULES))
    assert status == 0
    rows = [re.split(r"\s{2,}", line) for line in out.splitlines()[2:]]  # columns: 2+ spaces
    assert [row[:4] for row in rows] == [
        ["meta.human-exploitation", "2019-09-03", "2019-09-03", "2022-12-07"],
        ["meta.human-exploitation", "2022-12-07", "2022-12-07", "(in force)"],
    ]
    assert rows[1][-1] == hashlib.sha256(V2022.read_bytes()).hexdigest()[:12]


def test_versions_json(capsys):
    status, out, _ = run(capsys, "versions", "--rules", str(META_RULES), "--format", "json")
    assert status == 0
    versions = json.loads(out)
    assert [(v["id"], v["version"], v["effective"]["from"], v["effective"]["until"])
            for v in versions] == [
        ("meta.human-exploitation", "2019-09-03", "2019-09-03", "2022-12-07"),
        ("meta.human-exploitation", "2022-12-07", "2022-12-07", None),
    ]
    for version in versions:
        assert re.fullmatch(r"[0-9a-f]{64}", version["sha256"])
        path = META / f"{version['version']}.yaml"
        assert version["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert versions[0]["rules"] == ["smuggling-offer", "page-for-smuggling"]


def test_versions_for_a_platform(capsys):
    options = ("--rules", str(META_RULES), "--format", "json")
    status, out, _ = run(capsys, "versions", "instagram", *options)
    assert status == 0 and len(json.loads(out)) == 2
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
