"""Tests for rules.lexicon: normalisation per language, token matching, spans, limits, laws."""

import sys
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rules.lexicon import (
    _SCANNED_CODE_POINTS,
    MAX_ENTRIES,
    MAX_ENTRY_LENGTH,
    Lexicon,
    Match,
    _token_spans,
    normalize,
    tokens,
)


def mentions(entry: str, text: str, language: str = "en") -> bool | None:
    return Lexicon.build("test", {language: [entry]}).matches(text)


def spans(lexicon: Lexicon, text: str) -> list[str]:
    return [text[match.start : match.end] for match in lexicon.find(text)]


# --- matching, language by language -------------------------------------------------------


def test_english_phrase_matches_whatever_the_case_and_spacing():
    assert mentions("small boat", "Crossing tonight in a Small   Boat, 5 places")
    assert mentions("Small Boat", "small boat")
    assert not mentions("small boat", "boat small")


def test_phrase_tokens_must_be_contiguous():
    assert not mentions("small boat", "a small red boat")


def test_hyphen_and_punctuation_separate_tokens_in_entries_and_text_alike():
    assert mentions("people-smuggling", "stop people smuggling now")
    assert mentions("people smuggling", "People-Smuggling ring")


def test_entry_matches_whole_tokens_only():
    assert not mentions("boat", "boats leave daily")
    assert not mentions("boat", "lifeboat")
    assert mentions("boat", "the boat.")


def test_trailing_star_matches_any_token_starting_with_the_prefix():
    assert mentions("boat*", "boats leave daily")
    assert mentions("boat*", "boat")
    assert mentions("smuggl*", "SMUGGLERS wanted")
    assert not mentions("boat*", "lifeboat")
    assert not mentions("smuggl*", "smug")


def test_star_applies_to_the_last_token_of_a_phrase():
    assert mentions("small boat*", "small boats")
    assert not mentions("small* boat", "smaller boat")
    assert not mentions("small boat*", "smaller boats")


def test_star_inside_an_entry_is_punctuation_as_in_the_text():
    assert mentions("f*ck", "f*ck this")
    assert not mentions("sm*ll", "small")


def test_french_diacritics_match_either_way():
    assert mentions("traversee", "TRAVERSÉE de la Manche")
    assert mentions("traversée", "traversee de la manche")
    assert mentions("passeur", "Passeurs", language="fr") is False
    assert mentions("passeur*", "Passeurs", language="fr")


def test_arabic_harakat_and_tatweel_are_ignored():
    assert mentions("قارب صغير", "عبر قَـــارِبٍ صَغِيــرٍ الليلة", language="ar")
    assert mentions("قَارِبٌ", "قارب", language="ar")


def test_arabic_hamza_and_teh_marbuta_forms_are_unified():
    assert mentions("رحلة", "رحله بحرية", language="ar")
    assert mentions("إلى أوروبا", "الى اوروبا", language="ar")


def test_persian_and_arabic_yeh_and_kaf_match_each_other():
    assert mentions("کشتی", "كشتي", language="fa")  # entry Persian, text Arabic letters
    assert mentions("كشتي", "کشتی", language="fa")  # and the other way round
    assert mentions("مرزى", "مرزی", language="fa")  # alef maksura


def test_sorani_ae_matches_heh():
    assert mentions("بەلەم", "بهلهم", language="ckb")
    assert mentions("بهلهم", "بەلەم", language="ckb")


def test_pashto_e_matches_farsi_yeh():
    assert mentions("کښتۍ لېږد", "کښتۍ لیږد", language="ps")


def test_persian_and_arabic_indic_digits_match_ascii():
    assert mentions("0770 123", "تماس ۰۷۷۰ ۱۲۳", language="fa")
    assert mentions("0770", "اتصل ٠٧٧٠", language="ar")
    assert mentions("۰۷۷۰", "call 0770", language="fa")


def test_zero_width_non_joiner_inside_a_persian_word_is_ignored():
    assert mentions("می‌روند", "آنها میروند", language="fa")
    assert mentions("میروند", "آنها می‌روند", language="fa")
    assert tokens("می‌روند") == ("میروند",)


def test_albanian_e_with_diaeresis():
    assert mentions("varkë", "VARKE per Itali", language="sq")
    assert mentions("varke", "me varkë", language="sq")


def test_turkish_dotted_and_dotless_i_all_fold_to_i():
    # Decision: casefold turns İ into i + U+0307 and the mark is stripped; dotless ı is mapped
    # to i, because locale-free casefold turns I into i and upper-case text must still match.
    assert normalize("İı Ii") == "ii ii"
    assert mentions("istanbul", "İSTANBUL", language="tr")
    assert mentions("İstanbul", "istanbul", language="tr")
    assert mentions("kaçakçılık", "KAÇAKÇILIK", language="tr")
    assert mentions("KAÇAKÇILIK", "kacakcilik", language="tr")


def test_vietnamese_tone_marks_and_d_with_stroke_are_stripped():
    assert mentions("thuyen", "đi thuyền", language="vi")
    assert mentions("thuyền", "THUYEN", language="vi")
    assert mentions("đường dây", "Duong day", language="vi")


def test_fullwidth_and_ligature_forms_match_plain_letters():
    assert mentions("small boat", "ＳＭＡＬＬ ＢＯＡＴ")
    assert mentions("traffic", "trafﬁc")


def test_unknown_text_stays_unknown():
    assert mentions("boat", None) is None


def test_empty_text_matches_nothing():
    assert mentions("boat", "") is False


# --- normalize and tokens -----------------------------------------------------------------


def test_normalize_collapses_whitespace_and_strips_ends():
    assert normalize("  Small\t\n  BOAT \u00a0 ") == "small boat"


def test_normalize_removes_invisible_format_characters_but_zwsp_separates():
    assert normalize("sm\u00adug\u200egling") == "smuggling"
    assert tokens("boat\u200bride") == ("boat", "ride")


def test_tokens_split_on_punctuation_and_underscore_and_keep_digits():
    assert tokens("Hello, world_x 42!") == ("hello", "world", "x", "42")


def test_tokens_keep_spacing_marks_inside_a_word():
    # Devanagari vowel signs ि and ा are spacing marks (Mc); \w alone would split here.
    assert tokens("दुनिया") == (normalize("दुनिया"),)


def test_mark_and_digit_tables_cover_every_plane():
    # The module scans planes 0, 1 and the start of 14 only; this checks that assumption
    # against the Unicode database of the running Python.
    missed = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if not any(code in block for block in _SCANNED_CODE_POINTS)
        and unicodedata.category(chr(code)) in ("Mn", "Mc", "Me", "Cf", "Nd")
    ]
    assert missed == []


# --- find -------------------------------------------------------------------------------


def test_find_spans_slice_the_original_english_text():
    lexicon = Lexicon.build("boats", {"en": ["small boat", "boat*"]})
    text = "Call now: Small  Boat, boats!"
    assert lexicon.find(text) == [
        Match("small boat", "en", 10, 21),
        Match("boat*", "en", 17, 21),
        Match("boat*", "en", 23, 28),
    ]
    assert spans(lexicon, text) == ["Small  Boat", "Boat", "boats"]


def test_find_spans_keep_arabic_diacritics_and_tatweel():
    lexicon = Lexicon.build("boats", {"ar": ["قارب صغير"]})
    text = "عبر قَـــارِبٍ صَغِيرٍ الليلة"
    assert spans(lexicon, text) == ["قَـــارِبٍ صَغِيرٍ"]
    assert lexicon.find(text)[0].language == "ar"


def test_find_spans_cover_a_zwnj_inside_the_word():
    lexicon = Lexicon.build("go", {"fa": ["میروند"]})
    text = "آنها می‌روند."
    assert spans(lexicon, text) == ["می‌روند"]


def test_find_spans_of_expanded_compatibility_characters_cover_the_original():
    lexicon = Lexicon.build("boats", {"en": ["small boat"]})
    assert spans(lexicon, "ＳＭＡＬＬ ＢＯＡＴ") == ["ＳＭＡＬＬ ＢＯＡＴ"]
    assert spans(lexicon, "x e\u0301 small boat") == ["small boat"]


def test_find_reports_the_same_word_in_each_language_that_lists_it():
    lexicon = Lexicon.build("taxi", {"en": ["taxi"], "fr": ["Taxi"]})
    assert lexicon.find("TAXI") == [Match("taxi", "en", 0, 4), Match("Taxi", "fr", 0, 4)]


# --- building ---------------------------------------------------------------------------


def test_lexicon_keeps_name_languages_and_entries():
    lexicon = Lexicon.build("routes", {"en": ["boat"], "ckb": ["بەلەم"], "fa": []})
    assert lexicon.name == "routes"
    assert lexicon.languages == ("en", "ckb", "fa")
    assert lexicon.entries == (("en", ("boat",)), ("ckb", ("بەلەم",)), ("fa", ()))


def test_lexicons_with_the_same_entries_are_equal_and_hashable():
    first = Lexicon.build("routes", {"en": ["boat"]})
    second = Lexicon.build("routes", {"en": ["boat"]})
    assert first == second
    assert hash(first) == hash(second)
    assert first != Lexicon.build("routes", {"en": ["boats"]})


def test_lexicon_is_frozen():
    lexicon = Lexicon.build("routes", {"en": ["boat"]})
    with pytest.raises(AttributeError):
        lexicon.name = "other"  # type: ignore[misc]


def test_entries_without_tokens_are_reported_as_never_matching():
    lexicon = Lexicon.build("x", {"en": ["boat", "!!", "*", "  "], "ar": ["ـــ", "قارب"]})
    assert lexicon.entries_that_never_match() == [
        ("en", "!!"),
        ("en", "*"),
        ("en", "  "),
        ("ar", "ـــ"),
    ]
    assert lexicon.matches("!! * ـــ") is False


def test_entry_limits_are_inclusive():
    longest = "a" * MAX_ENTRY_LENGTH
    lexicon = Lexicon.build("x", {"en": [longest], "fr": ["b"] * (MAX_ENTRIES - 1)})
    assert lexicon.matches(longest.upper())


def test_too_many_entries_raise_value_error():
    with pytest.raises(ValueError, match=f"over the limit of {MAX_ENTRIES}"):
        Lexicon.build("x", {"en": ["a"] * MAX_ENTRIES, "fr": ["b"]})


def test_too_long_entry_raises_value_error():
    with pytest.raises(ValueError, match=f"over the limit of {MAX_ENTRY_LENGTH}"):
        Lexicon.build("x", {"en": ["a" * (MAX_ENTRY_LENGTH + 1)]})


@pytest.mark.parametrize(
    "entries",
    [
        {"en": "boat"},
        {"en": None},
        {"en": ["boat", 42]},
        {1: ["boat"]},
    ],
    ids=["string-not-list", "none", "number-entry", "number-language"],
)
def test_malformed_entries_raise_value_error(entries):
    with pytest.raises(ValueError, match="lexicon 'x'"):
        Lexicon.build("x", entries)


# --- laws -------------------------------------------------------------------------------

# Characters that interact under normalisation: marks, Hangul jamo, half-width kana voicing,
# Oriya two-part vowels, joiners, Arabic variants, Turkish i, ligatures, digits, spaces.
TRICKY = (
    "aeiIİıßǅ \t\n-_*é\u0301\u0307\u0328\u1100\u1161\u11a8\u3131\u314f\uff76\uff9e"
    "\u0b47\u0b3e\u200b\u200c\u200d\u00ad\ufdfaقارب\u064e\u0640يكةەئؤ۰٣१ﬁＡ"
)
tricky_text = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=40)

WORDS = ["boat", "Boats", "SMALL", "small", "traversée", "قارب", "كشتي", "بەلەم", "İSTANBUL"]
SEPARATORS = [" ", ", ", "-", "\u200c", "  ", "!"]
word_text = st.lists(st.sampled_from(WORDS + SEPARATORS), max_size=12).map("".join)
any_text = tricky_text | word_text
lexicon_entries = st.lists(
    st.sampled_from(WORDS) | st.sampled_from([w + "*" for w in WORDS]) | st.text(max_size=8),
    min_size=1,
    max_size=6,
)


def upper_ascii(text: str) -> str:
    return "".join(char.upper() if char.isascii() else char for char in text)


@given(st.text() | tricky_text)
def test_normalize_is_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


@given(st.text() | tricky_text)
def test_tokens_of_normalized_text_are_the_tokens_of_the_text(text):
    assert tokens(normalize(text)) == tokens(text)


@given(st.text() | tricky_text)
def test_find_tokenises_exactly_like_matches(text):
    # find maps each token back to the original text; it must see the very tokens matches sees.
    assert tuple(word for word, _, _ in _token_spans(text)) == tokens(text)


@given(lexicon_entries, any_text)
def test_matching_ignores_the_case_of_ascii_letters(entries, text):
    lexicon = Lexicon.build("x", {"en": entries})
    assert lexicon.matches(upper_ascii(text)) == lexicon.matches(text)


@given(lexicon_entries, any_text)
def test_matches_exactly_when_find_finds_something(entries, text):
    lexicon = Lexicon.build("x", {"en": entries})
    assert lexicon.matches(text) == bool(lexicon.find(text))


@given(st.text() | tricky_text | word_text, st.data())
def test_a_run_of_the_texts_own_tokens_always_matches_it(text, data):
    words = tokens(text)
    assume(words)
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first, len(words) - 1))
    entry = " ".join(words[first : last + 1])
    assume(len(entry) <= MAX_ENTRY_LENGTH)
    lexicon = Lexicon.build("x", {"en": [entry]})
    assert lexicon.matches(text)
    found = lexicon.find(text)
    assert found
    # Each reported span, normalised again, still holds the matched words in a row.
    for match in found:
        span_words = tokens(text[match.start : match.end])
        run = words[first : last + 1]
        assert any(
            span_words[i : i + len(run)] == run for i in range(len(span_words) - len(run) + 1)
        )
