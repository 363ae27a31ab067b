""".pre-commit-hooks.yaml: the hooks a repository of rule files uses to lint and test
them on commit. The file must be a pre-commit manifest, name commands that exist, and
those commands must pass on this repository's own rule sets, run from its root as
pre-commit runs them."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from engine.cli import _parser, main

ROOT = Path(__file__).parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
# The keys pre-commit requires of every hook, and those it accepts (its manifest schema).
REQUIRED = {"id", "name", "entry", "language"}
ACCEPTED = REQUIRED | {"alias", "files", "exclude", "types", "types_or", "exclude_types",
                       "additional_dependencies", "args", "always_run", "fail_fast",
                       "pass_filenames", "description", "language_version", "log_file",
                       "require_serial", "stages", "verbose", "minimum_pre_commit_version"}


def hooks() -> list[dict]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_the_manifest_is_a_list_of_hooks():
    found = hooks()
    assert isinstance(found, list) and [h["id"] for h in found] == ["takedown-lint",
                                                                    "takedown-test"]
    for hook in found:
        assert REQUIRED <= set(hook) <= ACCEPTED, hook["id"]
        assert hook["language"] == "python"
        assert all(isinstance(a, str) for a in hook.get("args", []))


@pytest.mark.parametrize("hook", hooks(), ids=lambda h: h["id"])
def test_files_match_rule_files_only(hook: dict):
    pattern = re.compile(hook["files"])
    for name in ("platform_policies/meta/human-exploitation/2022-12-07.yaml",
                 "teams/uk/platform_policies/x/enforcement/2023-03-01.yml"):
        assert pattern.search(name), name
    for name in ("fixtures/meta/page-two-adverts.json", "README.md", ".pre-commit-config.yaml",
                 "docs/platform_policies.md", "other_platform_policies/a.yaml"):
        assert not pattern.search(name), name


@pytest.mark.parametrize("hook", hooks(), ids=lambda h: h["id"])
def test_entry_names_an_installed_command_and_its_options(hook: dict):
    command, *arguments = shlex.split(hook["entry"]) + hook.get("args", [])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert command in scripts["project"]["scripts"]
    parsed = _parser().parse_args(arguments)  # exits 2 on an unknown subcommand or option
    assert parsed.command == hook["id"].removeprefix("takedown-")


@pytest.mark.parametrize("hook", hooks(), ids=lambda h: h["id"])
def test_hook_passes_on_the_bundled_rule_sets(hook: dict, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    _, *arguments = shlex.split(hook["entry"]) + hook.get("args", [])
    assert main(arguments) == 0, capsys.readouterr()
