"""Fixtures for the audit tests: the bundled rule sets, copied once (they are edited while
tests run, and a replay must see the very files a case was recorded with), an engine
on the copy, a store with every fixture recorded and fixtures/responses.csv imported,
built once and copied by the tests that write to it, and a PostgreSQL server of the
session's own (tests/postgres.py) for the tests that run on both backends."""

import shutil
from pathlib import Path

import pytest

from engine import Engine
from engine.audit.sheet import read_sheet
from engine.audit.store import open_store
from tests.audit.support import (
    RESPONSES,
    RULES,
    case_for,
    clock,
    fixture_paths,
    new_store_location,
)
from tests.postgres import ServerUnavailable, start_server

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on loopback for the whole session; the tests that need one are
    skipped, saying why, where none can be started."""
    try:
        server = start_server()
    except ServerUnavailable as reason:
        pytest.skip(f"no PostgreSQL server could be started here: {reason}")
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def empty_store(request, tmp_path) -> str:
    """The location of a new, empty case store, once on each backend."""
    return new_store_location(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def audit_rules(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("audit-rules") / RULES.name
    shutil.copytree(RULES, copy)
    return copy


@pytest.fixture(scope="session")
def audit_engine(audit_rules: Path) -> Engine:
    return Engine.from_paths([audit_rules])


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory, audit_engine) -> Path:
    """Every fixture recorded, and the sample responses imported. Read only: copy it
    (`sample_copy`) to write."""
    path = tmp_path_factory.mktemp("audit-sample") / "cases.db"
    with open_store(path, now=clock()) as store:
        for fixture in fixture_paths():
            store.record_case(case_for(audit_engine, fixture))
        sheet = read_sheet(RESPONSES, store.case_dates(), store.cases_by_request())
        assert sheet.problems == []
        store.add(sheet.responses, sheet.disputes)
    return path


@pytest.fixture
def sample_copy(sample_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "cases.db"
    shutil.copy(sample_db, copy)  # closed stores are one file: the WAL is checkpointed away
    return copy


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "cases.db", now=clock()) as opened:
        yield opened


@pytest.fixture
def postgres_store(request, tmp_path) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    return new_store_location("postgresql", request, tmp_path)
