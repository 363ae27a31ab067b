"""POST /v1/extract and /v1/check?extract=true: the command line's `takedown extract` and
`check --extract` over HTTP, with the same JSON."""

import json

from engine.extraction import extracted_signals
from tests.service.conftest import FIXTURES

UNASSESSED = FIXTURES / "x" / "post-unassessed-pashto.json"


def test_extract_returns_the_enriched_evidence(client):
    response = client.post("/v1/extract", content=UNASSESSED.read_bytes())
    assert response.status_code == 200, response.text
    document = response.json()
    post = document["target"]["posts"][0]
    assert post["signals"]["offers_crossing"] is True
    assert {s["pointer"] for s in document["extraction"]["signals"]} >= {
        "/target/posts/0/signals/offers_crossing", "/target/posts/0/signals/contacts"}
    assert extracted_signals(document)


def test_the_enriched_evidence_is_checked_as_it_is(client):
    enriched = client.post("/v1/extract", content=UNASSESSED.read_bytes()).content
    decision = client.post("/v1/check", content=enriched).json()
    assert decision["outcome"] == "posts_removed"
    assert any(s["fact"] == "post.signals.offers_crossing" for s in decision["extracted"])


def test_check_can_extract_first(client):
    plain = client.post("/v1/check", content=UNASSESSED.read_bytes()).json()
    assert plain["bounds"]["lower"] == "no_action" and plain["extracted"] == []
    response = client.post("/v1/check?extract=true&explain=false",
                           content=UNASSESSED.read_bytes())
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "posts_removed"
    assert response.json()["bounds"]["lower"] == "posts_removed"
    assert response.json()["extracted"]


def test_extract_refuses_invalid_evidence_with_the_diagnostics(client):
    response = client.post("/v1/extract", content=b'{"request": {}}')
    assert response.status_code == 422
    assert {d["code"] for d in response.json()["diagnostics"]} == {"E002"}
    response = client.post("/v1/extract", content=json.dumps({"x": 1}).encode() + b"\xff")
    assert response.status_code == 422
