"""The service the tests call, in process: the bundled rule sets (copied once per
session, as the engine tests do: they are edited while tests run), three API keys with
different scopes, and a client that sends a key unless told otherwise."""

import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engine.service.app import create_app
from engine.service.keys import ApiKey, Keyring, hash_key
from engine.service.settings import Settings

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "fixtures"
FIXTURE = FIXTURES / "meta" / "page-two-adverts.json"
RULES = ROOT / "platform_policies"

CHECK_KEY = "td_test-check-key"
ADMIN_KEY = "td_test-admin-key"
ADMIN_ONLY_KEY = "td_test-admin-only-key"
KEYRING = Keyring([
    ApiKey("checker", hash_key(CHECK_KEY), frozenset({"check"})),
    ApiKey("operator", hash_key(ADMIN_KEY), frozenset({"check", "admin"})),
    ApiKey("reloader", hash_key(ADMIN_ONLY_KEY), frozenset({"admin"})),
])


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def one_line(path: Path) -> bytes:
    """An evidence file as one NDJSON line."""
    return path.read_bytes().replace(b"\n", b" ")


@pytest.fixture(scope="session")
def bundled_rules(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("service-rules") / RULES.name
    shutil.copytree(RULES, copy)
    return copy


def make_app(rules_dir: Path, state_dir: Path, **settings):
    return create_app(Settings(rules_dir=rules_dir, state_dir=state_dir, keyring=KEYRING,
                               **settings))


@pytest.fixture(scope="session")
def app(bundled_rules, tmp_path_factory):
    return make_app(bundled_rules, tmp_path_factory.mktemp("service-state"))


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app, headers=bearer(ADMIN_KEY), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def anonymous(app):
    """A client that sends no key."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
