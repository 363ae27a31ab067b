"""The engines the tests run: `engine` on the bundled rule sets, for what every fixture
and every rule set must satisfy; `pinned_engine` on the frozen copies in
tests/engine/rulesets/, for how a decision is built and explained.

The bundled rule sets are copied once per session and read from the copy: they are
edited while tests run, and a decision must be compared with the very files it was
made from (their hashes, and what the command line reads)."""

import shutil
from pathlib import Path

import pytest

from engine import Engine
from tests.engine.support import PINNED_RULES, RULES


@pytest.fixture(scope="session")
def bundled_rules(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("rules") / RULES.name
    shutil.copytree(RULES, copy)
    return copy


@pytest.fixture(scope="session")
def engine(bundled_rules: Path) -> Engine:
    return Engine.from_paths([bundled_rules])


@pytest.fixture(scope="session")
def pinned_engine() -> Engine:
    return Engine.from_paths([PINNED_RULES])
