"""Rule sets reload without a restart: the new files are checked first and served only
without errors; requests in flight finish on the generation they started with; the
other workers follow through the shared state directory."""

import asyncio
import hashlib
import json
import shutil

import httpx2
import pytest
from starlette.testclient import TestClient

from engine.service.app import GENERATION_HEADER, create_app
from engine.service.generations import RuleStore
from tests.service.conftest import ADMIN_KEY, FIXTURE, RULES, bearer, make_app, one_line


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory):
    copy = tmp_path_factory.mktemp("reload-rules") / "rules"
    shutil.copytree(RULES, copy)
    return copy


@pytest.fixture(scope="module")
def service_app(rules_dir, tmp_path_factory):
    return make_app(rules_dir, tmp_path_factory.mktemp("reload-state"))


@pytest.fixture(scope="module")
def client(service_app):
    with TestClient(service_app, headers=bearer(ADMIN_KEY)) as c:
        yield c


@pytest.fixture
def rule_file(client, rules_dir):
    """A rule file that decides FIXTURE, restored after the test."""
    decision = client.post("/v1/check", content=FIXTURE.read_bytes()).json()
    used = decision["rulesets"][0]
    info = client.get(f"/v1/rulesets/{used['id']}/{used['version']}").json()
    path = rules_dir / info["path"]
    original = path.read_bytes()
    yield path
    path.write_bytes(original)
    assert client.post("/v1/admin/reload").status_code == 200


def hashes(decision: dict) -> dict:
    return {r["id"]: r["sha256"] for r in decision["rulesets"]}


def test_an_unchanged_reload_says_so(client):
    report = client.post("/v1/admin/reload").json()
    assert report["reloaded"] is True and report["changed"] is False
    assert report["generation"] == report["previous"]


def test_a_changed_file_is_served_after_a_reload(client, rule_file):
    before = client.post("/v1/check", content=FIXTURE.read_bytes())
    rule_file.write_bytes(rule_file.read_bytes() + b"\n# reviewed again\n")
    response = client.post("/v1/admin/reload")
    assert response.status_code == 200
    report = response.json()
    assert report["changed"] is True and report["previous"] == before.headers[GENERATION_HEADER]
    after = client.post("/v1/check", content=FIXTURE.read_bytes())
    assert after.headers[GENERATION_HEADER] == report["generation"]
    old, new = hashes(before.json()), hashes(after.json())
    changed = {k for k in new if new[k] != old[k]}
    assert len(changed) == 1
    assert hashlib.sha256(rule_file.read_bytes()).hexdigest() in hashes(after.json()).values()


def test_files_with_errors_are_reported_and_the_old_ones_kept(client, rule_file, rules_dir):
    before = client.post("/v1/check", content=FIXTURE.read_bytes())
    rule_file.write_bytes(rule_file.read_bytes() + b"\nrules: [unclosed\n")
    response = client.post("/v1/admin/reload")
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/invalid-rules")
    assert problem["generation"] == before.headers[GENERATION_HEADER]
    (error, *_) = [d for d in problem["diagnostics"] if d["severity"] == "error"]
    assert error["code"].startswith("Y") and error["line"] > 0
    # Named as in the rule directory, not as in the snapshot that was checked.
    assert (rules_dir / error["file"]).samefile(rule_file)
    after = client.post("/v1/check", content=FIXTURE.read_bytes())
    assert after.headers[GENERATION_HEADER] == before.headers[GENERATION_HEADER]
    assert hashes(after.json()) == hashes(before.json())


def test_an_empty_rule_directory_is_refused(client, rules_dir, tmp_path):
    kept = tmp_path / "kept"
    shutil.move(rules_dir, kept)
    rules_dir.mkdir()
    try:
        response = client.post("/v1/admin/reload")
        assert response.status_code == 422
        assert [d["code"] for d in response.json()["diagnostics"]] == ["Y005"]
    finally:
        rules_dir.rmdir()
        shutil.move(kept, rules_dir)
    assert client.get("/readyz").json()["rulesets"] > 0


def _in_flight(app, path: str, first: bytes, rest: bytes, rule_file):
    """POST `first`, reload changed rules while the request is in flight, then send
    `rest`; returns (in-flight response, reload response, a check made afterwards)."""

    async def run():
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver",
                                      headers=bearer(ADMIN_KEY)) as client:
            reloaded = {}

            async def body():
                yield first
                rule_file.write_bytes(rule_file.read_bytes() + b"\n# edited mid-request\n")
                reloaded["response"] = await client.post("/v1/admin/reload")
                yield rest

            response = await client.post(path, content=body())
            after = await client.post("/v1/check", content=FIXTURE.read_bytes())
            return response, reloaded["response"], after

    return asyncio.run(run())


def test_a_check_in_flight_finishes_on_the_rules_it_started_with(service_app, client,
                                                                  rule_file):
    before = client.post("/v1/check", content=FIXTURE.read_bytes())
    body = FIXTURE.read_bytes()
    response, reload, after = _in_flight(service_app, "/v1/check", body[:100], body[100:],
                                         rule_file)
    assert reload.json()["changed"] is True
    assert response.headers[GENERATION_HEADER] == before.headers[GENERATION_HEADER]
    assert hashes(response.json()) == hashes(before.json())
    assert after.headers[GENERATION_HEADER] == reload.json()["generation"]
    assert hashes(after.json()) != hashes(before.json())


def test_a_batch_in_flight_finishes_on_the_rules_it_started_with(service_app, client,
                                                                  rule_file):
    before = client.post("/v1/check", content=FIXTURE.read_bytes())
    line = one_line(FIXTURE) + b"\n"
    response, reload, after = _in_flight(service_app, "/v1/check/batch", line * 2, line * 2,
                                         rule_file)
    assert reload.json()["changed"] is True
    decisions = [json.loads(x) for x in response.text.splitlines()]
    assert len(decisions) == 4
    assert all(hashes(d) == hashes(before.json()) for d in decisions)
    assert hashes(after.json()) != hashes(before.json())


def test_other_workers_follow_a_reload(service_app, client, rule_file):
    leader = service_app.state.service.store
    follower = RuleStore(leader.rules_dir, leader.state_dir)
    follower.start()
    assert follower.current().id == leader.current().id and not follower.is_stale()
    other = create_app(service_app.state.service.settings, store=follower)
    rule_file.write_bytes(rule_file.read_bytes() + b"\n# for the follower\n")
    new = client.post("/v1/admin/reload").json()["generation"]
    assert follower.is_stale()
    with TestClient(other, headers=bearer(ADMIN_KEY)) as other_client:
        response = other_client.post("/v1/check", content=FIXTURE.read_bytes())
    assert response.headers[GENERATION_HEADER] == new
    assert follower.current().id == new and not follower.is_stale()


def test_a_follower_loads_again_only_the_files_a_reload_changed(service_app, client,
                                                                 rule_file):
    leader = service_app.state.service.store
    follower = RuleStore(leader.rules_dir, leader.state_dir)
    follower.start()
    before = follower.current()
    rule_file.write_bytes(rule_file.read_bytes() + b"\n# changed for the follower\n")
    assert client.post("/v1/admin/reload").json()["changed"] is True
    after = follower.follow()
    changed = rule_file.relative_to(leader.rules_dir).as_posix()
    old = {r.path: r for r in before.engine.registry}
    assert set(old) == {r.path for r in after.engine.registry}
    for ruleset in after.engine.registry:
        # Named as in the rule directory, in every snapshot alike.
        assert after.relative_path(ruleset) == ruleset.path
        if ruleset.path == changed:
            assert ruleset.sha256 == hashlib.sha256(rule_file.read_bytes()).hexdigest()
            assert ruleset is not old[ruleset.path]
        else:  # neither parsed nor compiled again: the very objects
            # (a version the registry chains to the next is a copy with its end
            # date, sharing everything else)
            assert ruleset == old[ruleset.path]
            assert ruleset.rules is old[ruleset.path].rules
            assert after.engine.compiled(ruleset) is before.engine.compiled(ruleset)


class CountingStore(RuleStore):
    """A rule store that counts its loads of another worker's generation."""

    follows = 0

    def follow(self):
        self.follows += 1
        return super().follow()


def test_requests_that_arrive_while_a_follower_loads_share_its_one_load(service_app, client,
                                                                         rule_file):
    leader = service_app.state.service.store
    follower = CountingStore(leader.rules_dir, leader.state_dir)
    follower.start()  # which follows the leader once
    follower.follows = 0
    other = create_app(service_app.state.service.settings, store=follower)
    rule_file.write_bytes(rule_file.read_bytes() + b"\n# many requests at once\n")
    new = client.post("/v1/admin/reload").json()["generation"]

    async def run():
        transport = httpx2.ASGITransport(app=other)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver",
                                      headers=bearer(ADMIN_KEY)) as c:
            return await asyncio.gather(*(c.post("/v1/check?explain=false",
                                                 content=FIXTURE.read_bytes())
                                          for _ in range(40)))

    responses = asyncio.run(run())
    assert {r.status_code for r in responses} == {200}
    assert {r.headers[GENERATION_HEADER] for r in responses} == {new}
    assert follower.follows == 1
