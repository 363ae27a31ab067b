"""Readable copies of an untrusted text, each remembering where its characters came from.

This module owns undoing the disguises adverts use, and nothing else: it knows no word
lists, no signals and no evidence. A `View` is a rewritten copy of a text with, for each of
its characters, the span of the original it came from, so that whatever is found in a view
is reported at its place in the text as given.

`words(text)` is the copy for word lists. The rules' own normalisation (`rules.normalize`:
NFKC, case, diacritics, Arabic-script variants, digits) runs later, inside the lexicon;
this view adds what it does not do:

- zero-width and other invisible format characters inside a word are dropped (the rules
  read a zero-width space as a word break: `bo\u200bat` would be two words);
- letters from another script that look like Latin ones (Cyrillic `а`, Greek `ο`) become
  those Latin letters, in words that mix them with Latin letters or in texts written
  mostly in Latin, using Unicode's confusables data (the `confusable_homoglyphs` package,
  generated from confusables.txt); Arabic, Persian or Cyrillic words of their own are
  left alone;
- digits and signs written for letters inside a word (`b0at`, `wh4tsapp`, `wh@tsapp`)
  become letters: 0 and 1 as confusables.txt maps them, and the leetspeak digits it does
  not cover (3 4 5 7 @ $) from a seven-entry table;
- three or more single letters separated by single spaces, dots or dashes (`b o a t`,
  `ق ا ر ب`) are joined into one word.

`numbers(text)` is the copy for amounts and phone numbers: NFKC per character (full-width
and mathematical digits), every decimal digit in any script to ASCII, the Arabic
thousands and decimal separators to `,` and `.`, keycap and variation-selector marks and
invisible format characters dropped, and the letter O written for a zero inside a run of
digits read as 0, and digits spelled out one space apart (`0 7 7 0 0 9 0 0`) joined.

Both views are built in one pass over the text, in time linear in its length; texts longer
than `MAX_CHARACTERS` are read only that far (the caller says so).
"""

from __future__ import annotations

import functools
import unicodedata
from array import array
from dataclasses import dataclass

from confusable_homoglyphs import categories, confusables

__all__ = ["MAX_CHARACTERS", "View", "words", "numbers", "is_letter"]

MAX_CHARACTERS = 100_000
"""How far into one text the extractor reads; evidence texts hold at most 20,000."""

# Digits and signs written for letters that confusables.txt does not map to letters
# (leetspeak). 0 and 1 come from the confusables data.
_LEET = {"3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_SPACED_SEPARATORS = frozenset(" .-_·")
_KEYCAP_MARKS = frozenset("\ufe0f\ufe0e\u20e3")
_ZERO_LOOKALIKES = frozenset("OoОоΟο")
_ARABIC_THOUSANDS, _ARABIC_DECIMAL = "\u066c", "\u066b"
# Scripts whose words are never read as disguised Latin, even beside Latin letters; and
# the scripts whose words are, in a text written mostly in Latin.
_OWN_SCRIPTS = frozenset({"ARABIC", "HEBREW", "DEVANAGARI", "HANGUL", "CJK", "THAI"})
_LATIN_LOOKING_SCRIPTS = frozenset({"CYRILLIC", "GREEK"})


@dataclass(frozen=True, slots=True)
class View:
    """A rewritten copy of a text: `text`, and for each of its characters the start and
    end (exclusive) of the characters of the original it came from."""

    text: str
    starts: array
    ends: array

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that the view's `[start, end)` came from."""
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else (
                self.ends[-1] if len(self.ends) else 0)
            return at, at
        return self.starts[start], self.ends[end - 1]


class _Builder:
    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.starts = array("l")
        self.ends = array("l")

    def add(self, text: str, start: int, end: int) -> None:
        if text:
            self.pieces.append(text)
            self.starts.extend([start] * len(text))
            self.ends.extend([end] * len(text))

    def view(self) -> View:
        return View("".join(self.pieces), self.starts, self.ends)


@functools.lru_cache(maxsize=8192)
def _script(char: str) -> str:
    return categories.alias(char)


def is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM"


@functools.lru_cache(maxsize=8192)
def _is_invisible(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or char == "\u200b"


@functools.lru_cache(maxsize=8192)
def _latin_lookalike(char: str) -> str | None:
    """The Latin letter `char` is confusable with, or None; Latin and common characters
    are never mapped."""
    if _script(char) in ("LATIN", "COMMON") or not char.isalpha():
        return None
    found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
    for entry in found or ():
        for glyph in entry["homoglyphs"]:
            candidate = glyph["c"]
            if len(candidate) == 1 and candidate.isascii() and candidate.isalpha():
                return candidate
    return None


@functools.lru_cache(maxsize=64)
def _digit_as_letter(char: str) -> str | None:
    if char in _LEET:
        return _LEET[char]
    found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
    for entry in found or ():
        for glyph in entry["homoglyphs"]:
            candidate = glyph["c"]
            if len(candidate) == 1 and candidate.isascii() and candidate.isalpha():
                return candidate.lower()
    return None


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char in _LEET or unicodedata.category(char)[0] == "M"


def words(text: str) -> View:
    """The copy of `text` for word lists (see the module docstring)."""
    text = text[:MAX_CHARACTERS]
    latin = other = 0
    for char in text:  # which script the text is mostly written in
        if char.isalpha():
            if char.isascii() or _script(char) == "LATIN":
                latin += 1
            else:
                other += 1
    mostly_latin = latin > other
    builder = _Builder()
    for start, end in _word_runs(text):
        _add_word(builder, text, start, end, mostly_latin)
    return _join_spaced_letters(builder.view())


def _word_runs(text: str):
    """Yield (start, end) of maximal runs of word characters, invisible characters between
    them included, and of every other character alone."""
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if _is_word_char(char):
            end = index + 1
            while end < length and (_is_word_char(text[end]) or (
                    _is_invisible(text[end]) and end + 1 < length
                    and _is_word_char(text[end + 1]))):
                end += 1
            yield index, end
            index = end
        else:
            yield index, index + 1
            index += 1


def _add_word(builder: _Builder, text: str, start: int, end: int, mostly_latin: bool) -> None:
    run = text[start:end]
    if len(run) == 1 and not _is_word_char(run):
        builder.add(run, start, end)
        return
    visible = [(i, c) for i, c in enumerate(run, start) if not _is_invisible(c)]
    has_latin = any(c.isascii() and c.isalpha() for _, c in visible)
    has_letters = any(c.isalpha() for _, c in visible)
    has_stand_ins = has_letters and any(c in _LEET or c in "01" for _, c in visible)
    is_handle = run.startswith("@") or (start > 0 and text[start - 1] == "@")
    for index, char in visible:
        out = char
        if char.isalpha() and not char.isascii() and (
                has_latin and _script(char) not in _OWN_SCRIPTS
                or mostly_latin and _script(char) in _LATIN_LOOKING_SCRIPTS):
            out = _latin_lookalike(char) or char
        elif has_stand_ins and not is_handle and (char in _LEET or char in "01"):
            out = _digit_as_letter(char) or char
        builder.add(out, index, index + 1)


def _join_spaced_letters(view: View) -> View:
    """Join spelled-out words: runs of single letters one separator apart (`b o a t`),
    where two spaces part one word from the next (`s m a l l  b o a t`), when the run
    holds three letters or more."""
    text = view.text
    builder = _Builder()
    index, length = 0, len(text)
    while index < length:
        run = _spaced_run(text, index) if _starts_single(text, index) else None
        if run is None:
            builder.add(text[index], view.starts[index], view.ends[index])
            index += 1
            continue
        letters, index = run
        previous = letters[0]
        for position in letters:
            if position < 0:  # a word break: one space, at the separator after the letter
                builder.add(" ", view.starts[previous + 1], view.ends[previous + 1])
            else:
                builder.add(text[position], view.starts[position], view.ends[position])
                previous = position
    return builder.view()


def _is_single_letter(text: str, index: int) -> bool:
    if not (0 <= index < len(text)) or not text[index].isalpha():
        return False
    before = text[index - 1] if index > 0 else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    return not before.isalnum() and not after.isalnum()


def _starts_single(text: str, index: int) -> bool:
    return _is_single_letter(text, index) and not (
        index >= 2 and text[index - 1] in _SPACED_SEPARATORS and _is_single_letter(text, index - 2))


def _spaced_run(text: str, index: int) -> tuple[list[int], int] | None:
    """The positions of the letters of the spelled-out run starting at `index`, and the
    index just past it; None when it is not one."""
    letters = [index]
    position = index
    while True:
        if (position + 2 < len(text) and text[position + 1] in _SPACED_SEPARATORS
                and _is_single_letter(text, position + 2)):
            position += 2
        elif (position + 3 < len(text) and text[position + 1: position + 3] == "  "
              and _is_single_letter(text, position + 3)
              and _is_single_letter(text, position + 5) and text[position + 4] == " "):
            letters.append(-1)  # a word break
            position += 3
        else:
            break
        letters.append(position)
    if sum(p >= 0 for p in letters) < 3:
        return None
    return letters, position + 1


@functools.lru_cache(maxsize=8192)
def _number_form(char: str) -> str:
    if char in _KEYCAP_MARKS or _is_invisible(char):
        return ""
    if char == _ARABIC_THOUSANDS:
        return ","
    if char == _ARABIC_DECIMAL:
        return "."
    if unicodedata.category(char) == "Nd":
        return str(unicodedata.decimal(char))
    folded = unicodedata.normalize("NFKC", char)
    return "".join(str(unicodedata.decimal(c)) if unicodedata.category(c) == "Nd" else c
                   for c in folded)


def numbers(text: str) -> View:
    """The copy of `text` for amounts and phone numbers (see the module docstring)."""
    text = text[:MAX_CHARACTERS]
    builder = _Builder()
    for index, char in enumerate(text):
        builder.add(_number_form(char), index, index + 1)
    return _join_spaced_digits(_zeros_for_letter_o(builder.view()))


def _join_spaced_digits(view: View) -> View:
    """Join four or more single digits one space apart (`0 7 7 0 0`, `2 7 0 0`)."""
    text = view.text
    builder = _Builder()
    index, length = 0, len(text)
    while index < length:
        if text[index].isdigit() and (index == 0 or not text[index - 1].isdigit()):
            position = index
            while (position + 2 < length and text[position + 1] == " "
                   and text[position + 2].isdigit()
                   and (position + 3 >= length or not text[position + 3].isdigit())
                   and not text[position + 1: position].isdigit()):
                position += 2
            if (position - index) // 2 + 1 >= 4 and (
                    index + 1 >= length or not text[index + 1].isdigit()):
                for digit in range(index, position + 1, 2):
                    builder.add(text[digit], view.starts[digit], view.ends[digit])
                index = position + 1
                continue
        builder.add(text[index], view.starts[index], view.ends[index])
        index += 1
    return builder.view()


def _zeros_for_letter_o(view: View) -> View:
    """Read a letter O as a zero where it sits between digits, or after digits in a run
    that goes on with digits ("9OO 338")."""
    text = view.text
    if not any(c in _ZERO_LOOKALIKES for c in text):
        return view
    chars = list(text)
    length = len(chars)
    index = 0
    while index < length:
        if chars[index] in _ZERO_LOOKALIKES:
            end = index
            while end < length and chars[end] in _ZERO_LOOKALIKES:
                end += 1
            before = chars[index - 1] if index else ""
            after = chars[end] if end < length else ""
            if before.isdigit() and (after.isdigit() or after == " " and end + 1 < length
                                     and chars[end + 1].isdigit()):
                for position in range(index, end):
                    chars[position] = "0"
            index = end
        else:
            index += 1
    return View("".join(chars), view.starts, view.ends)
