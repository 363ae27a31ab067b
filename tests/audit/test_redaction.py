"""Redaction: personal data masked before storage, texts kept at their length so that
spans still point at the right characters, and every masked place listed."""

import pytest

from engine import parse_evidence
from engine.audit.intake import IntakeError
from engine.audit.redaction import (
    DEFAULT_RULES,
    MASK,
    RedactionError,
    RedactionRule,
    load_rules,
    redact,
    rules_from,
)
from tests.audit.support import PAGE_TWO_ADVERTS, case_for


def test_phone_numbers_handles_and_emails_are_masked_in_place():
    document = {"target": {"posts": [{"text": "WhatsApp 07700 900123 or +44 7700 900124, "
                                              "Telegram @safe_trips, mail a.b@example.org; "
                                              "price 3000, 2023-04-12, call 999"}]},
                "request": {"referrer": {"email": "officer@nca.example"}}}
    stored, places = redact(document, DEFAULT_RULES)
    text = stored["target"]["posts"][0]["text"]
    original = document["target"]["posts"][0]["text"]
    assert len(text) == len(original)
    assert "07700" not in text and "7700" not in text and "safe_trips" not in text
    assert "example.org" not in text and "@" in text
    assert "price 3000, 2023-04-12, call 999" in text  # prices, dates, short numbers stay
    assert stored["request"] == document["request"]  # default rules read /target only
    assert sorted(p["rule"] for p in places) == ["email", "handle", "phone", "phone"]
    for place in places:
        assert set(text[place["start"]:place["end"]]) <= {MASK, " ", "+", "@", "_", "."}


def test_the_decision_quotes_the_evidence_as_stored(audit_engine):
    case = case_for(audit_engine, PAGE_TWO_ADVERTS)
    assert "900123" not in str(case.evidence) and "900123" not in str(case.decision)
    assert case.evidence_digest == case.decision["evidence"]["digest"]
    assert case.stored_digest != case.evidence_digest
    assert parse_evidence(case.evidence)[0] is not None  # still valid evidence
    spans = [s for r in case.decision["reasons"] for s in r["spans"]]
    assert spans and all(s["text"] == case.evidence["target"]["posts"][0]["translation"]
                         [s["start"]:s["end"]] for s in spans)
    assert {p["pointer"] for p in case.redactions} == {
        "/target/posts/0/text", "/target/posts/0/translation",
        "/target/posts/0/signals/contacts/0/value"}


def test_a_rule_that_breaks_the_evidence_is_refused(audit_engine):
    dates = RedactionRule("dates", r"\d", ("/request/submitted",))
    with pytest.raises(IntakeError, match="invalid at /request/submitted"):
        case_for(audit_engine, PAGE_TWO_ADVERTS, redaction=(dates,))


def test_none_keeps_the_evidence_as_submitted(audit_engine):
    case = case_for(audit_engine, PAGE_TWO_ADVERTS, redaction=rules_from("none"))
    assert case.redactions == () and case.stored_digest == case.evidence_digest


def test_rules_are_read_from_yaml(tmp_path):
    path = tmp_path / "redaction.yaml"
    path.write_text("rules:\n  - name: analyst\n    pattern: 'analyst-\\d+'\n"
                    "    fields: [/annotations/*]\ninclude_defaults: true\n")
    rules = load_rules(path)
    assert [r.name for r in rules] == ["analyst", "email", "phone", "handle"]
    stored, places = redact({"annotations": [{"by": "analyst-7"}]}, rules)
    assert stored["annotations"][0]["by"] == "•••••••-•" and places[0]["rule"] == "analyst"


@pytest.mark.parametrize("text, message", [
    ("rules: [{name: x}]", "needs a `name` and a `pattern`"),
    ("rules: [{name: x, pattern: '('}]", "not a regular expression"),
    ("rules: [{name: x, pattern: a, fields: [target]}]", "JSON pointer patterns"),
    ("rules: [{name: x, pattern: a, colour: red}]", "unknown key `colour`"),
    ("- just a list", "a mapping with a list under `rules`"),
])
def test_bad_rule_files_are_refused(tmp_path, text, message):
    path = tmp_path / "redaction.yaml"
    path.write_text(text)
    with pytest.raises(RedactionError, match=message):
        load_rules(path)
