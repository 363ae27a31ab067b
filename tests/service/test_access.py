"""Who may call what: API keys, hashed on load, with scopes; 401 without a known key,
403 without the scope; no keys only on loopback."""

import argparse
import json

import pytest
from starlette.testclient import TestClient

from engine.cli import main
from engine.service.app import create_app
from engine.service.keys import Keyring, hash_key, is_loopback
from engine.service.settings import ENV_KEYS, Settings, SettingsError
from tests.service.conftest import ADMIN_ONLY_KEY, CHECK_KEY, FIXTURE, bearer

OPERATIONS = [("post", "/v1/check"), ("post", "/v1/check/batch"), ("post", "/v1/explain"),
              ("post", "/v1/lint"), ("get", "/v1/rulesets"),
              ("get", "/v1/rulesets/meta.fraud/2019-09-03"), ("post", "/v1/admin/reload")]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_key_is_401_with_a_bearer_challenge(anonymous, method, path):
    response = anonymous.request(method, path, content=FIXTURE.read_bytes())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["type"].endswith("/unauthorized")


@pytest.mark.parametrize("authorization", ["Bearer td_not-a-key", "Basic dXNlcjpwYXNz",
                                           f"Bearer {CHECK_KEY}x", "Bearer"])
def test_an_unknown_key_is_401(anonymous, authorization):
    response = anonymous.post("/v1/check", content=FIXTURE.read_bytes(),
                              headers={"Authorization": authorization})
    assert response.status_code == 401


def test_a_check_key_checks_but_does_not_reload(anonymous):
    assert anonymous.post("/v1/check", content=FIXTURE.read_bytes(),
                          headers=bearer(CHECK_KEY)).status_code == 200
    refused = anonymous.post("/v1/admin/reload", headers=bearer(CHECK_KEY))
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/forbidden")
    assert "admin" in refused.json()["detail"]


def test_an_admin_only_key_reloads_but_does_not_check(anonymous):
    assert anonymous.post("/v1/check", content=FIXTURE.read_bytes(),
                          headers=bearer(ADMIN_ONLY_KEY)).status_code == 403
    assert anonymous.post("/v1/admin/reload", headers=bearer(ADMIN_ONLY_KEY)).status_code == 200


def test_the_key_is_checked_before_the_body_is_read(anonymous):
    response = anonymous.post("/v1/check", content=b"{broken")
    assert response.status_code == 401  # not 422: the body was never parsed


def test_without_keys_no_key_is_asked_for(app):
    keyless = create_app(Settings(rules_dir=app.state.service.settings.rules_dir),
                         store=app.state.service.store)
    with TestClient(keyless) as client:
        assert client.post("/v1/check", content=FIXTURE.read_bytes()).status_code == 200


def test_plain_keys_from_the_environment_are_hashed_on_load():
    keyring = Keyring.from_plain(" td_one , td_two,,")
    assert len(keyring) == 2
    assert keyring.find("td_one").allows("check") and keyring.find("td_two").allows("admin")
    assert keyring.find("td_three") is None
    assert "td_one" not in json.dumps(keyring.as_json())
    assert keyring.as_json()[0]["sha256"] == hash_key("td_one")


def _args(**given) -> argparse.Namespace:
    values = dict(host="127.0.0.1", port=8080, rules=None, workers=1, config=None,
                  max_body_bytes=None, log_level="info", new_key=False)
    values.update(given)
    return argparse.Namespace(**values)


def test_a_config_file_gives_keys_by_hash_with_scopes_and_limits(tmp_path):
    config = tmp_path / "service.toml"
    config.write_text(f"""
max_body_bytes = 65536
[[keys]]
name = "case-management"
sha256 = "{hash_key("td_case")}"
scopes = ["check"]
[[keys]]
name = "ops"
sha256 = "{hash_key("td_ops").upper()}"
scopes = ["check", "admin"]
""", encoding="utf-8")
    settings = Settings.from_args(_args(config=str(config)), environ={ENV_KEYS: "td_env"})
    assert settings.max_body_bytes == 65536
    keys = settings.keyring
    assert keys.find("td_case").name == "case-management"
    assert not keys.find("td_case").allows("admin")
    assert keys.find("td_ops").allows("admin")
    assert keys.find("td_env") is not None  # both sources count
    again = Settings.from_env(settings.to_env())
    assert again.keyring.find("td_case").name == "case-management"
    assert "td_case" not in settings.to_env()


@pytest.mark.parametrize(("text", "complaint"), [
    ('[[keys]]\nname = "x"\nsha256 = "abc"\n', "64 hex digits"),
    (f'[[keys]]\nsha256 = "{"0" * 64}"\nscopes = ["root"]\n', "scopes"),
    ('port = 80\n', "unknown setting `port`"),
    ('max_body_bytes = "big"\n', "max_body_bytes"),
    ('[[keys]\n', "not valid TOML"),
])
def test_a_wrong_config_file_is_refused_with_the_reason(tmp_path, text, complaint):
    config = tmp_path / "service.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=complaint):
        Settings.from_args(_args(config=str(config)), environ={})


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.168.1.10", False),
    ("example.org", False)])
def test_what_counts_as_loopback(host, expected):
    assert is_loopback(host) is expected


def test_serve_refuses_to_listen_beyond_loopback_without_keys(capsys, monkeypatch):
    monkeypatch.delenv(ENV_KEYS, raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "refusing to listen on 0.0.0.0 without API keys" in capsys.readouterr().err


def test_serve_new_key_prints_a_key_and_the_hash_to_keep(capsys):
    assert main(["serve", "--new-key"]) == 0
    out = capsys.readouterr().out
    key = out.split("key: ", 1)[1].split()[0]
    assert key.startswith("td_") and len(key) > 40
    assert f'sha256 = "{hash_key(key)}"' in out
