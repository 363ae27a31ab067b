"""Text normalisation and lexicon matching for the operator ``TEXT mentions LEXICON``.

This module owns the canonical form of text used for matching, the word tokens cut from it,
and the ``Lexicon`` value that finds entries among those tokens. It runs on the evaluation hot
path, so it is pure Python with tables built once at import, and it never compiles a pattern
from user input: entries are compared as token tuples, not as regular expressions.

``normalize`` applies these steps, in this order (each for the reason given):

1. NFKC: compatibility forms (full-width letters, ligatures, Arabic presentation forms,
   superscript digits) become the letters people mean.
2. ``str.casefold``: case-insensitive matching, including ß -> ss and final sigma.
3. NFD, then drop every nonspacing mark (category Mn), then NFC: diacritics are written
   inconsistently online (traversée / traversee, thuyền / thuyen), and the same step removes
   Arabic harakat and tashkeel, and the dot that casefold leaves on Turkish İ.
4. Drop format characters (category Cf), which are invisible: ZWNJ U+200C and ZWJ U+200D so
   Persian words match with or without the half-space, and also soft hyphens, bidi marks and
   BOMs, which would otherwise split a word or hide one from the lexicon. The zero-width
   space U+200B is the exception: it marks a word boundary, so it becomes a space.
5. Remove Arabic tatweel U+0640: it only stretches a word for layout.
6. Unify Arabic-script letter variants, since the same word is typed with Arabic, Persian or
   Kurdish keyboards: ي ى ې ئ -> ی; ك -> ک; أ إ آ ٱ -> ا; ة ە ۀ -> ه; ؤ -> و.
7. Every decimal digit (Arabic-Indic, Persian, Devanagari, ...) -> ASCII, so phone numbers and
   prices match whatever digits they were typed in.
8. Two letters that Unicode does not decompose but that people type without their diacritic:
   Vietnamese đ -> d ("đường" is often written "duong"), and Turkish dotless ı -> i, because
   case folding without a locale already turns I into i, so without it "KAÇAKÇILIK" and
   "kaçakçılık" would not match. Turkish loses the i/ı distinction; that is the price of
   matching text whose case we cannot trust.
9. Collapse each run of whitespace to one space and strip the ends.

Steps 4 to 8 are one ``str.translate`` over the decomposed text. Tokens are maximal runs of
letters, digits and spacing or enclosing marks (``\\w`` without ``_``, plus categories Mc and
Me, which ``re`` does not count as word characters but which sit inside Indic and Burmese words).

Known limit: scripts written without spaces between words (Thai, Burmese, Chinese, Japanese)
form one token per run, so an entry only matches a whole run there.

This module must not know about rules, evidence or tracing; ``find`` is the slow path that
explanations use, and ``matches`` must never pay for it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_ENTRIES",
    "MAX_ENTRY_LENGTH",
    "Lexicon",
    "Match",
    "normalize",
    "tokens",
]

MAX_ENTRIES = 5000
"""Most entries one lexicon may hold, over all its languages."""

MAX_ENTRY_LENGTH = 200
"""Most characters one entry may have, as written."""

_PREFIX_MARK = "*"  # an entry ending in it matches any token starting with its last word

# Every mark, format character and decimal digit lies in planes 0 and 1 or in the first block
# of plane 14 (true through Unicode 15; tests/rules/test_lexicon.py checks the running
# database). Scanning only these keeps import cheap: 135 thousand code points, not 1.1 million.
_SCANNED_CODE_POINTS = (range(0x0000, 0x20000), range(0xE0000, 0xE1000))

_ZERO_WIDTH_SPACE = "\u200b"

_ARABIC_SCRIPT_VARIANTS = {
    "\u0640": None,  # ـ tatweel
    "\u064a": "\u06cc",  # ي Arabic yeh -> ی Farsi yeh
    "\u0649": "\u06cc",  # ى alef maksura
    "\u06d0": "\u06cc",  # ې Pashto e
    "\u0626": "\u06cc",  # ئ yeh with hamza above
    "\u0643": "\u06a9",  # ك Arabic kaf -> ک keheh
    "\u0623": "\u0627",  # أ alef with hamza above -> ا
    "\u0625": "\u0627",  # إ alef with hamza below
    "\u0622": "\u0627",  # آ alef with madda
    "\u0671": "\u0627",  # ٱ alef wasla
    "\u0629": "\u0647",  # ة teh marbuta -> ه heh
    "\u06d5": "\u0647",  # ە Kurdish ae
    "\u06c0": "\u0647",  # ۀ heh with yeh above
    "\u0624": "\u0648",  # ؤ waw with hamza above -> و
}
# NFD already splits the hamza and madda forms above into a bare letter and a mark; they are
# listed anyway so that the table states the whole equivalence in one place.

_UNDECOMPOSED_DIACRITICS = {
    "\u0111": "d",  # đ Vietnamese d with stroke (Đ casefolds to it)
    "\u0131": "i",  # ı Turkish dotless i
}

# Hangul vowel and final jamo join the syllable before them under NFC without being marks.
_HANGUL_JOINING_JAMO = frozenset(
    chr(code) for code in (*range(0x1161, 0x1176), *range(0x11A8, 0x11C3))
)


def _build_tables() -> tuple[dict[int, str | None], list[int]]:
    """Return the translate table for steps 4 to 8 and the spacing or enclosing marks."""
    table: dict[int, str | None] = {}
    word_marks: list[int] = []
    for code_points in _SCANNED_CODE_POINTS:
        for code in code_points:
            char = chr(code)
            category = unicodedata.category(char)
            if category in ("Mn", "Cf"):
                table[code] = None
            elif category in ("Mc", "Me"):
                word_marks.append(code)
            elif category == "Nd" and not char.isascii():
                table[code] = str(unicodedata.decimal(char))
    table[ord(_ZERO_WIDTH_SPACE)] = " "
    for source, target in (_ARABIC_SCRIPT_VARIANTS | _UNDECOMPOSED_DIACRITICS).items():
        table[ord(source)] = target
    return table, word_marks


def _char_class(code_points: Sequence[int]) -> str:
    """Return a regex character class matching exactly the sorted ``code_points``."""
    runs: list[list[int]] = []
    for code in code_points:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "[" + "".join(rf"\U{low:08x}-\U{high:08x}" for low, high in runs) + "]"


_TRANSLATION, _WORD_MARKS = _build_tables()

# `re` tests a class holding astral code points range by range, which is slow at every
# separator; so astral marks are tried only after a one-range check that the character is
# astral, and the common case stays on the fast `[^\W_]` and BMP classes.
_BMP_WORD_MARKS = _char_class([code for code in _WORD_MARKS if code < 0x10000])
_ASTRAL_WORD_MARKS = _char_class([code for code in _WORD_MARKS if code >= 0x10000])
_TOKEN = re.compile(
    rf"(?:[^\W_]|{_BMP_WORD_MARKS}|(?=[\U00010000-\U0010ffff]){_ASTRAL_WORD_MARKS})+"
)


def _canonical(text: str) -> str:
    """Return ``normalize(text)`` before whitespace is collapsed (steps 1 to 8)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    stripped = unicodedata.normalize("NFD", folded).translate(_TRANSLATION)
    return unicodedata.normalize("NFC", stripped)


def normalize(text: str) -> str:
    """Return the canonical form of ``text`` that lexicon matching compares."""
    return " ".join(_canonical(text).split())


def _split_tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(_canonical(text)))


@functools.lru_cache(maxsize=8192)
def tokens(text: str) -> tuple[str, ...]:
    """Return the word tokens of ``normalize(text)``.

    Cached, because many rules test the same post text.
    """
    # Collapsing whitespace cannot change where tokens are, so it is skipped here.
    return _split_tokens(text)


@dataclass(frozen=True, slots=True)
class Match:
    """One entry found in a text; ``start`` and ``end`` index the original text, end exclusive."""

    entry: str
    language: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Phrase:
    """An entry as the matcher sees it, filed under its first token.

    ``middle`` must follow the first token exactly, then ``last`` (equal, or a prefix of the
    token when ``is_prefix``). ``last`` is None for a single-token exact entry.
    """

    middle: tuple[str, ...]
    last: str | None
    is_prefix: bool
    entry: str
    language: str


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A named list of words and phrases per language, indexed for ``mentions``.

    Two lexicons are equal when their names and entries are; the index is derived from the
    entries and takes no part in equality or hashing. Build one with ``Lexicon.build``.
    """

    name: str
    entries: tuple[tuple[str, tuple[str, ...]], ...]
    """Pairs of language code and that language's entries, in the order given."""

    _heads: dict[str, tuple[_Phrase, ...]] = field(init=False, repr=False, compare=False)
    """Entries by first token, except those that are a single prefix."""
    _prefixes: dict[str, tuple[_Phrase, ...]] = field(init=False, repr=False, compare=False)
    """Single-token prefix entries by their prefix."""
    _prefix_lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """The distinct lengths of the keys of ``_prefixes``, ascending."""
    _never_matching: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    @classmethod
    def build(cls, name: str, entries: Mapping[str, Sequence[str]]) -> Lexicon:
        """Build a lexicon from a mapping of language code to words and phrases.

        An entry matches when its tokens occur as a contiguous run of whole tokens in a text;
        an entry ending in ``*`` matches any token starting with its last word there. A ``*``
        elsewhere in an entry is punctuation, as it is in the text.

        Raises:
            ValueError: if the entries are not lists of strings, or exceed ``MAX_ENTRIES`` or
                ``MAX_ENTRY_LENGTH``.
        """
        pairs = []
        for language, words in entries.items():
            # A lone string is a Sequence[str] too; taking it for a list of letters would build
            # a lexicon of single characters without a word of warning.
            if isinstance(words, str) or not isinstance(words, Sequence):
                raise ValueError(
                    f"lexicon {name!r}: entries for language {language!r} must be a list of "
                    f"strings, not {type(words).__name__}"
                )
            pairs.append((language, tuple(words)))
        return cls(name, tuple(pairs))

    def __post_init__(self) -> None:
        self._check_limits()
        heads: dict[str, list[_Phrase]] = {}
        prefixes: dict[str, list[_Phrase]] = {}
        never_matching = []
        for language, words in self.entries:
            for entry in words:
                is_prefix = entry.endswith(_PREFIX_MARK)
                entry_tokens = _split_tokens(entry[:-1] if is_prefix else entry)
                if not entry_tokens:
                    never_matching.append((language, entry))
                    continue
                first, *rest = entry_tokens
                if is_prefix and not rest:
                    phrase = _Phrase((), first, True, entry, language)
                    prefixes.setdefault(first, []).append(phrase)
                else:
                    last = rest.pop() if rest else None
                    phrase = _Phrase(tuple(rest), last, is_prefix, entry, language)
                    heads.setdefault(first, []).append(phrase)
        # The instance is frozen; derived fields are set once, here, and never again.
        set_field = object.__setattr__
        set_field(self, "_heads", {head: tuple(group) for head, group in heads.items()})
        set_field(self, "_prefixes", {head: tuple(group) for head, group in prefixes.items()})
        set_field(self, "_prefix_lengths", tuple(sorted({len(prefix) for prefix in prefixes})))
        set_field(self, "_never_matching", tuple(never_matching))

    def _check_limits(self) -> None:
        count = 0
        for language, words in self.entries:
            if not isinstance(language, str):
                raise ValueError(
                    f"lexicon {self.name!r}: language code {language!r} is not a string"
                )
            for entry in words:
                if not isinstance(entry, str):
                    raise ValueError(
                        f"lexicon {self.name!r}, language {language!r}: entry {entry!r} is not a "
                        "string"
                    )
                if len(entry) > MAX_ENTRY_LENGTH:
                    raise ValueError(
                        f"lexicon {self.name!r}, language {language!r}: an entry is "
                        f"{len(entry)} characters long, over the limit of {MAX_ENTRY_LENGTH} "
                        f"(it starts {entry[:40]!r})"
                    )
            count += len(words)
        if count > MAX_ENTRIES:
            raise ValueError(
                f"lexicon {self.name!r} has {count} entries, over the limit of {MAX_ENTRIES}"
            )

    @property
    def languages(self) -> tuple[str, ...]:
        """The language codes, in the order given."""
        return tuple(language for language, _ in self.entries)

    def matches(self, text: str | None) -> bool | None:
        """Return whether any entry occurs in ``text``; None when the text is unknown."""
        if text is None:
            return None
        return next(self._scan(tokens(text)), None) is not None

    def find(self, text: str) -> list[Match]:
        """Return every occurrence of every entry, with spans into ``text`` itself.

        Matches are ordered by their first token, then as the entries were given; they may
        overlap. Slower than ``matches``: it is meant for explanations.
        """
        spans = _token_spans(text)
        words = tuple(word for word, _, _ in spans)
        return [
            Match(phrase.entry, phrase.language, spans[first][1], spans[last][2])
            for first, last, phrase in self._scan(words)
        ]

    def entries_that_never_match(self) -> list[tuple[str, str]]:
        """Return (language, entry) pairs that have no tokens, such as ``"!!"`` or ``"*"``."""
        return list(self._never_matching)

    def _scan(self, words: tuple[str, ...]) -> Iterator[tuple[int, int, _Phrase]]:
        """Yield (first token index, last token index, phrase) for each occurrence, in order."""
        count = len(words)
        for index, word in enumerate(words):
            for phrase in self._heads.get(word, ()):
                last_index = index + len(phrase.middle) + (phrase.last is not None)
                if last_index >= count:
                    continue
                if phrase.middle and words[index + 1 : last_index] != phrase.middle:
                    continue
                if phrase.last is not None:
                    candidate = words[last_index]
                    if not (
                        candidate.startswith(phrase.last)
                        if phrase.is_prefix
                        else candidate == phrase.last
                    ):
                        continue
                yield index, last_index, phrase
            for length in self._prefix_lengths:
                if length > len(word):
                    break
                for phrase in self._prefixes.get(word[:length], ()):
                    yield index, index, phrase


def _token_spans(text: str) -> list[tuple[str, int, int]]:
    """Return the tokens of ``text`` with the span in ``text`` that each came from.

    The text is cut into clusters at characters that cannot interact with what precedes them
    under normalisation, so normalising cluster by cluster gives the same string as
    normalising the whole; each normalised character then remembers its cluster's span.
    """
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in _clusters(text):
        piece = _canonical_cluster(text[start:end])
        pieces.append(piece)
        starts.extend([start] * len(piece))
        ends.extend([end] * len(piece))
    return [
        (found.group(), starts[found.start()], ends[found.end() - 1])
        for found in _TOKEN.finditer("".join(pieces))
    ]


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """Yield the (start, end) spans of the normalisation clusters of ``text``."""
    start = 0
    for index in range(1, len(text)):
        if not _joins_previous(text[index]):
            yield start, index
            start = index
    if text:
        yield start, len(text)


@functools.lru_cache(maxsize=4096)
def _canonical_cluster(cluster: str) -> str:
    return _canonical(cluster)


@functools.lru_cache(maxsize=4096)
def _joins_previous(char: str) -> bool:
    """Return whether normalising ``char`` may change, or be changed by, the character before.

    True for marks and other non-starters, for characters that normalisation deletes (their
    neighbours meet once they are gone, and may compose), and for characters whose
    decomposition begins with a mark or with a joining Hangul jamo.
    """
    if _TRANSLATION.get(ord(char), char) is None:
        return True
    head = unicodedata.normalize("NFD", unicodedata.normalize("NFKD", char).casefold())[0]
    return _is_mark(char) or _is_mark(head) or head in _HANGUL_JOINING_JAMO


def _is_mark(char: str) -> bool:
    return unicodedata.combining(char) != 0 or unicodedata.category(char).startswith("M")
