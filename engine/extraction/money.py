"""Amounts of money in a text, whatever the script of their digits or of their currency.

This module owns finding amounts with their currency and reading their value. An amount
is a number in the number view (`text.numbers`: every digit system read as ASCII) beside a
currency: a symbol (£ € $ ₺ ₹, from CLDR through Babel), an ISO 4217 code (GBP, EUR), or a
currency word found by the word lists (CLDR names in each language through Babel, and the
everyday words CLDR lacks: pounds, پاوەند, bảng). Between the number and the currency may
stand a thousand word (`12 هزار پوند`, `5 bin euro`, `४० लाख`) or a glued letter (`3.5k`,
`£12k`, `3k5`). The digits are read by price-parser, which settles the decimal and
thousands separators of `2.500`, `2,500`, `3 500` and `3.5`.

An amount with no currency beside it is not reported: the signal needs one. The pattern
that finds numbers runs on RE2, in time linear in the text.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import re2
from babel import numbers as babel_numbers
from price_parser import Price

from engine.extraction.text import View
from engine.extraction.wordlists import Found

__all__ = ["Amount", "find_amounts"]

_MULTIPLIER_CATEGORIES = {"thousand": 1_000, "lakh": 100_000, "million": 1_000_000}
_MAX_AMOUNT = Decimal(10) ** 12
_GAP = 3  # most characters (spaces, colons) between a number and its currency

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 8 << 20
# A number with thousands groups (1,200 / 3 500 / 2.500,50) or plain (3000 / 3.5), and a
# glued multiplier letter with an optional digit after it (3k5 = 3,500).
_NUMBER = re2.compile(
    r"([0-9]{1,3}(?:[ ,.'\x{a0}\x{202f}][0-9]{3})+(?:[.,][0-9]{1,2})?|[0-9]+(?:[.,][0-9]+)?)"
    r"([kKmM][0-9]?)?", _OPTIONS)
_ISO_CODE = re2.compile(r"[A-Z]{3}", _OPTIONS)


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount found: value, ISO 4217 code, and its span in the original text (number,
    multiplier and currency together)."""

    value: Decimal
    currency: str
    start: int
    end: int
    how: str  # symbol, code or word: how the currency was written


def find_amounts(text: str, view: View, found: list[Found],
                 symbols: dict[str, str]) -> list[Amount]:
    """Every amount with a currency in `text`, in text order.

    `view` is `text.numbers(text)`, `found` the word lists' matches in the text (currency
    and thousand words among them), `symbols` the currency symbols.
    """
    currencies = _Words([f for f in found if f.category.startswith("currency_")])
    multipliers = _Words([f for f in found if f.category in _MULTIPLIER_CATEGORIES])
    out: list[Amount] = []
    taken_until = -1
    for match in _NUMBER.finditer(view.text):
        start, end = match.span()
        after = view.text[end:end + 1]
        if after.isalnum() or (start and view.text[start - 1].isalnum()):
            continue  # part of a word, an id or a longer number
        value = _value(match.group(1), match.group(2))
        if value is None:
            continue
        o_start, o_end = view.original(start, end)
        if o_start < taken_until:
            continue
        multiplier = _word_right_after(text, o_end, multipliers)
        if multiplier is not None:
            value *= _MULTIPLIER_CATEGORIES[multiplier.category]
            o_end = multiplier.end
        currency = (_currency_after(text, o_end, currencies, symbols)
                    or _currency_before(text, o_start, currencies, symbols))
        if currency is None or not 0 < value <= _MAX_AMOUNT:
            continue
        code, c_start, c_end, how = currency
        span = (min(o_start, c_start), max(o_end, c_end))
        out.append(Amount(value, code, span[0], span[1], how))
        taken_until = span[1]
    return out


def _value(digits: str, glued: str | None) -> Decimal | None:
    try:
        amount = Price.fromstring(digits).amount
    except (InvalidOperation, ValueError):
        return None
    if amount is None:
        return None
    if glued:
        letter, tail = glued[0], glued[1:]
        factor = 1_000 if letter in "kK" else 1_000_000
        if tail:  # 3k5: three thousand five hundred
            amount = Decimal(f"{amount}.{tail}")
        amount *= factor
    return amount


def _is_gap(text: str) -> bool:
    return len(text) <= _GAP and all(c.isspace() or c in ":\u200e\u200f\u061c" for c in text)


class _Words:
    """Words found, searchable by where they start and where they end, so that each
    number looks only at its neighbours (linear time overall)."""

    def __init__(self, words: list[Found]):
        self.by_start = sorted(words, key=lambda w: w.start)
        self.starts = [w.start for w in self.by_start]
        self.by_end = sorted(words, key=lambda w: w.end)
        self.ends = [w.end for w in self.by_end]

    def starting_near(self, position: int) -> list[Found]:
        low = bisect.bisect_left(self.starts, position)
        high = bisect.bisect_right(self.starts, position + _GAP)
        return self.by_start[low:high]

    def ending_near(self, position: int) -> list[Found]:
        low = bisect.bisect_left(self.ends, position - _GAP)
        high = bisect.bisect_right(self.ends, position)
        return self.by_end[low:high]


def _word_right_after(text: str, position: int, words: _Words) -> Found | None:
    for word in words.starting_near(position):
        if _is_gap(text[position:word.start]):
            return word
    return None


def _currency_after(text: str, position: int, words: _Words, symbols: dict[str, str]):
    """The currency written right after `position`: (code, start, end, how) or None."""
    rest = text[position:position + _GAP + 4]
    stripped = rest.lstrip(" \u00a0\u202f:\u200e\u200f")
    skipped = len(rest) - len(stripped)
    for symbol in _by_length(symbols):
        if stripped.startswith(symbol):
            start = position + skipped
            return symbols[symbol], start, start + len(symbol), "symbol"
    code = _ISO_CODE.match(stripped)
    if code and _is_currency_code(code.group()) and not stripped[3:4].isalpha():
        start = position + skipped
        return code.group(), start, start + 3, "code"
    word = _longest(w for w in words.starting_near(position)
                    if _is_gap(text[position:w.start]))
    if word is not None:
        return word.category.removeprefix("currency_"), word.start, word.end, "word"
    return None


def _currency_before(text: str, position: int, words: _Words, symbols: dict[str, str]):
    """The currency written right before `position`."""
    head = text[max(0, position - _GAP - 4):position]
    stripped = head.rstrip(" \u00a0\u202f:\u200e\u200f")
    for symbol in _by_length(symbols):
        if stripped.endswith(symbol):
            end = position - (len(head) - len(stripped))
            return symbols[symbol], end - len(symbol), end, "symbol"
    if len(stripped) >= 3 and _ISO_CODE.fullmatch(stripped[-3:]) and \
            _is_currency_code(stripped[-3:]) and not stripped[-4:-3].isalpha():
        end = position - (len(head) - len(stripped))
        return stripped[-3:], end - 3, end, "code"
    word = _longest(w for w in words.ending_near(position) if _is_gap(text[w.end:position]))
    if word is not None:
        return word.category.removeprefix("currency_"), word.start, word.end, "word"
    return None


def _longest(words) -> Found | None:
    best = None
    for word in words:
        if best is None or word.end - word.start > best.end - best.start:
            best = word
    return best


_SYMBOLS_BY_LENGTH: dict[int, list[str]] = {}


def _by_length(symbols: dict[str, str]) -> list[str]:
    key = id(symbols)
    if key not in _SYMBOLS_BY_LENGTH:
        _SYMBOLS_BY_LENGTH[key] = sorted(symbols, key=len, reverse=True)
    return _SYMBOLS_BY_LENGTH[key]


_CODES: set[str] = set()


def _is_currency_code(code: str) -> bool:
    if not _CODES:
        _CODES.update(babel_numbers.list_currencies())
    return code in _CODES
