"""The evidence vocabulary: every field a condition may read, with its type.

This is the one description of evidence shared by the language and the engine: the
checker resolves paths such as `post.signals.price` against it, and the engine's
evidence schema (engine/evidence.schema.json) is tested against it, so a field cannot
exist in one and not the other.

A condition names the flagged target `page` whatever it is (a page, group, channel or
account); in evidence documents it sits under "target".
"""

from __future__ import annotations

from rules.types import BOOL, COUNT, DATE, MONEY, TEXT, Type, list_of, record

__all__ = ["RECORDS", "ROOTS", "DERIVED", "EVIDENCE_KEYS", "DATE_FIELDS", "MONEY_FIELDS", "field_type",
           "all_paths"]

_SIGNALS = {
    "offers_crossing": BOOL,          # offers or sells a crossing (boat, lorry, flight)
    "solicits_smuggling": BOOL,       # asks to be smuggled, or for a smuggler
    "offers_documents": BOOL,         # offers passports, visas, ID cards or other papers
    "document_kinds": list_of(TEXT),  # passport, visa, id_card, residence_permit, ...
    "offers_visa": BOOL,              # sells a visa or a residence permit
    "guarantees_visa": BOOL,          # guarantees approval of a visa
    "offers_work": BOOL,              # offers work, or promises work or housing on arrival
    "price": MONEY,
    "contacts": list_of(record("contact")),
    "route": record("route"),
    "guarantee": BOOL,                # "100% safe", "guaranteed", "no chance of failure"
    "payment": TEXT,                  # on_arrival, hawala, bank_transfer, cash, crypto
    "code_words": list_of(TEXT),
    "emojis": list_of(TEXT),
    "paid_promotion": BOOL,           # someone paid by a smuggler to post
    "promotes_smuggling": BOOL,       # promotes smuggling without offering a trip itself
    # Trafficking and other exploitation of people (Meta's Human Exploitation policy, and
    # the trafficking lines of TikTok, X and YouTube).
    "offers_person": BOOL,            # offers a person for sale, hire or transfer
    "minor_involved": BOOL,           # the person offered, recruited or married is under 18
    "coercion": BOOL,                 # force, threats, fraud or coercion of that person
    "deceptive_job_offer": BOOL,      # a job offer that lies about the work, pay or terms
    "debt_bondage": BOOL,             # work to pay off a debt (the journey, a fee)
    "domestic_servitude": BOOL,       # domestic workers held or traded on servile terms
    "marriage_offer": BOOL,           # arranges, offers or seeks a spouse for someone else
    "organ_sale": BOOL,               # buys or sells a human organ
    "sexual_exploitation": BOOL,      # recruits or sells someone for sex by coercion, or a minor
    "commercial_sex": BOOL,           # a third party recruits for or profits from another's sex work
    "high_risk_location": BOOL,       # the work offered is where labour exploitation is flagged
}

RECORDS: dict[str, dict[str, Type]] = {
    "request": {
        "id": TEXT,
        "submitted": DATE,
        "referrer": record("referrer"),
        "grounds": list_of(TEXT),
        "asks": TEXT,                 # remove_page, remove_posts, geo_block, review
        "notice": record("notice"),
    },
    "referrer": {
        "kind": TEXT,                 # law_enforcement, trusted_flagger, ngo, journalist,
                                      # government, international_organisation, user
        "name": TEXT,
        "jurisdiction": TEXT,         # ISO 3166 code: GB, FR, ...
        "email": TEXT,
        "trusted_flagger": BOOL,      # holds trusted-flagger status with the platform
    },
    "notice": {
        "explanation": TEXT,          # why the content is alleged to be illegal
        "urls": list_of(TEXT),
        "notifier_name": TEXT,
        "notifier_email": TEXT,
        "good_faith": BOOL,           # statement that the notice is accurate and complete
    },
    "page": {
        "platform": TEXT,
        "surface": TEXT,
        "kind": TEXT,                 # page, group, channel, account, post
        "url": TEXT,
        "name": TEXT,
        "description": TEXT,
        "created": DATE,
        "followers": COUNT,
        "signals": record("page_signals"),
        "context": record("context"),
        "posts": list_of(record("post")),
        "policy": record("policy_result"),
    },
    "page_signals": {
        **_SIGNALS,
        "advertises_smuggling": BOOL,   # its name, cover or description advertise smuggling
        "name_advertises": BOOL,
        "description_advertises": BOOL,
        "cover_advertises": BOOL,
        "dedicated": BOOL,              # its purpose, as a whole, is smuggling, documents or people
        "admin_posts_violate": BOOL,
        "linked_to_removed": BOOL,      # run by the people behind a removed page
        "prior_strikes": COUNT,
        "prior_removals": COUNT,
        "other_posts_violate": BOOL,    # its posts not listed were reviewed: do any violate?
    },
    "post": {
        "id": TEXT,
        "url": TEXT,
        "posted": DATE,
        "text": TEXT,
        "language": TEXT,
        "translation": TEXT,
        "media": list_of(record("media")),
        "engagement": record("engagement"),
        "by_admin": BOOL,
        "signals": record("signals"),
        "context": record("context"),
        "policy": record("policy_result"),
    },
    "signals": dict(_SIGNALS),
    "context": {
        "humanitarian_info": BOOL,
        "safety_info": BOOL,
        "asylum_info": BOOL,
        "news_reporting": BOOL,
        "condemnation": BOOL,
        "awareness": BOOL,
        "satire": BOOL,
        "documentary": BOOL,
        "own_journey": BOOL,          # a migrant showing or telling their own journey
        "fiction": BOOL,
        "academic": BOOL,
    },
    # Filled by the engine, not by evidence: what the platform's policy rule sets concluded
    # about a post or the page, for enforcement and legal rule sets to build on.
    "policy_result": {
        "violates": BOOL,             # some policy rule holds on it with verdict `violates`
        "severe": BOOL,               # such a rule has severity `severe`
        "rules": list_of(TEXT),       # the ids of the policy rules that hold
    },
    "contact": {"kind": TEXT, "value": TEXT},
    "route": {
        "from": TEXT,
        "to": TEXT,
        "departure_points": list_of(TEXT),
        "mode": TEXT,                 # boat, jet_boat, lorry, car, flight, foot
    },
    "media": {"kind": TEXT, "description": TEXT},
    "engagement": {"likes": COUNT, "shares": COUNT, "comments": COUNT, "views": COUNT},
}

# Fields the engine derives; evidence documents do not carry them, and rule sets of kind
# `policy` cannot read them (they are what policy rule sets produce).
DERIVED = {("post", "policy"), ("page", "policy")}

# The names a condition starts from, and the record each one is.
ROOTS: dict[str, Type] = {
    "post": record("post"),
    "page": record("page"),
    "request": record("request"),
}

# Where each root sits in an evidence document.
EVIDENCE_KEYS = {"request": "request", "page": "target", "post": "posts"}


def field_type(record_name: str, field_name: str) -> Type | None:
    return RECORDS.get(record_name, {}).get(field_name)


def all_paths(root: str = "", t: Type | None = None, depth: int = 0) -> list[str]:
    """Every dotted path of the vocabulary ("post.signals.price", ...), for suggestions."""
    if t is None:
        out: list[str] = []
        for name, root_type in ROOTS.items():
            out.extend(all_paths(name, root_type, 0))
        return out
    out = [root]
    if depth > 4:
        return out
    target = t.element if t.kind == "list" else t
    if (target is not None and target.kind == "record" and target.name is not None
            and not (t.kind == "list" and depth)):
        for name, sub in RECORDS[target.name].items():
            out.extend(all_paths(f"{root}.{name}", sub, depth + 1))
    return out


def _fields_of(kind: str) -> set[tuple[str, str]]:
    return {(rec, f) for rec, fields in RECORDS.items() for f, t in fields.items()
            if t.kind == kind}


DATE_FIELDS = _fields_of("date")
MONEY_FIELDS = _fields_of("money")
