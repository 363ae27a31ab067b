"""The shorthand analysts write, read as the evidence format's own form.

A referral is typed by people: `"Facebook"` for `facebook`, a profile for an account, a
timestamp where a date is asked, `"2,500 EUR"` for an amount, `["WhatsApp"]` for the
contacts, `"Dunkirk to Dover"` for a route, `"yes"` for true, a post without an id. None of these leaves a
doubt about what was meant, and refusing them costs a decision for nothing. Each is read
as the schema's form and listed in the decision (`evidence.read_as`, with its JSON
pointer, what was given and what it was read as), so the writer sees what was read.

What stays an error is anything that could mean two things: an amount without a currency,
`contacts: true`, an unknown field (most likely a misspelt one), a platform or a kind
that no alias names.

The reading is driven by the schema's own errors and runs only on evidence the schema
refuses: valid evidence never comes here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# Lower-cased names people write for a platform, and the schema's name.
PLATFORMS = {"fb": "facebook", "meta platforms": "meta", "ig": "instagram", "insta": "instagram",
             "yt": "youtube", "you tube": "youtube", "tik tok": "tiktok", "x.com": "x",
             "twitter.com": "twitter", "x (twitter)": "x", "twitter (x)": "x",
             "x/twitter": "x", "twitter/x": "x", "tg": "telegram", "facebook.com": "facebook",
             "instagram.com": "instagram", "youtube.com": "youtube", "tiktok.com": "tiktok",
             "t.me": "telegram"}
# What people call a target, and the schema's kind: one piece of content is a post.
KINDS = {"profile": "account", "user": "account", "handle": "account", "person": "account",
         "community": "group", "chat": "group", "supergroup": "group", "page/account": "page",
         "video": "post", "reel": "post", "short": "post", "story": "post", "comment": "post",
         "tweet": "post", "reply": "post", "photo": "post", "image": "post", "message": "post",
         "live": "post", "advert": "post", "ad": "post", "listing": "post", "status": "post"}
# Who referred it, as people write it, and the schema's kind.
REFERRERS = {"police": "law_enforcement", "law enforcement": "law_enforcement",
             "nca": "law_enforcement", "europol": "law_enforcement", "iru": "law_enforcement",
             "press": "journalist", "media": "journalist", "reporter": "journalist",
             "newspaper": "journalist", "trusted flagger": "trusted_flagger",
             "charity": "ngo", "mp": "government", "minister": "government",
             "ministry": "government", "home office": "government", "regulator": "government",
             "ofcom": "government", "un": "international_organisation",
             "iom": "international_organisation", "unhcr": "international_organisation",
             "public": "user", "member of the public": "user"}
CURRENCY_SIGNS = {"£": "GBP", "€": "EUR", "$": "USD", "us$": "USD", "₺": "TRY", "₽": "RUB",
                  "euro": "EUR", "euros": "EUR", "pounds": "GBP", "pound": "GBP",
                  "dollars": "USD", "dollar": "USD", "lira": "TRY"}
# Not read: a dinar (Iraq, Tunisia, Libya, Jordan, Algeria...), a toman (ten rials).
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
                       r"(Z|[+-]\d{2}:?\d{2})?$")
_AMOUNT = re.compile(r"^\s*(?P<before>[^\d\s]{1,8})?\s*(?P<number>\d{1,3}(?:[ ,.]\d{3})+"
                     r"|\d+)(?:[.,](?P<cents>\d{1,2}))?\s*(?P<after>[^\d\s]{1,8})?\s*$")
_ROUTE = re.compile(r"^\s*(?:from\s+)?(?P<from>[^>→]{1,200}?)\s*(?:->|→|>|\bto\b|–|—|\s-\s)"
                    r"\s*(?P<to>[^>→]{1,200}?)\s*$", re.IGNORECASE)
_BOOLEANS = {"true": True, "false": False, "yes": True, "no": False}
MAX_ROUNDS = 4  # a fix may uncover the next problem one level down


@dataclass(frozen=True, slots=True)
class Reading:
    """One piece of shorthand read as the format's form."""

    pointer: str
    given: Any
    read_as: Any
    why: str

    def as_json(self) -> dict:
        return {"pointer": self.pointer, "given": self.given, "read_as": self.read_as,
                "why": self.why}


def read_shorthand(document: Any, validator) -> tuple[Any, tuple[Reading, ...]]:
    """`document` with the shorthand the schema refuses read as its form, and what was
    read. `validator` is a `jsonschema` validator for the evidence schema. The document
    given is not changed; when nothing can be read the same object comes back."""
    if not isinstance(document, dict):
        return document, ()
    readings: list[Reading] = []
    current = document
    for _ in range(MAX_ROUNDS):
        fixes = [f for f in (_fix(e, current) for e in _leaves(validator.iter_errors(current)))
                 if f is not None]
        if not fixes:
            break
        if current is document:
            current = copy.deepcopy(document)
        for path, reading in {tuple(p): r for p, r in fixes}.items():
            _put(current, path, reading.read_as)
            readings.append(reading)
    return current, tuple(readings)


def _leaves(errors: Iterable) -> Iterable:
    for error in errors:
        if error.validator in ("anyOf", "oneOf") and error.context:
            yield from _leaves(error.context)
        else:
            yield error


def _fix(error, document: dict) -> tuple[list, Reading] | None:
    path = list(error.absolute_path)
    pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
    value = error.instance
    validator = error.validator
    if validator == "required" and path and path[:2] == ["target", "posts"] and len(path) == 3:
        missing = re.findall(r"'(\w+)' is a required property", error.message)
        if missing == ["id"]:
            taken = {str(p.get("id")) for p in document["target"]["posts"] if isinstance(p, dict)}
            new_id = next(f"p{n}" for n in range(path[2] + 1, 10**6) if f"p{n}" not in taken)
            return path + ["id"], Reading(f"{pointer}/id", None, new_id,
                                          "a post without an id is named by its place")
        return None
    if validator == "type" and path and path[-1] == "id" and isinstance(value, int) \
            and not isinstance(value, bool):
        return path, Reading(pointer, value, str(value), "an id is text")
    if validator == "type" and error.validator_value == "boolean" and isinstance(value, str) \
            and value.strip().lower() in _BOOLEANS:
        return path, Reading(pointer, value, _BOOLEANS[value.strip().lower()], "yes or no")
    if validator == "format" and error.validator_value == "date" and isinstance(value, str):
        found = _DATETIME.match(value.strip())
        if found:
            return path, Reading(pointer, value, found.group(1), "the day of a date and time")
        return None
    if validator == "enum" and isinstance(value, str) and path:
        allowed = set(error.validator_value)
        key = value.strip().lower()
        if path[-1] == "platform":
            key = PLATFORMS.get(key, key)
        elif path[-1] == "kind" and path == ["target", "kind"]:
            key = KINDS.get(key, key)
        elif path == ["request", "referrer", "kind"]:
            key = REFERRERS.get(key, key.replace(" ", "_"))
        if key in allowed and key != value:
            return path, Reading(pointer, value, key, "names are written in lower case"
                                 if key == value.strip().lower() else "another name for it")
        return None
    if validator == "type" and path:
        field = path[-1]
        parent = path[-2] if len(path) > 1 else None
        if field == "price" or _is_money_place(error):
            money = _money(value)
            if money is not None:
                return path, Reading(pointer, value, money, "an amount and its currency")
            low = _range(value)
            if low is not None:
                return path, Reading(pointer, value, low, "the lower end of a range of prices")
            return None
        if field == "route" and isinstance(value, str) and len(value) <= 400:
            found = _ROUTE.match(value)
            if found:
                route = {"from": found.group("from").strip(), "to": found.group("to").strip()}
                return path, Reading(pointer, value, route, "a route from one place to another")
            return None
        if isinstance(field, int) and parent == "contacts" and isinstance(value, str) \
                and 0 < len(value.strip()) <= 200:
            return path, Reading(pointer, value, _contact(value), "a contact by its kind")
    return None


def _is_money_place(error) -> bool:
    schema = error.schema if isinstance(error.schema, dict) else {}
    return set(schema.get("required", ())) == {"amount", "currency"}


def _money(value: Any) -> dict | None:
    """`"2,500 EUR"`, `"€2500"`, `"2500 euros"`, `"£3.000"`: an amount with a currency;
    None for anything else (a bare number has no currency)."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    found = _AMOUNT.match(value)
    if not found:
        return None
    signs = [s for s in (found.group("before"), found.group("after")) if s]
    if len(signs) != 1:
        return None
    sign = signs[0].strip().lower()
    currency = CURRENCY_SIGNS.get(sign) or (sign.upper() if re.fullmatch(r"[a-z]{3}", sign)
                                            else None)
    if currency is None:
        return None
    amount: float = int(re.sub(r"[ ,.]", "", found.group("number")))
    if found.group("cents"):
        amount += int(found.group("cents")) / 10 ** len(found.group("cents"))
    return {"amount": amount, "currency": currency}


def _range(value: Any) -> dict | None:
    """`"£1,500 to £3,000"`, `"1500-3000 EUR"`: the lower amount, in the range's currency."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    parts = re.split(r"\s*(?:–|—|-|\bto\b|\ba\b|\bbis\b)\s*", value.strip(), maxsplit=1)
    if len(parts) != 2:
        return None
    high = _money(parts[1])
    low = _money(parts[0]) or (_money(f"{parts[0]} {high['currency']}") if high else None)
    if low is None or high is None or low["currency"] != high["currency"]:
        return None
    return low if low["amount"] <= high["amount"] else None


def _contact(value: str) -> dict:
    """`"WhatsApp"` is a contact of that kind; `"+44 7700 900417"` a phone number."""
    text = value.strip()
    if re.fullmatch(r"[+\d][\d\s().-]{5,}", text):
        return {"kind": "phone", "value": text}
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", text):
        return {"kind": "email", "value": text}
    return {"kind": text.lower()}


def _put(document: Any, path: Sequence, value: Any) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value
