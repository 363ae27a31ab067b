"""Reading one post (its text and translation) or one page's name and description into
signals, each with the spans it rests on and a confidence.

This module owns what the words, amounts and contacts found in a text mean: which
signals they establish, which they rule out, and which context they only suggest. It
works on plain strings and knows nothing of evidence documents or pointers; the caller
(`engine.extraction.extractor`) places the findings in a document.

How each signal is decided is written in docs/extraction.md; in short:

- `price`, `contacts`, `payment`, `code_words`, `emojis`, `route` say what the text holds;
- an offer (`offers_crossing`, `offers_documents`, `offers_work`) needs words of the
  thing offered and a commercial sign (a price, a way to get in touch, payment terms, a
  guarantee, a booking word), in a post that is not a warning, a report, a request or a
  journey told (a post that names smugglers is never an advert: advertisers do not call
  themselves smugglers);
- a signal is set to false only when the text holds none of the words it is read from,
  or, for `offers_crossing`, when the crossing is named in a warning, report or journey
  with no way to book it; these carry lower confidences;
- context (news, warning, own journey, safety or asylum information) is only ever a
  suggestion with a low confidence: an allowance is never settled by the extractor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import re2
from babel import Locale

from engine.extraction import contacts as contacts_module
from engine.extraction import money, text
from engine.extraction.wordlists import Found, WordLists

__all__ = ["Finding", "Evidence", "Reading", "read_post", "read_page", "Field"]

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 8 << 20
_PERCENT_GUARANTEE = re2.compile(r"100 ?[%٪]|[%٪] ?100|💯|100 ?(?:درصد|سلنه|percent)",
                                 _OPTIONS)
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_ARROWS = frozenset("➡→⇒➔➜➝➞⟶>")
_MODES = ("jet_boat", "boat", "lorry", "flight", "car", "foot")
_PAYMENTS = ("on_arrival", "hawala", "crypto", "cash")
_DOCUMENT_KINDS = {"doc_passport": "passport", "doc_id_card": "id_card",
                   "doc_residence_permit": "residence_permit", "doc_visa": "visa",
                   "doc_driving_licence": "driving_licence"}
_VISA_KINDS = {"visa", "residence_permit"}
_SUGGESTED_CONTEXT = {"news": ("news_reporting",), "warning": ("awareness", "condemnation"),
                      "journey": ("own_journey",), "safety": ("safety_info", "humanitarian_info"),
                      "asylum": ("asylum_info",)}
# Confidences: what a finding of each kind is worth (docs/extraction.md).
FOUND_IN_TEXT = 0.95      # the thing itself is in the text: an amount, a number, a word
OFFER = 0.8               # an offer read from words and commercial signs together
ABSENT = 0.7              # none of the words a signal is read from is in the text
NOT_AN_OFFER = 0.55       # a crossing named in a warning, report or journey, unbookable
SUGGESTED = 0.3           # a context cue: a suggestion, never applied


@dataclass(frozen=True, slots=True)
class Field:
    """One text read: its name (`text`, `translation`, `name`, `description`) and content."""

    name: str
    content: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span a finding rests on: the field, offsets into it (end exclusive), the text."""

    field: str
    start: int
    end: int
    text: str
    label: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A signal's value, how sure the extractor is, how it was found, and where."""

    value: Any
    confidence: float
    method: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """What one post or page says: signals (vocabulary name -> finding), context
    suggestions, and whether a text was cut at `text.MAX_CHARACTERS`."""

    signals: dict[str, Finding] = field(default_factory=dict)
    suggestions: dict[str, Finding] = field(default_factory=dict)
    truncated: tuple[str, ...] = ()


@dataclass(slots=True)
class _Scan:
    """Everything found in one field."""

    field: Field
    words: list[Found]
    amounts: list[money.Amount]
    contacts: list[contacts_module.Contact]
    percent: list[tuple[int, int]]
    emojis: list[tuple[str, int, int, str]]
    flag_route: tuple[str, str, int, int] | None

    def of(self, *categories: str) -> list[Found]:
        return [w for w in self.words if w.category in categories]

    def evidence(self, start: int, end: int, label: str) -> Evidence:
        return Evidence(self.field.name, start, end, self.field.content[start:end], label)


def _scan(wordlists: WordLists, item: Field, regions: tuple[str, ...]) -> _Scan:
    content = item.content[:text.MAX_CHARACTERS]
    words_view = text.words(content)
    numbers_view = text.numbers(content)
    found = wordlists.find(words_view)
    invitation = not any(w.category in ("warning", "news") for w in found)
    contacts = contacts_module.find_contacts(content, numbers_view, found, regions, invitation)
    phones = [(c.start, c.end) for c in contacts if c.value and c.value.startswith("+")]
    earnings = [w for w in found if w.category == "earnings"]
    amounts = [a for a in money.find_amounts(content, numbers_view, found, wordlists.symbols)
               if not any(a.start < e and s < a.end for s, e in phones)
               and not _is_earning(a, earnings)]
    percent = [numbers_view.original(*m.span())
               for m in _PERCENT_GUARANTEE.finditer(numbers_view.text)]
    emojis, flag_route = _emojis(content, wordlists.emojis)
    return _Scan(item, found, amounts, contacts, percent, emojis, flag_route)


# How far from an amount a word saying it is earned (a salary, "a month") makes it pay
# offered, not a price asked: before it, or just after it.
EARNINGS_BEFORE, EARNINGS_AFTER = 40, 15


def _is_earning(amount: money.Amount, earnings: list[Found]) -> bool:
    return any(amount.start - EARNINGS_BEFORE <= w.end <= amount.start
               or amount.end <= w.start <= amount.end + EARNINGS_AFTER for w in earnings)


def _emojis(content: str, known: dict[str, str]):
    """The emojis that are signals, and a route read from two flags with an arrow between."""
    out: list[tuple[str, int, int, str]] = []
    flags: list[tuple[str, int, int]] = []
    index, length = 0, len(content)
    while index < length:
        char = content[index]
        code = ord(char)
        if code in _REGIONAL_INDICATORS and index + 1 < length and \
                ord(content[index + 1]) in _REGIONAL_INDICATORS:
            pair = content[index:index + 2]
            country = "".join(chr(ord(c) - 0x1F1E6 + 65) for c in pair)
            out.append((pair, index, index + 2, "flag"))
            flags.append((country, index, index + 2))
            index += 2
            continue
        if char in known:
            out.append((char, index, index + 1, known[char]))
        index += 1
    route = None
    for (first, start, end), (second, start2, end2) in zip(flags, flags[1:], strict=False):
        between = content[end:start2]
        if any(c in _ARROWS for c in between) and len(between) <= 4:
            route = (first, second, start, end2)
            break
    return out, route


def _country_name(code: str) -> str:
    return Locale.parse("en").territories.get(code, code)


def read_post(wordlists: WordLists, fields: Iterable[Field], regions: tuple[str, ...] = (),
              ) -> Reading:
    """Read a post's text and translation (or any texts of one subject) into signals."""
    scans = [_scan(wordlists, f, regions) for f in fields if f.content]
    truncated = tuple(s.field.name for s in scans if len(s.field.content) > text.MAX_CHARACTERS)
    reading = Reading(truncated=truncated)
    if not scans:
        return reading
    signals, suggestions = reading.signals, reading.suggestions
    every = [(s, w) for s in scans for w in s.words]

    def cue(*categories: str) -> list[tuple[_Scan, Found]]:
        return [(s, w) for s, w in every if w.category in categories]

    def spans(pairs, label=None) -> tuple[Evidence, ...]:
        return tuple(s.evidence(w.start, w.end, label or f"{w.category}: {w.entry}")
                     for s, w in pairs)

    # What the text holds.
    amounts = [(s, a) for s in scans for a in s.amounts]
    if amounts:
        s, a = amounts[0]
        signals["price"] = Finding({"amount": _number(a.value), "currency": a.currency},
                                   FOUND_IN_TEXT if a.how != "word" else 0.9, "price",
                                   (s.evidence(a.start, a.end, f"price ({a.how})"),))
    found_contacts = _contacts(scans)
    if found_contacts:
        signals["contacts"] = Finding([c.as_signal() for _, c in found_contacts],
                                      min(c.confidence for _, c in found_contacts), "contacts",
                                      tuple(s.evidence(c.start, c.end, _contact_label(c))
                                            for s, c in found_contacts))
    payment = sorted(((s.field.name != "text", w.start, w.category.removeprefix("pay_"), s, w)
                      for s, w in cue(*(f"pay_{p}" for p in _PAYMENTS))),
                     key=lambda item: item[:2])
    if payment:
        _, _, kind, s, w = payment[0]
        signals["payment"] = Finding(kind, 0.85, "words", spans([(s, w)]))
    code_words = cue("code_word")
    if code_words:
        signals["code_words"] = Finding(list(dict.fromkeys(w.entry for _, w in code_words)),
                                        0.85, "words", spans(code_words))
    emojis = [(s, e) for s in scans for e in s.emojis]
    if emojis:
        signals["emojis"] = Finding(list(dict.fromkeys(e[0] for _, e in emojis)), FOUND_IN_TEXT,
                                    "emoji", tuple(s.evidence(e[1], e[2], f"emoji: {e[3]}")
                                                   for s, e in emojis))
    route = _route(scans)
    if route is not None:
        signals["route"] = route

    # What the post does.
    against = cue("smuggler", "warning", "news", "journey")
    booking = cue("booking")
    seek = cue("seek")
    asylum = cue("asylum")
    guarantee_words = cue("guarantee")
    percent = [(s, p) for s in scans for p in s.percent]
    crossing_words = cue("crossing", "code_word", "vessel")
    transport = cue("transport")
    destinations = cue("destination")
    boat_emojis = [(s, e) for s, e in emojis if e[3] in ("boat", "lorry")]
    flag_route = any(s.flag_route for s in scans)
    crossing_cues = list(crossing_words)
    if transport and (destinations or flag_route):
        crossing_cues += transport
    if boat_emojis and (destinations or flag_route):
        crossing_cues += [(s, _emoji_found(e)) for s, e in boat_emojis]
    if flag_route:
        crossing_cues += [(s, Found("flags", "flag route", "", s.flag_route[2], s.flag_route[3]))
                          for s in scans if s.flag_route]
    on_arrival = cue("pay_on_arrival")
    no_papers = cue("no_papers")
    documents = [(s, w) for s, w in cue(*_DOCUMENT_KINDS) if not any(
        ss is s and n.start <= w.start and w.end <= n.end for ss, n in no_papers)]
    work = cue("work")
    if on_arrival and not crossing_cues and not documents:
        crossing_cues += on_arrival  # paying on arrival is how crossings are sold
    is_request = bool(seek) and not booking and not cue("news")
    is_against = bool(against)
    commercial = {name for name, present in (
        ("price", amounts), ("contact", found_contacts), ("payment", payment),
        ("guarantee", guarantee_words or percent), ("booking", booking)) if present}

    if guarantee_words or percent:
        if not is_against:
            evidence = spans(guarantee_words) + tuple(
                s.evidence(p[0], p[1], "guarantee: 100%") for s, p in percent)
            signals["guarantee"] = Finding(True, 0.85, "words", evidence)
    else:
        signals["guarantee"] = _absent("guarantee", scans)

    if crossing_cues and commercial and not is_against and not is_request:
        confidence = min(0.9, 0.7 + 0.05 * len(commercial))
        signals["offers_crossing"] = Finding(True, confidence, "offer",
                                             spans(crossing_cues) + _commercial_spans(
                                                 amounts, found_contacts, booking))
    elif crossing_cues and is_against and not booking and not _invites(found_contacts, every):
        signals["offers_crossing"] = Finding(False, NOT_AN_OFFER, "not-an-offer",
                                             spans(crossing_cues) + spans(against))
    elif not (crossing_cues or transport or on_arrival or seek or boat_emojis or booking
              or guarantee_words or percent or cue("smuggler")):
        signals["offers_crossing"] = _absent("crossing", scans)
    elif is_request:
        signals["offers_crossing"] = Finding(False, NOT_AN_OFFER, "request", spans(seek))

    if documents and commercial - {"booking"} and not is_against and not is_request:
        kinds = list(dict.fromkeys(_DOCUMENT_KINDS[w.category] for _, w in documents))
        evidence = spans(documents) + _commercial_spans(amounts, found_contacts, [])
        signals["offers_documents"] = Finding(True, OFFER, "offer", evidence)
        signals["document_kinds"] = Finding(kinds, OFFER, "offer", spans(documents))
        visa = [(s, w) for s, w in documents if _DOCUMENT_KINDS[w.category] in _VISA_KINDS]
        if visa:
            signals["offers_visa"] = Finding(True, OFFER, "offer", spans(visa))
            if guarantee_words or percent:
                signals["guarantees_visa"] = Finding(True, 0.75, "offer", spans(visa) + spans(
                    guarantee_words))
        else:
            signals["offers_visa"] = _absent("visa", scans)
    elif not documents:
        for name in ("offers_documents", "offers_visa", "guarantees_visa"):
            signals[name] = _absent("documents", scans)
    elif is_request:
        for name in ("offers_documents", "offers_visa", "guarantees_visa"):
            signals[name] = Finding(False, NOT_AN_OFFER, "request", spans(seek))

    if work and commercial - {"booking"} and not is_against and not is_request:
        signals["offers_work"] = Finding(True, 0.7, "offer", spans(work))
    elif not work:
        signals["offers_work"] = _absent("work", scans)

    if is_request and not asylum and (cue("smuggler") or crossing_cues or destinations
                                      or transport):
        signals["solicits_smuggling"] = Finding(True, 0.75, "request",
                                                spans(seek) + spans(cue("smuggler")))
    elif not seek:
        signals["solicits_smuggling"] = _absent("request", scans)

    if not found_contacts:
        none = _absent("contact", scans)
        signals["contacts"] = Finding([], ABSENT, "absent", none.evidence) \
            if none.value is False else none

    for category, facts in _SUGGESTED_CONTEXT.items():
        pairs = cue(category)
        for fact in facts if pairs else ():
            suggestions[fact] = Finding(True, SUGGESTED, "cue", spans(pairs))
    for name in [n for n, f in signals.items() if f.value is None]:
        del signals[name]
    return reading


def read_page(wordlists: WordLists, name: str | None, description: str | None,
              regions: tuple[str, ...] = ()) -> dict[str, Reading]:
    """Read a page's name and description, each on its own."""
    out = {}
    for label, content in (("name", name), ("description", description)):
        if content:
            out[label] = read_post(wordlists, [Field(label, content)], regions)
    return out


def advertises(reading: Reading) -> bool | None:
    """Whether a name or description advertises smuggling: an offer of a crossing or of
    papers; False when it holds no word of either; None otherwise."""
    offers = [reading.signals.get(s) for s in ("offers_crossing", "offers_documents")]
    if any(f is not None and f.value is True for f in offers):
        return True
    if all(f is not None and f.value is False and f.method == "absent" for f in offers):
        return False
    return None


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _contacts(scans: list[_Scan]) -> list[tuple[_Scan, contacts_module.Contact]]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for s in scans:
        for contact in s.contacts:
            key = (contact.kind, contact.value)
            if key not in seen:
                seen.add(key)
                out.append((s, contact))
    return out


def _contact_label(contact: contacts_module.Contact) -> str:
    detail = ", ".join(f"{k} {v}" for k, v in contact.detail if v)
    return f"contact: {contact.kind}" + (f" ({detail})" if detail else "")


def _commercial_spans(amounts, found_contacts, booking) -> tuple[Evidence, ...]:
    out = [s.evidence(a.start, a.end, "price") for s, a in amounts[:1]]
    out += [s.evidence(c.start, c.end, _contact_label(c)) for s, c in found_contacts[:2]]
    out += [s.evidence(w.start, w.end, f"booking: {w.entry}") for s, w in booking[:1]]
    return tuple(out)


def _invites(found_contacts, every) -> bool:
    """Whether the post invites the reader to get in touch, other than with a helpline."""
    safety = [(s, w) for s, w in every if w.category == "safety"]
    for s, contact in found_contacts:
        if contact.kind == "dm" or contact.value is None:
            return True
        if not any(ss is s and w.end <= contact.start for ss, w in safety):
            return True
    return False


def _emoji_found(emoji: tuple[str, int, int, str]) -> Found:
    return Found("emoji", emoji[3], "", emoji[1], emoji[2])


def _route(scans: list[_Scan]) -> Finding | None:
    route: dict[str, Any] = {}
    evidence: list[Evidence] = []
    for s in scans:
        if "to" not in route and s.flag_route:
            first, second, start, end = s.flag_route
            route["from"], route["to"] = _country_name(first), _country_name(second)
            evidence.append(s.evidence(start, end, "flags"))
        markers = {w.end for w in s.of("from_marker")}
        for w in reversed(s.of("destination")):
            if "to" in route:
                break
            before = s.field.content[max(0, w.start - 2):w.start].strip()
            if not any(m in range(w.start - 2, w.start + 1) for m in markers) and before != "'":
                route["to"] = s.field.content[w.start:w.end]
                evidence.append(s.evidence(w.start, w.end, f"destination: {w.entry}"))
        if "mode" not in route:
            for mode in _MODES:
                words = s.of(f"mode_{mode}")
                if words:
                    route["mode"] = mode
                    evidence.append(s.evidence(words[0].start, words[0].end, f"mode: {mode}"))
                    break
    if not route:
        return None
    return Finding(route, 0.75, "words", tuple(evidence))


def _absent(what: str, scans: list[_Scan]) -> Finding:
    if any(len(s.field.content) > text.MAX_CHARACTERS for s in scans):
        return Finding(None, 0.0, "unread")  # never rule anything out in a text not read whole
    return Finding(False, ABSENT, "absent", _whole(scans, f"no {what} words"))


def _whole(scans: list[_Scan], label: str) -> tuple[Evidence, ...]:
    return tuple(Evidence(s.field.name, 0, len(s.field.content), s.field.content, label)
                 for s in scans)
