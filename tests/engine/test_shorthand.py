"""Shorthand analysts write is read as the format's form, said in the decision, and kept
out of the case store where it quotes personal data; what could mean two things stays an
error."""

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import parse_evidence
from engine.audit.redaction import DEFAULT_RULES, mask_decision, redact
from engine.cli import main
from tests.engine.support import FIXTURES, fixture_paths

BASE = {"request": {"id": "r1", "submitted": "2021-03-02"},
        "target": {"platform": "facebook", "kind": "page",
                   "posts": [{"id": "a", "text": "boat to the UK"}]}}


def _with(change) -> dict:
    document = copy.deepcopy(BASE)
    change(document)
    return document


def _post_signals(value):
    return lambda d: d["target"]["posts"][0].update(signals=value)


@pytest.mark.parametrize(("change", "pointer", "read_as"), [
    (lambda d: d["target"].update(platform="Facebook"), "/target/platform", "facebook"),
    (lambda d: d["target"].update(platform="YouTube"), "/target/platform", "youtube"),
    (lambda d: d["target"].update(platform="IG"), "/target/platform", "instagram"),
    (lambda d: d["target"].update(platform="X (Twitter)"), "/target/platform", "x"),
    (lambda d: d["target"].update(kind="Profile"), "/target/kind", "account"),
    (lambda d: d["target"].update(kind="reel"), "/target/kind", "post"),
    (lambda d: d["request"].update(submitted="2021-03-02T09:15:00Z"), "/request/submitted",
     "2021-03-02"),
    (lambda d: d["target"]["posts"][0].update(posted="2021-02-01 22:10"),
     "/target/posts/0/posted", "2021-02-01"),
    (lambda d: d["target"]["posts"][0].update(id=7), "/target/posts/0/id", "7"),
    (lambda d: d["target"]["posts"][0].pop("id"), "/target/posts/0/id", "p1"),
    (_post_signals({"price": "£2,500"}), "/target/posts/0/signals/price",
     {"amount": 2500, "currency": "GBP"}),
    (_post_signals({"price": "1.200 euros"}), "/target/posts/0/signals/price",
     {"amount": 1200, "currency": "EUR"}),
    (_post_signals({"price": "3000 usd"}), "/target/posts/0/signals/price",
     {"amount": 3000, "currency": "USD"}),
    (_post_signals({"price": "£1,500 to £3,000"}), "/target/posts/0/signals/price",
     {"amount": 1500, "currency": "GBP"}),
    (_post_signals({"price": "1500-3000 EUR"}), "/target/posts/0/signals/price",
     {"amount": 1500, "currency": "EUR"}),
    (lambda d: d["request"].update(referrer={"kind": "Police"}), "/request/referrer/kind",
     "law_enforcement"),
    (lambda d: d["request"].update(referrer={"kind": "IOM"}), "/request/referrer/kind",
     "international_organisation"),
    (_post_signals({"contacts": ["WhatsApp"]}), "/target/posts/0/signals/contacts/0",
     {"kind": "whatsapp"}),
    (_post_signals({"route": "Dunkirk to Dover"}), "/target/posts/0/signals/route",
     {"from": "Dunkirk", "to": "Dover"}),
    (_post_signals({"offers_crossing": "Yes"}), "/target/posts/0/signals/offers_crossing", True),
    (_post_signals({"offers_crossing": "false"}), "/target/posts/0/signals/offers_crossing",
     False),
    (_post_signals({"route": "Libya → Italy"}), "/target/posts/0/signals/route",
     {"from": "Libya", "to": "Italy"}),
])
def test_shorthand_is_read_as_the_formats_form_and_said(change, pointer, read_as):
    evidence, problems = parse_evidence(_with(change))
    assert problems == []
    readings = {r.pointer: r.read_as for r in evidence.readings}
    assert readings == {pointer: read_as}


@pytest.mark.parametrize(("change", "pointer"), [
    (_post_signals({"price": 2500}), "/target/posts/0/signals/price"),      # which currency?
    (_post_signals({"price": "2500"}), "/target/posts/0/signals/price"),
    (_post_signals({"price": "2500 € or $3000"}), "/target/posts/0/signals/price"),
    (_post_signals({"price": "£1,500 to $3,000"}), "/target/posts/0/signals/price"),
    (_post_signals({"contacts": True}), "/target/posts/0/signals/contacts"),
    (_post_signals({"boat": True}), "/target/posts/0/signals/boat"),         # a misspelling?
    (lambda d: d["target"].update(platform="Myspace"), "/target/platform"),
    (lambda d: d["request"].update(submitted="last Tuesday"), "/request/submitted"),
])
def test_what_could_mean_two_things_stays_an_error(change, pointer):
    evidence, problems = parse_evidence(_with(change))
    assert evidence is None
    assert [p.pointer for p in problems] == [pointer]
    assert problems[0].code == "E002"


def test_a_document_with_shorthand_and_an_error_reports_only_the_error():
    document = _with(lambda d: (d["target"].update(platform="Facebook"),
                                d["target"]["posts"][0].update(signals={"boat": True})))
    evidence, problems = parse_evidence(document)
    assert evidence is None and [p.pointer for p in problems] == ["/target/posts/0/signals/boat"]


def test_the_bundled_fixtures_need_no_reading():
    for path in fixture_paths():
        evidence, problems = parse_evidence(path.read_text(encoding="utf-8"), str(path))
        assert problems == [] and evidence.readings == (), path


@given(st.sampled_from(["Facebook", "FACEBOOK", " facebook ", "Instagram", "TikTok", "Telegram"]),
       st.sampled_from(["Page", "GROUP", "Channel", "account", "Story", "comment", "Tweet"]))
def test_reading_is_the_same_as_writing_the_form(platform, kind):
    shorthand = _with(lambda d: d["target"].update(platform=platform, kind=kind))
    read, problems = parse_evidence(shorthand)
    assert problems == []
    written = copy.deepcopy(read.document)
    plain, _ = parse_evidence(written)
    assert plain.readings == () and plain.digest == read.digest
    assert shorthand["target"]["platform"] == platform  # the caller's document is not changed


def test_the_decision_says_what_was_read_and_the_case_store_masks_it(tmp_path, capsys):
    document = json.loads((FIXTURES / "meta" / "page-two-adverts.json").read_text())
    document["target"]["platform"] = "Facebook"
    document["target"]["posts"][0]["signals"]["contacts"] = ["+44 7700 900417"]
    source = tmp_path / "case.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    assert main(["check", str(source), "--format", "json", "--no-extract"]) == 0
    decision = json.loads(capsys.readouterr().out)
    read = {r["pointer"]: r for r in decision["evidence"]["read_as"]}
    assert read["/target/platform"]["read_as"] == "facebook"
    assert read["/target/posts/0/signals/contacts/0"]["read_as"] == {
        "kind": "phone", "value": "+44 7700 900417"}
    evidence, _ = parse_evidence(document)
    stored, _ = redact(evidence.document, DEFAULT_RULES)
    masked = json.dumps(mask_decision(decision, stored, DEFAULT_RULES), ensure_ascii=False)
    assert "7700" not in masked and "900417" not in masked
    assert main(["check", str(source)]) == 0
    assert '"Facebook" as "facebook"' in capsys.readouterr().out
