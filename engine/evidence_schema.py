"""The evidence schema, generated from the one evidence vocabulary.

`rules.vocabulary` says which fields a condition may read and their types; this module
turns it into the published JSON Schema (engine/evidence.schema.json), adding what
only documents need: required keys, formats, limits and descriptions. A test fails if
the published file and this generator disagree, so the language and the evidence
format cannot drift apart.

Run `python -m engine.evidence_schema` to rewrite the published file.
"""

from __future__ import annotations

import json
from pathlib import Path

from rules import vocabulary
from rules.types import Type

SCHEMA_ID = "https://takedown.invalid/schema/evidence/1.json"
SCHEMA_PATH = Path(__file__).with_name("evidence.schema.json")

MAX_TEXT = 20_000
MAX_POSTS = 5_000
MAX_LIST = 500

PLATFORMS = ["meta", "facebook", "instagram", "threads", "youtube", "tiktok", "x", "twitter",
             "telegram"]

# Documents name the flagged target "target"; conditions call it `page`.
_DOCUMENT_NAMES = {"page": "target"}

_DESCRIPTIONS = {
    "request": "The takedown request: who asks, when, on what grounds, for what.",
    "request.id": "The referrer's own reference for the request.",
    "request.submitted": "The date the request was (or will be) submitted: it selects the rule-set versions in force.",
    "request.referrer": "Who submits the request.",
    "request.grounds": "The legal grounds claimed, e.g. 'Immigration Act 1971 s25'.",
    "request.asks": "The action asked for.",
    "request.notice": "What the notice itself contains (EU DSA Art. 16 elements).",
    "referrer.kind": "law_enforcement, trusted_flagger, ngo, journalist (a reporter flagging what an investigation found), government (a ministry, a regulator, a member of parliament or another public office), international_organisation (a UN agency, the IOM) or user.",
    "referrer.jurisdiction": "ISO 3166-1 alpha-2 country code of the referrer, e.g. GB, FR.",
    "referrer.trusted_flagger": "Whether the referrer holds trusted-flagger status with the platform.",
    "notice.explanation": "The explanation of why the content is alleged to be illegal.",
    "notice.urls": "The exact URLs the notice names.",
    "notice.good_faith": "Whether the notice states a bona fide belief that it is accurate and complete.",
    "page": "The flagged target: a page, group, channel or account (or a single post's author).",
    "page.platform": "The platform or surface: meta, facebook, instagram, threads, youtube, tiktok, x, twitter (X before its 2023 rename), telegram.",
    "page.kind": "page, group, channel, account or post (a single post flagged on its own).",
    "page.followers": "Followers or members.",
    "page.created": "When the target was created.",
    "page.signals": "What analysts or extractors assessed about the target as a whole. An absent signal is unknown.",
    "page.context": "Context of the target as a whole (a news outlet, an NGO...).",
    "page.posts": "The posts flagged or reviewed.",
    "page_signals.advertises_smuggling": "Its name, cover or description themselves advertise smuggling.",
    "page_signals.dedicated": "Its purpose, as a whole, is selling crossings, documents or people.",
    "page_signals.prior_strikes": "Strikes the platform already recorded against it, if known.",
    "page_signals.other_posts_violate": "Its posts not listed here were reviewed: false if none of them breaks a policy, true if some do. Absent: not reviewed.",
    "post.posted": "The date the post was published.",
    "post.language": "ISO 639 code of the post's language (en, fr, ar, ckb, fa, sq, vi, ps, tr...).",
    "post.translation": "An English translation of the text.",
    "post.by_admin": "Posted by the page's own admin (not a visitor).",
    "post.signals": "What analysts or extractors assessed about the post. An absent signal is unknown.",
    "post.context": "Context that may bring the post under an allowance.",
    "signals.offers_crossing": "Offers or sells a crossing (boat, lorry, flight).",
    "signals.solicits_smuggling": "Asks to be smuggled, or asks for a smuggler.",
    "signals.offers_documents": "Offers passports, visas, ID cards or other papers.",
    "signals.document_kinds": "passport, visa, id_card, residence_permit, driving_licence...",
    "signals.offers_visa": "Sells a visa or a residence permit.",
    "signals.guarantees_visa": "Guarantees that a visa will be approved.",
    "signals.offers_work": "Offers work, or promises work or housing on arrival.",
    "signals.price": "The price asked.",
    "signals.contacts": "Contact channels given.",
    "signals.route": "The route offered.",
    "signals.guarantee": "Claims such as '100% safe', 'guaranteed', 'no chance of failure'.",
    "signals.payment": "on_arrival, hawala, bank_transfer, cash, crypto...",
    "signals.code_words": "Code words seen (boza, harga, taxi...).",
    "signals.emojis": "Emojis used as signals (boat, flags, landmarks).",
    "signals.paid_promotion": "Someone was paid by a smuggler to post it.",
    "signals.promotes_smuggling": "Promotes smuggling without offering a trip itself: shows a smuggled crossing or arrival as a success to draw customers, gives a guide to getting past border controls, or praises a smuggler's service. A migrant's own account of a journey, told for its own sake, is not promotion (context.own_journey).",
    "signals.offers_person": "Offers a person for sale, for hire or for transfer to someone else (a worker, a maid, a child, a bride).",
    "signals.minor_involved": "The person offered, recruited, married or exploited is under 18.",
    "signals.coercion": "The person concerned is subject to force, threats, fraud or coercion, or cannot freely consent.",
    "signals.deceptive_job_offer": "A job offer that lies about the work, the pay, the employer or the conditions.",
    "signals.debt_bondage": "The person must work off a debt: the journey, a recruitment fee, board or lodging.",
    "signals.domestic_servitude": "Domestic workers held or traded on servile terms: papers kept, no days off, resold.",
    "signals.marriage_offer": "Arranges, offers or seeks a spouse for someone else, or offers someone in marriage.",
    "signals.organ_sale": "Offers to buy or sell a human organ, or recruits paid donors.",
    "signals.sexual_exploitation": "Recruits, offers or sells a person for sex by force, fraud or coercion, or a minor for sex.",
    "signals.commercial_sex": "A third party (not the person selling sex) recruits for, arranges or profits from someone's commercial sex.",
    "signals.high_risk_location": "The work offered is in a place that law enforcement, NGOs or trusted partners flag as high-risk for labour exploitation.",
    "context.humanitarian_info": "Humanitarian information (shelter, food, medical help).",
    "context.safety_info": "Information about personal safety.",
    "context.asylum_info": "Information about claiming asylum.",
    "context.news_reporting": "News reporting, including journalists quoting adverts.",
    "context.condemnation": "Condemns smuggling, trafficking or the exploitation it shows.",
    "context.awareness": "Raises awareness of smuggling or trafficking and their dangers.",
    "context.own_journey": "A migrant showing or telling their own journey.",
    "contact.kind": "whatsapp, telegram, signal, viber, phone, email, dm...",
    "route.mode": "boat, jet_boat, lorry, car, flight, foot.",
}


def _field_schema(record: str, name: str, t: Type, path: str) -> dict:
    description = _DESCRIPTIONS.get(f"{record}.{name}") or _DESCRIPTIONS.get(path)
    schema = _type_schema(t, path)
    if description:
        schema = {"description": description, **schema}
    return schema


def _type_schema(t: Type, path: str) -> dict:
    match t.kind:
        case "bool":
            return {"type": "boolean"}
        case "number":
            if t.unit == "count":
                return {"type": "integer", "minimum": 0}
            if t.unit == "ratio":
                return {"type": "number", "minimum": 0, "maximum": 1}
            return {"type": "number"}
        case "text":
            return {"type": "string", "maxLength": MAX_TEXT}
        case "date":
            return {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
        case "money":
            return {"$ref": "#/$defs/money"}
        case "list":
            assert t.element is not None, "a list type always has an element type"
            limit = MAX_POSTS if path.endswith("posts") else MAX_LIST
            return {"type": "array", "maxItems": limit, "items": _type_schema(t.element, path)}
        case "record":
            return {"$ref": f"#/$defs/{t.name}"}
    raise AssertionError(t)


_REQUIRED = {
    "request": ["id", "submitted"],
    "page": ["platform", "kind"],
    "post": ["id"],
    "contact": ["kind"],
}


def _record_schema(name: str) -> dict:
    fields = vocabulary.RECORDS[name]
    properties = {field: _field_schema(name, field, t, f"{name}.{field}")
                  for field, t in fields.items() if (name, field) not in vocabulary.DERIVED}
    schema: dict = {"type": "object"}
    if name in _DESCRIPTIONS:
        schema["description"] = _DESCRIPTIONS[name]
    schema["properties"] = properties
    if name in _REQUIRED:
        schema["required"] = _REQUIRED[name]
    # Free annotations: keys starting with "_" or "x-" are kept and ignored.
    schema["patternProperties"] = {"^(_|x-)": {}}
    schema["additionalProperties"] = False
    return schema


def build_schema() -> dict:
    defs = {name: _record_schema(name) for name in vocabulary.RECORDS
            if name != "policy_result"}
    defs["page"]["properties"]["platform"] = {
        "description": _DESCRIPTIONS["page.platform"], "enum": PLATFORMS}
    defs["page"]["properties"]["kind"] = {
        "description": _DESCRIPTIONS["page.kind"],
        "enum": ["page", "group", "channel", "account", "post"]}
    defs["referrer"]["properties"]["kind"] = {
        "description": _DESCRIPTIONS["referrer.kind"],
        "enum": ["law_enforcement", "trusted_flagger", "ngo", "journalist", "government",
                 "international_organisation", "user"]}
    defs["referrer"]["properties"]["jurisdiction"] = {
        "description": _DESCRIPTIONS["referrer.jurisdiction"], "type": "string",
        "pattern": "^[A-Z]{2}$"}
    # "context": "none" says the context was assessed and no allowance applies: every
    # context flag is false; "signals": "none" says the same of every yes/no signal.
    # Leaving either out leaves every flag unknown.
    for record in ("post", "page"):
        defs[record]["properties"]["context"] = {
            "description": _DESCRIPTIONS[f"{record}.context"] + ' "none": assessed, and none applies.',
            "anyOf": [{"$ref": "#/$defs/context"}, {"const": "none"}]}
        signals = "signals" if record == "post" else "page_signals"
        defs[record]["properties"]["signals"] = {
            "description": _DESCRIPTIONS[f"{record}.signals"]
            + ' "none": assessed, and nothing found: every yes/no signal is false, every '
            'list (contacts, code words, emojis) empty.',
            "anyOf": [{"$ref": f"#/$defs/{signals}"}, {"const": "none"}]}
    defs["money"] = {
        "description": "An amount in one currency (ISO 4217 code).",
        "type": "object",
        "properties": {"amount": {"type": "number", "minimum": 0},
                       "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "required": ["amount", "currency"],
        "additionalProperties": False,
    }
    defs["annotation"] = {
        "description": "An analyst's mark on a span of a post's text.",
        "type": "object",
        "properties": {
            "by": {"type": "string", "description": "Who marked it (an analyst id)."},
            "post": {"type": "string", "description": "The id of the post marked."},
            "field": {"enum": ["text", "translation"], "default": "text",
                      "description": "Which text of the post the span is in."},
            "span": {"type": "array", "items": {"type": "integer", "minimum": 0},
                     "minItems": 2, "maxItems": 2,
                     "description": "Character offsets into the text, end exclusive."},
            "label": {"type": "string", "description": "What the span is: price, contact, route, guarantee..."},
            "note": {"type": "string"},
        },
        "required": ["post", "span", "label"],
        "patternProperties": {"^(_|x-)": {}},
        "additionalProperties": False,
    }
    defs.update(_extraction_defs())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "takedown evidence",
        "description": "The evidence about one takedown request: the request, the flagged "
                       "target and its posts, as analysts assessed them. A signal that was not "
                       "assessed is left out, and the rules treat it as unknown.",
        "type": "object",
        "properties": {
            "request": {"$ref": "#/$defs/request"},
            "target": {"$ref": "#/$defs/page"},
            "annotations": {"type": "array", "maxItems": 10_000,
                            "items": {"$ref": "#/$defs/annotation"}},
            "extraction": {"$ref": "#/$defs/extraction"},
        },
        "required": ["request", "target"],
        "patternProperties": {"^(_|x-|\\$schema$)": {}},
        "additionalProperties": False,
        "$defs": defs,
    }


def _extraction_defs() -> dict:
    """The record `takedown extract` leaves in the evidence it enriches (engine.extraction):
    which signals it wrote, on what spans, how sure; what it found but left to the
    analyst; and context it only suggests."""
    span = {
        "description": "A stretch of text a finding rests on.",
        "type": "object",
        "properties": {
            "pointer": {"type": "string", "description": "The text: /target/posts/0/text, /target/name..."},
            "start": {"type": "integer", "minimum": 0, "description": "Offset of the first character, in characters."},
            "end": {"type": "integer", "minimum": 0, "description": "Offset just past the last character."},
            "text": {"type": "string", "description": "The characters between start and end."},
            "label": {"type": "string", "description": "What they were read as: price (symbol), contact: whatsapp, crossing: boat..."},
        },
        "required": ["pointer", "start", "end", "text"],
        "additionalProperties": False,
    }
    signal = {
        "description": "One signal the extractor established, or a context it suggests.",
        "type": "object",
        "properties": {
            "pointer": {"type": "string", "pattern": "^/target/",
                        "description": "Where the value sits in this document."},
            "fact": {"type": "string", "description": "The vocabulary path, e.g. post.signals.price."},
            "post": {"type": ["string", "null"], "description": "The post's id; null for the target."},
            "value": {"description": "The value written (or suggested)."},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": "How sure the extractor is (docs/extraction.md)."},
            "method": {"type": "string", "description": "How it was found: price, contacts, words, offer, request, absent, not-an-offer, cue."},
            "spans": {"type": "array", "items": {"$ref": "#/$defs/extraction_span"}},
        },
        "required": ["pointer", "fact", "value", "confidence"],
        "additionalProperties": False,
    }
    return {
        "extraction_span": span,
        "extracted_signal": signal,
        "extraction": {
            "description": "What signal extraction (takedown extract) wrote into this evidence. "
                           "Signals listed under `signals` whose value is still the one "
                           "written are reported by decisions as extracted.",
            "type": "object",
            "properties": {
                "extractor": {"type": "object", "description": "The extractor's name, version and the rule-set lexicons it read."},
                "signals": {"type": "array", "items": {"$ref": "#/$defs/extracted_signal"},
                            "description": "The signals written where analysts had left them out."},
                "suggestions": {"type": "array", "items": {"$ref": "#/$defs/extracted_signal"},
                                "description": "Context cues: suggestions for an analyst, never written into the evidence."},
                "kept": {"type": "array", "items": {"type": "object"},
                         "description": "Signals found where an analyst's value already stood: the analyst's was kept."},
                "diagnostics": {"type": "array", "items": {"type": "object"},
                                "description": "What could not be read (X001, X002)."},
            },
            "patternProperties": {"^(_|x-)": {}},
            "additionalProperties": False,
        },
    }


def render() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
