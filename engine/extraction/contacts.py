"""Ways to get in touch that a text gives: phone numbers, handles, links, email addresses,
messengers named as the way to write, and invitations to write privately.

This module owns finding contacts and the kind of each. Phone numbers are cut from the
number view (every digit system read as ASCII, spaced and disguised digits rejoined) by an
RE2 pattern and read by phonenumbers: a number written with + or 00 is read in its own
country; a national number (starting with its trunk 0) is read in the first country where
it is valid, or else, for ranges phonenumbers does not hold as valid (the ranges reserved
for fiction among them), in the first of the hinted countries where it could be a mobile
number. Its kind is the messenger named just before it, or just after it in brackets,
and `phone` otherwise. Handles (`@name`) take the messenger named just before them, or
`handle`; links (t.me, wa.me, signal.me, zalo.me...) say their own kind.

Every pattern is RE2 and every search looks only at a bounded neighbourhood, so the time
is linear in the text.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import phonenumbers
import re2
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from engine.extraction.text import View
from engine.extraction.wordlists import Found

__all__ = ["Contact", "find_contacts", "DEFAULT_REGIONS"]

# Countries a national number is tried in after the hinted ones: where the adverts this
# tool reads are posted, sent from or aimed at.
DEFAULT_REGIONS = ("GB", "FR", "BE", "NL", "DE", "IT", "GR", "TR", "AL", "IQ", "IR", "AF",
                   "PK", "IN", "VN", "LY", "TN", "MA", "EG", "SY", "LB", "ER", "ET", "SO",
                   "SD", "BG", "RS", "BA", "HR", "PL", "ES", "PT", "IE", "US")
_BEFORE = 24   # characters between a messenger's name and the number or handle it names
_AFTER = 14

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 8 << 20
_PHONE = re2.compile(r"(?:\+|00)?[0-9](?:[ .\-/()]{0,2}[0-9]){6,16}", _OPTIONS)
_HANDLE = re2.compile(r"@([A-Za-z0-9_][A-Za-z0-9_.]{2,31})", _OPTIONS)
_EMAIL = re2.compile(r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*"
                     r"\.[A-Za-z]{2,24}", _OPTIONS)
_LINK = re2.compile(
    r"(?i)(?:https?://)?(?:www\.)?"
    r"(t\.me|telegram\.me|wa\.me|api\.whatsapp\.com/send\?phone=|signal\.me/#p/|"
    r"viber://chat\?number=|zalo\.me|instagram\.com|snapchat\.com/add|tiktok\.com/@)"
    r"/?(\+?[A-Za-z0-9_.%\-]{2,64})", _OPTIONS)
_LINK_KINDS = {"t.me": "telegram", "telegram.me": "telegram", "wa.me": "whatsapp",
               "api.whatsapp.com/send?phone=": "whatsapp", "signal.me/#p/": "signal",
               "viber://chat?number=": "viber", "zalo.me": "zalo",
               "instagram.com": "instagram", "snapchat.com/add": "snapchat",
               "tiktok.com/@": "tiktok"}


@dataclass(frozen=True, slots=True)
class Contact:
    """A way to get in touch: kind, value (None for a messenger named without a number or
    handle, or an invitation to write privately), span in the original text, confidence,
    and for phone numbers their country and written forms."""

    kind: str
    value: str | None
    start: int
    end: int
    confidence: float
    detail: tuple[tuple[str, str], ...] = ()

    def as_signal(self) -> dict:
        return {"kind": self.kind} if self.value is None else {"kind": self.kind,
                                                               "value": self.value}


def find_contacts(text: str, view: View, found: list[Found], regions: tuple[str, ...],
                  is_invitation: bool) -> list[Contact]:
    """Every contact in `text`, in text order, each (kind, value) once.

    `view` is `text.numbers(text)`, `found` the word lists' matches (messenger names and
    invitations among them), `regions` the countries to try national numbers in first.
    `is_invitation` says whether a messenger named alone counts as a way to write (not in
    a warning that names where scammers post).
    """
    messengers = _Messengers([f for f in found if f.category.startswith("messenger_")])
    out: list[Contact] = []
    taken = _Taken()
    for match in _LINK.finditer(text):
        contact = _link(match, text)
        if contact is not None:
            messengers.named_before(text, match.start())  # "Telegram t.me/x": named once
            out.append(contact)
            taken.append((match.start(), match.end()))
    for match in _EMAIL.finditer(text):
        if not _overlaps(match.start(), match.end(), taken):
            out.append(Contact("email", match.group().lower(), match.start(), match.end(), 0.95))
            taken.append((match.start(), match.end()))
    for match in _HANDLE.finditer(text):
        start, end = match.span()
        if _overlaps(start, end, taken) or (start and (text[start - 1].isalnum()
                                                       or text[start - 1] in "._")):
            continue
        name = match.group(1).rstrip(".")
        end = start + 1 + len(name)
        kind = messengers.named_before(text, start) or "handle"
        out.append(Contact(kind, "@" + name.lower(), start, end,
                           0.9 if kind != "handle" else 0.8))
        taken.append((start, end))
    for match in _PHONE.finditer(view.text):
        start, end = view.original(*match.span())
        if _overlaps(start, end, taken):
            continue
        contact = _phone(match.group(), start, end, text, regions, messengers)
        if contact is not None:
            out.append(contact)
            taken.append((start, end))
    used = {id(m) for m in messengers.used}
    for found_word in messengers.words:
        if id(found_word) not in used and is_invitation and not taken.overlaps(
                found_word.start, found_word.end):
            out.append(Contact(found_word.category.removeprefix("messenger_"), None,
                               found_word.start, found_word.end, 0.75))
    named_channels = [(w.start, w.end) for w in messengers.words] + [
        (c.start, c.end) for c in out if c.kind not in ("handle", "email") and c.value]
    for invitation in (f for f in found if f.category == "dm"):
        if not any(abs(invitation.start - e) <= _AFTER or abs(s - invitation.end) <= _AFTER
                   for s, e in named_channels):
            out.append(Contact("dm", None, invitation.start, invitation.end, 0.8))
    out.sort(key=lambda c: c.start)
    seen: set[tuple[str, str | None]] = set()
    unique = []
    for contact in out:
        key = (contact.kind, contact.value)
        if key not in seen:
            seen.add(key)
            unique.append(contact)
    return unique


class _Messengers:
    """Messenger names found, searchable by position; remembers the ones that named a
    number or handle."""

    def __init__(self, words: list[Found]):
        self.words = sorted(words, key=lambda w: w.start)
        self.ends = [w.end for w in self.words]
        self.starts = [w.start for w in self.words]
        self.used: list[Found] = []

    def named_before(self, text: str, position: int) -> str | None:
        index = bisect.bisect_right(self.ends, position) - 1
        while index >= 0 and self.words[index].end > position - _BEFORE:
            word = self.words[index]
            between = text[word.end:position]
            if not any(c.isdigit() or c == "@" for c in between):
                self.used.append(word)
                return word.category.removeprefix("messenger_")
            index -= 1
        return None

    def named_after(self, text: str, position: int) -> str | None:
        index = bisect.bisect_left(self.starts, position)
        if index < len(self.words) and self.words[index].start - position <= _AFTER:
            word = self.words[index]
            between = text[position:word.start]
            if not any(c.isalnum() for c in between):
                self.used.append(word)
                return word.category.removeprefix("messenger_")
        return None


class _Taken:
    """Spans already claimed by a contact, kept sorted; spans never overlap each other."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def append(self, span: tuple[int, int]) -> None:
        index = bisect.bisect_left(self.starts, span[0])
        self.starts.insert(index, span[0])
        self.ends.insert(index, span[1])

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self.starts, end)
        return index > 0 and self.ends[index - 1] > start


def _overlaps(start: int, end: int, taken: _Taken) -> bool:
    return taken.overlaps(start, end)


def _link(match, text: str) -> Contact | None:
    site, path = match.group(1).lower(), match.group(2)
    kind = _LINK_KINDS.get(site)
    if kind is None:
        return None
    start, end = match.span()
    if kind in ("whatsapp", "signal", "viber", "zalo") and path.lstrip("+").isdigit():
        number = _parse("+" + path.lstrip("+"), None)
        if number is None:
            return None
        return Contact(kind, phonenumbers.format_number(number, PhoneNumberFormat.E164),
                       start, end, 0.95, _phone_detail(number))
    name = path.split("?")[0].rstrip("._-")
    if not name or name.startswith(("+", "joinchat")):
        return Contact(kind, None, start, end, 0.9)
    return Contact(kind, "@" + name.lower(), start, end, 0.95)


def _parse(digits: str, region: str | None):
    try:
        return phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None


def _phone(written: str, start: int, end: int, text: str, regions: tuple[str, ...],
           messengers: _Messengers) -> Contact | None:
    digits = "".join(c for c in written if c.isdigit())
    if written.startswith("+") or written.startswith("00"):
        number = _parse("+" + digits[2:] if written.startswith("00") else "+" + digits, None)
        if number is None or not phonenumbers.is_possible_number(number):
            return None
        confidence = 0.97 if phonenumbers.is_valid_number(number) else 0.9
    elif digits.startswith("0") and 9 <= len(digits) <= 12:
        number, confidence = _national(digits, regions)
        if number is None:
            return None
    else:
        return None
    kind = messengers.named_before(text, start) or messengers.named_after(text, end) or "phone"
    return Contact(kind, phonenumbers.format_number(number, PhoneNumberFormat.E164), start, end,
                   confidence, _phone_detail(number))


def _national(digits: str, regions: tuple[str, ...]):
    """Read a national number: valid in a hinted country or in GB or FR; else, for ranges
    valid nowhere there (fiction's among them), a possible mobile number of GB, FR or a
    hinted country; else valid in one of the other usual countries, with less confidence."""
    first = tuple(dict.fromkeys((*regions, "GB", "FR")))
    for region in first:
        number = _parse(digits, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return number, 0.9
    for region in tuple(dict.fromkeys(("GB", "FR", *regions))):
        number = _parse(digits, region)
        if number is not None and phonenumbers.is_possible_number_for_type(
                number, PhoneNumberType.MOBILE):
            return number, 0.8
    for region in DEFAULT_REGIONS:
        number = _parse(digits, region)
        if region not in first and number is not None and phonenumbers.is_valid_number(number):
            return number, 0.6
    return None, 0.0


def _phone_detail(number) -> tuple[tuple[str, str], ...]:
    region = phonenumbers.region_code_for_number(number) or \
        phonenumbers.region_code_for_country_code(number.country_code)
    return (("country", region or ""),
            ("international", phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)),
            ("national", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)),
            ("valid", "yes" if phonenumbers.is_valid_number(number) else "no"))
