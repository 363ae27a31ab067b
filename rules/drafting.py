"""Drafting advice for rule files that are otherwise valid: `takedown lint --drafting`.

The checks read what a reviewer of a rule file would look for before trusting it:

- W006 a citation whose paraphrase (`says`) is blank, a placeholder such as "TODO", or
  only repeats the section heading or the source's title;
- W007 a source read longer ago than `stale_after_days` before `today`, and W009 one
  whose retrieval date is after `today`;
- W008 rule text (a `says`, or a rule's title, description or message) that copies the
  cited source: it shares a run of `COPIED_WORDS` words or more with one of the source's
  `excerpts:`, its title or its note. Words are compared as `mentions` compares them
  (rules.lexicon: case, accents, punctuation and the spaces between words ignored).

The rest of a drafting review is done by the other stages on every run: a rule without
a citation, a source without `retrieved` and a parameter without `unit` are refused by
the schema (S001); an estimated figure is noted (W001); exceptions that conflict without
precedence are refused (R003); a lexicon entry that can never match is flagged (W003).

`today` is an argument: only the command line reads the clock. Nothing here prints.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from rules.diagnostics import Diagnostic
from rules.document import Document, read_document
from rules.lexicon import MAX_ENTRIES, MAX_ENTRY_LENGTH, Lexicon, tokens

__all__ = ["check_drafting", "COPIED_WORDS", "STALE_AFTER_DAYS"]

# A shared run of this many words is a copy, not a paraphrase: short enough to catch a
# copied sentence, long enough that stock phrases ("crossing a border or claiming
# asylum") do not count.
COPIED_WORDS = 8
STALE_AFTER_DAYS = 365

# Words that stand for a paraphrase still to be written.
_PLACEHOLDERS = {"todo", "tbd", "tba", "tbc", "fixme", "xxx", "placeholder", "n a", "see source",
                 "see above", "same", "same as above", "idem", "ditto", "paraphrase"}
_PLACEHOLDER_STARTS = ("todo", "tbd", "fixme", "xxx")


def check_drafting(text: str | bytes, name: str, today: datetime.date,
                   stale_after_days: int = STALE_AFTER_DAYS) -> list[Diagnostic]:
    """Drafting advice for one rule file that loads without errors.

    `name` is the file name used in diagnostics; `today` is the date sources are aged
    against. A file that cannot be read gives nothing: loading it reports why.
    """
    document, _ = read_document(text, name)
    if document is None or not isinstance(document.data, dict):
        return []
    return [*_sources(document, today, stale_after_days), *_citations(document)]


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _sources(document: Document, today: datetime.date, stale_after_days: int):
    for key, source in _mapping(document.data.get("sources")).items():
        if not isinstance(source, dict) or not isinstance(source.get("retrieved"), str):
            continue
        try:
            retrieved = datetime.date.fromisoformat(source["retrieved"])
        except ValueError:
            continue
        pointer = f"/sources/{key}/retrieved"
        age = (today - retrieved).days
        if age > stale_after_days:
            yield Diagnostic(
                "W007", f"the source `{key}` was read on {retrieved}, {age} days before "
                f"{today}", document.location(pointer), pointer=pointer,
                hint="read it again; if the text changed, update the rules (in a new version "
                "if it changed on a known date), then `retrieved`")
        elif age < 0:
            yield Diagnostic(
                "W009", f"the source `{key}` was read on {retrieved}, after {today}",
                document.location(pointer), pointer=pointer,
                hint="write the day the text was read, as YYYY-MM-DD")


def _rules(document: Document) -> Iterator[tuple[str, str, dict]]:
    """(id, pointer, data) of every rule and exception."""
    for rule_id, rule in _mapping(document.data.get("rules")).items():
        if not isinstance(rule, dict):
            continue
        yield rule_id, f"/rules/{rule_id}", rule
        for exc_id, exception in _mapping(rule.get("unless")).items():
            if isinstance(exception, dict):
                yield exc_id, f"/rules/{rule_id}/unless/{exc_id}", exception


def _cites(rule: dict, pointer: str) -> Iterator[tuple[str, dict]]:
    cites = rule.get("cites")
    if isinstance(cites, list):
        for index, citation in enumerate(cites):
            if isinstance(citation, dict):
                yield f"{pointer}/cites/{index}", citation
    elif isinstance(cites, dict):
        yield f"{pointer}/cites", cites


def _citations(document: Document) -> Iterator[Diagnostic]:
    sources = _mapping(document.data.get("sources"))
    references = {key: _References(key, source) for key, source in sources.items()
                  if isinstance(source, dict)}
    for rule_id, pointer, rule in _rules(document):
        cited: dict[str, _References] = {}
        for where, citation in _cites(rule, pointer):
            says = citation.get("says")
            source = references.get(citation.get("source"))
            if source is not None:
                cited[source.key] = source
            if not isinstance(says, str):
                continue
            problem = _placeholder(says, citation, sources.get(citation.get("source")))
            if problem:
                yield Diagnostic("W006", f"the paraphrase of `{rule_id}` {problem}",
                                 document.location(f"{where}/says"), pointer=f"{where}/says",
                                 hint="say in your own words what the clause requires or allows")
            elif source is not None:
                yield from _copies(document, f"{where}/says", says, rule_id, [source])
        for field in ("title", "description", "message"):
            if isinstance(rule.get(field), str) and cited:
                yield from _copies(document, f"{pointer}/{field}", rule[field], rule_id,
                                   list(cited.values()))


def _placeholder(says: str, citation: dict, source) -> str:
    words = " ".join(tokens(says))
    if not words:
        return "is empty" if not says.strip() else f"has no words: {says.strip()!r}"
    if words in _PLACEHOLDERS or words.split()[0] in _PLACEHOLDER_STARTS:
        return f"is a placeholder: {says.strip()!r}"
    section = citation.get("section")
    if isinstance(section, str) and words == " ".join(tokens(section)):
        return "only repeats the section heading"
    title = source.get("title") if isinstance(source, dict) else None
    if isinstance(title, str) and words == " ".join(tokens(title)):
        return "only repeats the source's title"
    return ""


class _References:
    """A source's own words, indexed for runs of `COPIED_WORDS` words: its excerpts,
    title and note."""

    def __init__(self, key: str, source: dict):
        self.key = key
        self.texts: list[tuple[str, list[Lexicon]]] = []
        excerpts = source.get("excerpts")
        if not isinstance(excerpts, list):
            excerpts = []
        named = [(f"excerpt {i + 1}", e) for i, e in enumerate(excerpts)]
        named += [("the title", source.get("title")), ("the note", source.get("note"))]
        for label, text in named:
            if isinstance(text, str):
                lexicons = _windows(text)
                if lexicons:
                    self.texts.append((label, lexicons))

    def runs(self, text: str) -> Iterator[tuple[str, int, int]]:
        """(which text, start, end) of each maximal run of `text` copied from one of them."""
        for label, lexicons in self.texts:
            spans = sorted((m.start, m.end) for lexicon in lexicons for m in lexicon.find(text))
            merged: list[list[int]] = []
            for start, end in spans:
                if merged and start < merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            for start, end in merged:
                yield label, start, end


def _windows(text: str) -> list[Lexicon]:
    """Lexicons whose entries are the runs of `COPIED_WORDS` words of `text`: matching
    one in another text finds a copied run, with the normalisation of `mentions`."""
    words = tokens(text)
    runs = sorted({" ".join(words[i:i + COPIED_WORDS])
                   for i in range(len(words) - COPIED_WORDS + 1)})
    runs = [run for run in runs if len(run) <= MAX_ENTRY_LENGTH]
    return [Lexicon.build("copied", {"und": runs[i:i + MAX_ENTRIES]})
            for i in range(0, len(runs), MAX_ENTRIES)]


def _copies(document: Document, pointer: str, text: str, rule_id: str,
            sources: list[_References]) -> Iterator[Diagnostic]:
    for source in sources:
        for label, start, end in source.runs(text):
            count = len(tokens(text[start:end]))
            origin = document.expression_origin(pointer, text)
            field = pointer.rsplit("/", 1)[1].replace("says", "paraphrase")
            yield Diagnostic(
                "W008", f"the {field} of `{rule_id}` copies {count} words of {label} of "
                f"source `{source.key}`",
                origin.location(start, end), pointer=pointer,
                hint="paraphrase the clause; keep the policy's own words in the source's "
                "`excerpts:` only")
            break  # one report per source and text: the first copied run
