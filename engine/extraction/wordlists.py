"""The words the extractor looks for, gathered once from three sources.

This module owns building the one lexicon the extractor matches: the rule sets' own
lexicons (`crossing`, `uk_or_member_state`, `sea_rescue`), read through the `rules` API and
never copied; the extractor's lists in `wordlists.yaml`; and currency names, currency
symbols and thousand words from CLDR, through Babel. Every list becomes part of one
`rules.Lexicon` whose language keys are `category:language` (`crossing:fr`,
`guarantee:tr`), so one pass over a text finds every word of every category, with the
rules' normalisation and matching. It knows nothing of signals or evidence.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel import numbers as babel_numbers

import rules
from engine.extraction.text import View

__all__ = ["WordLists", "Found", "RULESET_LEXICONS", "LANGUAGES", "CURRENCIES"]

WORDLISTS_PATH = Path(__file__).with_name("wordlists.yaml")

# The rule sets' lexicons the extractor reads, and the category each becomes.
RULESET_LEXICONS = {"crossing": "crossing", "uk_or_member_state": "destination",
                    "sea_rescue": "safety"}

# The languages whose CLDR currency names and number words are loaded.
LANGUAGES = ("en", "fr", "ar", "fa", "ckb", "ps", "sq", "vi", "tr", "ur", "hi", "de", "it",
             "es", "pt", "ru", "ku", "ti", "am", "so", "bn", "pa")

# Currencies whose names and symbols are recognised, in order of precedence: a symbol
# several currencies share ($, £) means the first of them.
CURRENCIES = ("GBP", "EUR", "USD", "TRY", "INR", "PKR", "VND", "CHF", "SEK", "NOK", "DKK",
              "PLN", "ALL", "IQD", "IRR", "AFN", "EGP", "LYD", "TND", "MAD", "SYP", "LBP",
              "JOD", "SAR", "AED", "CAD", "AUD", "BDT", "ERN", "ETB", "SOS")

_MAGNITUDES = {"thousand": 1_000, "lakh": 100_000, "million": 1_000_000}


@dataclass(frozen=True, slots=True)
class Found:
    """One word found: its category, the entry and language that matched, and its span in
    the original text (end exclusive)."""

    category: str
    entry: str
    language: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class WordLists:
    """Everything the extractor matches, built once."""

    lexicon: rules.Lexicon
    emojis: dict[str, str]          # emoji (without variation selector) -> group
    symbols: dict[str, str]         # currency symbol -> ISO 4217 code
    glued_multipliers: dict[str, int]  # "k" -> 1000, written right after the digits
    sources: tuple[str, ...]        # the rule-set lexicons read, "id version lexicon"

    @classmethod
    def build(cls, rulesets: Iterable[rules.RuleSet]) -> WordLists:
        """Gather the word lists; `rulesets` give the crossing, destination and distress
        words (every version of every rule set that has them, merged)."""
        entries: dict[str, list[str]] = {}
        sources = []
        for ruleset in rulesets:
            for name, category in RULESET_LEXICONS.items():
                lexicon = ruleset.lexicons.get(name)
                if lexicon is None:
                    continue
                sources.append(f"{ruleset.id} {ruleset.version} {name}")
                for language, words in lexicon.entries:
                    entries.setdefault(f"{category}:{language}", []).extend(words)
        data = dict(_own_lists())
        emojis = {}
        for group, marks in data.pop("emojis").items():
            if group != "note":
                emojis.update({mark: group for mark in marks})
        for category, languages in data.items():
            for language, words in languages.items():
                if language != "note":
                    entries.setdefault(f"{category}:{language}", []).extend(words)
        for key, words in _cldr_words().items():
            entries.setdefault(key, []).extend(words)
        entries = {key: list(dict.fromkeys(words)) for key, words in entries.items()}
        glued = {word: value for word, value in _GLUED_MULTIPLIERS.items()}
        return cls(rules.Lexicon.build("extraction", entries), emojis, _cldr_symbols(),
                   glued, tuple(sources))

    def find(self, view: View) -> list[Found]:
        """Every entry found in `view`, with spans in the original text, in text order."""
        out: dict[tuple[str, int, int], Found] = {}
        for match in self.lexicon.find(view.text):
            category, _, language = match.language.partition(":")
            start, end = view.original(match.start, match.end)
            # The same word listed in several languages is found once.
            out.setdefault((category, start, end), Found(category, match.entry, language,
                                                         start, end))
        ordered = sorted(out.values(), key=lambda f: (f.start, -f.end))
        # A word inside a longer one of the same category ("واټس" in "واټس اپ") is the
        # same mention.
        kept: list[Found] = []
        reach: dict[str, int] = {}
        for item in ordered:
            if reach.get(item.category, -1) >= item.end:
                continue
            reach[item.category] = max(reach.get(item.category, -1), item.end)
            kept.append(item)
        return kept


# Thousand and million letters written against the digits ("3k", "£12k", "100m"): CLDR's
# short compact forms, which are single letters, are only trusted glued to a number.
_GLUED_MULTIPLIERS = {"k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}


@functools.cache
def _own_lists() -> dict:
    with WORDLISTS_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _locales() -> list[Locale]:
    out = []
    for code in LANGUAGES:
        try:
            out.append(Locale.parse(code))
        except (UnknownLocaleError, ValueError):
            continue
    return out


@functools.cache
def _cldr_words() -> dict[str, list[str]]:
    """Currency names (every plural form) and the words of compact numbers (`3 هزار`,
    `5 bin`, `40 लाख`), by `category:language`."""
    out: dict[str, list[str]] = {}
    for locale in _locales():
        language = str(locale)
        for code in CURRENCIES:
            names = {babel_numbers.get_currency_name(code, count=count, locale=locale)
                     for count in (1, 2, 5, 11, 100)}
            names.discard(code)
            out.setdefault(f"currency_{code}:{language}", []).extend(sorted(names))
        for style in ("long", "short"):
            try:
                forms = locale.compact_decimal_formats[style]
            except KeyError:
                continue
            for patterns in forms.values():
                for magnitude, pattern in patterns.items():
                    word = str(getattr(pattern, "pattern", pattern)).replace("0", "")
                    word = word.replace("'", "").replace("\u00a0", " ").strip()
                    zeros = str(getattr(pattern, "pattern", pattern)).count("0")
                    value = int(magnitude) // 10 ** max(zeros - 1, 0)
                    category = {v: k for k, v in _MAGNITUDES.items()}.get(value)
                    # Short forms of one or two letters (K, B, N, Mn) read as words would
                    # be mistaken for initials: only the glued forms use them.
                    if category and len(word) > 2:
                        out.setdefault(f"{category}:{language}", []).append(word)
    return out


@functools.cache
def _cldr_symbols() -> dict[str, str]:
    """Currency symbols that are not words (£, €, $, ₺, ₹, UK£), each to the first
    currency in `CURRENCIES` that uses it."""
    out: dict[str, str] = {}
    locales = _locales()
    for code in CURRENCIES:
        for locale in locales:
            for symbol in {babel_numbers.get_currency_symbol(code, locale=locale),
                           locale.currency_symbols.get(code, "")}:
                symbol = symbol.strip()
                if symbol and not symbol.isalpha() and symbol != code and not symbol.isascii() \
                        or symbol in ("$", "US$"):
                    out.setdefault(symbol, code)
    return out
