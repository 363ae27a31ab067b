"""The OpenAPI document: the one kept in the repository is the one the code generates,
and the service keeps to it. Schemathesis generates requests from the document (valid
and invalid ones) and checks every response: no 5xx, status codes, content types and
bodies as documented, authentication enforced."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from engine.service.app import build_app
from engine.service.openapi import OPENAPI_PATH, render
from tests.service.conftest import ADMIN_KEY, bearer


def test_the_kept_document_is_the_generated_one():
    generated = render(build_app())
    kept = OPENAPI_PATH.read_text(encoding="utf-8")
    assert json.loads(kept) == json.loads(generated), (
        "engine/service/openapi.json is out of date: run "
        ".venv/bin/python -m engine.service")
    assert kept == generated


def test_the_service_serves_the_kept_document(anonymous):
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))


def test_the_document_is_openapi_3_1_and_uses_the_published_schemas():
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    check = document["paths"]["/v1/check"]["post"]
    assert check["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Evidence"}
    assert check["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Decision"}
    text = json.dumps(document)
    assert "#/$defs/" not in text, "every $ref must point at a component"


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value) -> bytes:
    """A generated batch body: text as it is, a list as one JSON document per line."""
    if isinstance(value, str):
        return value.encode("utf-8")
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode("utf-8")


class _Service:
    """The service under test, as the schema's app: schemathesis needs an app when it
    collects the tests, the session builds the service (rule sets copied, loaded) only
    when they run."""

    app = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


SERVICE = _Service()
# The kept document, which the first test holds equal to the generated one.
schema = schemathesis.openapi.from_path(OPENAPI_PATH)
schema.app = SERVICE
schema.config.update(base_url="http://testserver")
# Hypothesis's phase (valid and invalid data, max_examples per operation); the coverage
# phase would enumerate boundary cases of the whole evidence schema when the tests are
# collected, which takes longer than all the rest of the service's tests.
schema.config.phases.update(phases=["examples", "fuzzing"])


@pytest.fixture(autouse=True)
def _serving(app):
    SERVICE.app = app


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_service_keeps_to_its_document(case):
    case.call_and_validate(headers=bearer(ADMIN_KEY), checks=[
        not_a_server_error, status_code_conformance, content_type_conformance,
        response_schema_conformance, negative_data_rejection, ignored_auth])
