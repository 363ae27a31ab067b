"""Every route answers with the command line's JSON: the same decision, diagnostics,
trace, lint report and rule-set list as `takedown ... --format json` on the same input,
except where a name says where the input came from (`<body>` for a request body)."""

import json
import logging
from pathlib import Path

import pytest

import rules
from engine.cli import main
from engine.evidence import parse_evidence
from engine.service.app import GENERATION_HEADER
from engine.service.logs import LOGGER, JsonFormatter
from tests.service.conftest import FIXTURE, FIXTURES, one_line

CORE = sorted((FIXTURES / "meta").glob("*.json"))[:6] + [FIXTURE]


# The service reads texts only when asked (extract=true); the command line by default, so
# the two are compared with the command line's --no-extract.
def cli_json(capsys, *argv) -> object:
    capsys.readouterr()
    main([*argv, *(["--no-extract"] if argv[0] in ("check", "explain") else [])])
    return json.loads(capsys.readouterr().out)


def cli_lines(capsys, *argv) -> list:
    capsys.readouterr()
    main([*argv, *(["--no-extract"] if argv[0] in ("check", "explain") else [])])
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def without_name(decision: dict) -> dict:
    return {**decision, "evidence": {**decision["evidence"], "name": None}}


def without_file(record: dict) -> dict:
    if "error" not in record:
        return without_name(record)
    return {**record, "error": [{**d, "file": None} for d in record["error"]]}


def test_check_gives_the_decision_takedown_check_gives(client, bundled_rules, capsys):
    expected = cli_json(capsys, "check", *map(str, CORE), "--format", "json",
                        "--rules", str(bundled_rules))
    for path, decision in zip(CORE, expected, strict=True):
        response = client.post("/v1/check", content=path.read_bytes())
        assert response.status_code == 200, path
        got = response.json()
        assert got["evidence"]["name"] == "<body>"
        assert without_name(got) == without_name(decision), path


def test_a_decision_names_the_rule_sets_and_the_generation_it_used(client):
    response = client.post("/v1/check", content=FIXTURE.read_bytes())
    generation = client.get("/readyz").json()["generation"]
    assert response.headers[GENERATION_HEADER] == generation
    served = {(r["id"], r["version"]): r["sha256"] for r in client.get("/v1/rulesets").json()}
    for used in response.json()["rulesets"]:
        assert served[used["id"], used["version"]] == used["sha256"]


def test_query_parameters_are_the_command_line_options(client, bundled_rules, capsys):
    expected = cli_json(capsys, "check", str(FIXTURE), "--format", "json", "--rules",
                        str(bundled_rules), "--as-of", "2025-11-01", "--platform", "instagram")
    got = client.post("/v1/check?as_of=2025-11-01&platform=instagram",
                      content=FIXTURE.read_bytes()).json()
    assert without_name(got) == without_name(expected)


def test_explain_false_is_the_fast_path(client):
    fast = client.post("/v1/check?explain=false", content=FIXTURE.read_bytes()).json()
    full = client.post("/v1/check", content=FIXTURE.read_bytes()).json()
    assert (fast["outcome"], fast["likelihood"], fast["rulesets"]) == (
        full["outcome"], full["likelihood"], full["rulesets"])
    assert fast["reasons"] == [] and full["reasons"]


INVALID = [
    b"{not json",
    b'{"request": {"id": "r", "submitted": "2023-02-30"}, "target": {"platform": "meta"}}',
    b'{"request": {"id": "r", "submitted": "2023-01-01"}, "target": {"platform": "meta", '
    b'"kind": "page", "posts": [{"id": "p", "signals": {"offers_crosing": true}}]}}',
]


@pytest.mark.parametrize("body", INVALID, ids=["syntax", "date", "misspelt"])
def test_invalid_evidence_gets_422_with_the_command_line_diagnostics(client, body):
    response = client.post("/v1/check", content=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-evidence")
    _, expected = parse_evidence(body, "<body>")
    assert problem["diagnostics"] == [d.as_json() for d in expected]
    assert all(d["code"].startswith("E") for d in problem["diagnostics"])


def test_a_misspelt_field_is_pointed_at_with_a_hint(client):
    problem = client.post("/v1/check", content=INVALID[2]).json()
    (diagnostic,) = problem["diagnostics"]
    assert diagnostic["pointer"] == "/target/posts/0/signals/offers_crosing"
    assert "offers_crossing" in diagnostic["hint"]


def test_no_rule_set_in_force_is_422_v007(client):
    response = client.post("/v1/check?platform=myspace", content=FIXTURE.read_bytes())
    assert response.status_code == 422
    assert [d["code"] for d in response.json()["diagnostics"]] == ["V007"]


@pytest.mark.parametrize("query", ["as_of=2023-02-30", "as_of=yesterday", "asof=2023-01-01",
                                   "platform=Face%20Book"])
def test_wrong_query_parameters_get_422_and_are_named(client, query):
    response = client.post(f"/v1/check?{query}", content=FIXTURE.read_bytes())
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/invalid-request")
    assert problem["parameters"][0]["name"] == query.split("=")[0]


def test_batch_gives_what_takedown_check_batch_gives(client, bundled_rules, capsys, tmp_path):
    lines = [one_line(p) for p in CORE[:3]] + [b"", INVALID[0], INVALID[2], one_line(FIXTURE)]
    batch = tmp_path / "batch.ndjson"
    batch.write_bytes(b"\n".join(lines) + b"\n")
    expected = cli_lines(capsys, "check", "--batch", str(batch), "--rules", str(bundled_rules))
    response = client.post("/v1/check/batch", content=batch.read_bytes())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    got = [json.loads(line) for line in response.text.splitlines()]
    assert [without_file(r) for r in got] == [without_file(r) for r in expected]
    assert got[3]["line"] == 5 and got[3]["error"][0]["file"] == "<body>:5"


def test_an_empty_batch_is_refused(client):
    response = client.post("/v1/check/batch", content=b"")
    assert response.status_code == 422
    assert response.json()["type"].endswith("/empty-body")


def test_explain_gives_what_takedown_explain_gives(client, bundled_rules, capsys):
    expected = cli_json(capsys, "explain", str(FIXTURE), "--format", "json", "--rules",
                        str(bundled_rules))
    got = client.post("/v1/explain", content=FIXTURE.read_bytes()).json()
    assert got["trace"] == expected["trace"]
    assert without_name(got["decision"]) == without_name(expected["decision"])


BROKEN_RULES = """\
# yaml-language-server: $schema=../../../rules/ruleset.schema.json
ruleset: meta.draft
platform: meta
"""


def test_lint_gives_what_takedown_lint_gives(client, tmp_path, capsys, monkeypatch):
    draft = tmp_path / "draft.yaml"
    draft.write_text(BROKEN_RULES, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    expected = cli_json(capsys, "lint", "draft.yaml", "--format", "json")
    response = client.post("/v1/lint?name=draft.yaml", content=BROKEN_RULES.encode())
    assert response.status_code == 200
    assert response.json() == expected
    assert expected["errors"] > 0


def test_lint_of_a_bundled_rule_set_is_clean(client, bundled_rules):
    path = sorted(rules.rule_files([bundled_rules]))[0]
    report = client.post("/v1/lint", content=path.read_bytes()).json()
    assert report["errors"] == 0


def test_rulesets_are_listed_as_takedown_versions_lists_them(client, bundled_rules, capsys):
    expected = cli_json(capsys, "versions", "--rules", str(bundled_rules), "--format", "json")
    got = client.get("/v1/rulesets").json()

    def key(r):
        return {k: v for k, v in r.items() if k != "path"}

    assert [key(r) for r in got] == [key(r) for r in expected]
    for served, listed in zip(got, expected, strict=True):
        assert Path(listed["path"]).as_posix().endswith(served["path"])


def test_one_ruleset_version(client):
    listed = client.get("/v1/rulesets?platform=instagram").json()
    assert listed and all(r["platform"] in ("meta", "any") for r in listed)
    first = listed[0]
    one = client.get(f"/v1/rulesets/{first['id']}/{first['version']}")
    assert one.status_code == 200 and one.json() == first
    missing = client.get(f"/v1/rulesets/{first['id']}/1999-01-01")
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/not-found")


def test_probes_and_metrics(anonymous):
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    ready = anonymous.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    metrics = anonymous.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "takedown_http_requests_total{" in metrics.text
    assert "takedown_rules_generation{" in metrics.text


def test_the_request_id_is_the_callers_when_it_is_a_plain_token(client):
    given = client.get("/healthz", headers={"X-Request-ID": "case-42.7"})
    assert given.headers["X-Request-ID"] == "case-42.7"
    odd = client.get("/healthz", headers={"X-Request-ID": "has spaces"})
    assert odd.headers["X-Request-ID"] not in ("has spaces", "")


@pytest.fixture
def log_lines():
    """What the service logs during a test, as the JSON lines it writes."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)


CANARY = "Canary-7f3a boat to Dover, call Jon Smith +44 7700 900123"


def canary_evidence() -> bytes:
    document = json.loads(FIXTURE.read_text(encoding="utf-8"))
    document["target"]["posts"][0]["text"] = CANARY
    document["target"]["posts"][0]["translation"] = CANARY
    document["target"]["name"] = CANARY
    return json.dumps(document).encode()


def test_logs_are_json_lines_with_request_ids_and_timings_and_no_evidence(client, log_lines):
    response = client.post("/v1/check", content=canary_evidence(),
                           headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 200
    client.post("/v1/check", content=canary_evidence()[:-3])  # invalid: diagnostics quote it
    client.post("/v1/check/batch", content=canary_evidence() + b"\n" + b"x" + canary_evidence())
    client.post("/v1/explain", content=canary_evidence())
    records = [json.loads(line) for line in log_lines]
    assert records
    assert all("Canary" not in line and "Smith" not in line and "7700" not in line
               for line in log_lines)
    (mine,) = [r for r in records if r.get("request_id") == "trace-me"]
    assert mine["route"] == "/v1/check" and mine["status"] == 200
    assert mine["duration_ms"] > 0 and set(mine["timings_ms"]) >= {"read", "parse", "evaluate"}
    assert mine["outcome"] == "posts_removed" and mine["client"] == "operator"
    assert "testclient" not in json.dumps(records), "no client addresses"


def test_an_internal_error_is_a_500_problem_without_a_traceback(client, app, monkeypatch,
                                                                 log_lines):
    engine = app.state.service.store.current().engine

    def fail(*args, **kwargs):
        raise ValueError(f"failed on {CANARY}")

    monkeypatch.setattr(engine, "check", fail)
    response = client.post("/v1/check", content=canary_evidence())
    assert response.status_code == 500
    problem = response.json()
    assert problem["type"].endswith("/internal-error") and problem["request_id"]
    assert "Traceback" not in response.text and "ValueError" not in response.text
    assert "Canary" not in response.text
    (logged,) = [json.loads(line) for line in log_lines if "unhandled" in line]
    assert logged["error"]["type"] == "ValueError"
    assert logged["request_id"] == problem["request_id"]
    assert "Canary" not in json.dumps(logged)


def test_unknown_routes_and_methods_are_problems_too(client):
    assert client.get("/v2/check").json()["type"].endswith("/not-found")
    wrong = client.get("/v1/check")
    assert wrong.status_code == 405 and wrong.json()["type"].endswith("/method-not-allowed")


def test_keys_are_not_needed_for_probes_and_the_document(anonymous):
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert anonymous.get(path).status_code == 200, path
