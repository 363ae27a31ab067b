"""The extractor: an evidence document's texts in, signals with their evidence out.

This module owns walking an evidence document (each post's text and translation, the
target's name and description), placing each finding at its JSON pointer, and the
`Extraction` value that says what was found, where, and how sure. It reads the rule sets
only through `rules` (their lexicons), never imports the command line or the service, and
never changes the document it is given: `engine.extraction.provenance` writes findings into
a copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import rules
from engine.evidence import Evidence
from engine.extraction import text
from engine.extraction.reading import Field, Finding, Reading, advertises, read_page, read_post
from engine.extraction.wordlists import WordLists

__all__ = ["Extractor", "Extraction", "Signal", "Span", "LANGUAGE_REGIONS"]

# The country whose national phone numbers a post's language suggests first.
LANGUAGE_REGIONS = {"en": "GB", "fr": "FR", "sq": "AL", "tr": "TR", "vi": "VN", "fa": "IR",
                    "ps": "AF", "ckb": "IQ", "ku": "IQ", "ur": "PK", "hi": "IN",
                    "pa": "IN", "de": "DE", "it": "IT", "ti": "ER", "am": "ET", "so": "SO"}
_ROUTE_LABELS = {"to": ("destination", "flags"), "from": ("flags",), "mode": ("mode",)}
_PAGE_SIGNALS = ("price", "contacts", "route", "emojis", "code_words", "offers_crossing",
                 "offers_documents", "document_kinds", "offers_visa", "guarantee", "payment")


@dataclass(frozen=True, slots=True)
class Span:
    """Where a finding rests: the text (a JSON pointer), offsets into it counted in
    characters (end exclusive), the characters, and what they were read as."""

    pointer: str
    start: int
    end: int
    text: str
    label: str

    def as_json(self) -> dict:
        return {"pointer": self.pointer, "start": self.start, "end": self.end,
                "text": self.text, "label": self.label}


@dataclass(frozen=True, slots=True)
class Signal:
    """One value the extractor established (or, for suggestions, only proposes)."""

    pointer: str      # where it goes in the evidence: /target/posts/0/signals/price
    fact: str         # the vocabulary path: post.signals.price
    post: str | None  # the post's id, None for the target
    value: Any
    confidence: float
    method: str       # price, contacts, words, offer, request, absent, not-an-offer, cue...
    spans: tuple[Span, ...] = ()

    def as_json(self) -> dict:
        return {"pointer": self.pointer, "fact": self.fact, "post": self.post,
                "value": self.value, "confidence": self.confidence, "method": self.method,
                "spans": [s.as_json() for s in self.spans]}


@dataclass(frozen=True, slots=True)
class Extraction:
    """What the extractor found in one evidence document."""

    signals: tuple[Signal, ...]
    suggestions: tuple[Signal, ...]
    diagnostics: tuple[rules.Diagnostic, ...] = ()
    sources: tuple[str, ...] = field(default=())

    def found(self) -> Extraction:
        """Only what the texts show: no signal ruled out because its words are absent.

        A referral quotes the part of a post that matters, and a page's name says little
        of what it does; that a quote lacks a phone number does not show the post had
        none. Where the texts are excerpts, what they do not say is left unassessed, for
        the priors to weigh; only a whole page as published (a crawl) is read for
        absences too (`found=False`, `check --extract all`).
        """
        return replace(self, signals=tuple(s for s in self.signals if s.method != "absent"))

    def as_json(self) -> dict:
        return {"extractor": {"name": "takedown", "version": rules.__version__,
                              "lexicons": list(self.sources)},
                "signals": [s.as_json() for s in self.signals],
                "suggestions": [s.as_json() for s in self.suggestions],
                "diagnostics": [d.as_json() for d in self.diagnostics]}


class Extractor:
    """Word lists gathered once (a second or two), then any number of documents read."""

    def __init__(self, wordlists: WordLists):
        self.wordlists = wordlists

    @classmethod
    def from_rulesets(cls, rulesets: Iterable[rules.RuleSet]) -> Extractor:
        """An extractor that reads crossing, destination and distress words from the
        lexicons of `rulesets` (e.g. `engine.registry`)."""
        return cls(WordLists.build(rulesets))

    def read(self, content: str | bytes, language: str | None = None,
             regions: Iterable[str] = ()) -> tuple[Reading, list[rules.Diagnostic]]:
        """Read one text on its own (a post's text with no document around it).

        Bytes must be UTF-8; otherwise nothing is read and the diagnostic (X001) says
        where the first bad byte is.
        """
        problems: list[rules.Diagnostic] = []
        if isinstance(content, bytes):
            try:
                content = content.decode("utf-8")
            except UnicodeDecodeError as error:
                return Reading(), [rules.Diagnostic(
                    "X001", f"the text is not UTF-8 (byte {error.start})",
                    rules.Location("<text>"), hint="send the text as UTF-8")]
        hints = _regions(language, regions)
        reading = read_post(self.wordlists, [Field("text", content)], hints)
        if reading.truncated:
            problems.append(_truncated("<text>", "/text"))
        return reading, problems

    def extract(self, evidence: Evidence) -> Extraction:
        """Read every post and the target's name and description of checked evidence."""
        document = evidence.document
        target = document["target"]
        jurisdiction = (document["request"].get("referrer") or {}).get("jurisdiction")
        signals: list[Signal] = []
        suggestions: list[Signal] = []
        diagnostics: list[rules.Diagnostic] = []
        post_readings: list[Reading] = []
        stated_posts: list[dict[str, Any]] = []  # what each read post is known to do
        for index, post in enumerate(target.get("posts") or ()):
            base = f"/target/posts/{index}"
            post_id = str(post.get("id", index))
            hints = _regions(post.get("language"), [jurisdiction] if jurisdiction else [])
            shown = _shown_in_media(self.wordlists, post, hints)
            known = {**_stated(post.get("signals")),
                     **{n: f.value for n, f in shown.items() if f.value is True}}
            if not (post.get("text") or post.get("translation")):
                # Nothing of the post's own words to read: nothing is ruled out, and what
                # the analyst's description of its media shows is all there is.
                signals += _placed(shown, base, "post", post_id)
                if shown:
                    post_readings.append(Reading())
                    stated_posts.append(known)
                continue
            fields = [Field("text", post.get("text") or "")]
            translation = post.get("translation")
            if translation and translation != post.get("text"):
                fields.append(Field("translation", translation))
            reading = read_post(self.wordlists, fields, hints)
            post_readings.append(reading)
            stated_posts.append(known)
            signals += _placed(reading.signals, base, "post", post_id)
            signals += _placed({name: finding for name, finding in shown.items()
                                if name not in reading.signals
                                or reading.signals[name].method == "absent"}, base, "post",
                               post_id)
            suggestions += _placed(reading.suggestions, base, "post", post_id, "context")
            diagnostics += [_truncated(evidence.name, f"{base}/{name}")
                            for name in reading.truncated]
        page = read_page(self.wordlists, target.get("name"), target.get("description"),
                         _regions(None, [jurisdiction] if jurisdiction else []))
        signals += _page_signals(page, post_readings, _stated(target.get("signals")),
                                 stated_posts)
        for label, reading in page.items():
            suggestions += _placed(reading.suggestions, "/target", "page", None, "context")
            diagnostics += [_truncated(evidence.name, f"/target/{label}")
                            for _ in reading.truncated]
        return Extraction(tuple(signals), tuple(_unique(suggestions)), tuple(diagnostics),
                          self.wordlists.sources)


def _shown_in_media(wordlists, post: Mapping[str, Any],
                    hints: tuple[str, ...]) -> dict[str, Finding]:
    """What the analyst's descriptions of a post's images and videos show: only what they
    establish (an offer, a price, a contact, a route), a little less surely than the
    post's own words. A description is the analyst's account of the media, written about
    smugglers rather than by them, so its silences and its words about smuggling rule
    nothing out."""
    fields = [Field(f"media/{i}/description", m["description"])
              for i, m in enumerate(post.get("media") or ())
              if isinstance(m, Mapping) and isinstance(m.get("description"), str)
              and m["description"].strip()]
    if not fields:
        return {}
    reading = read_post(wordlists, fields, hints)
    return {name: replace(finding, confidence=round(finding.confidence * MEDIA_DISCOUNT, 2),
                          method=f"{finding.method} in media")
            for name, finding in reading.signals.items()
            if finding.method != "absent" and finding.value not in (False, [], None)}


# What a description of a video shows is read a little less surely than the words posted.
MEDIA_DISCOUNT = 0.9


def _regions(language: str | None, extra: Iterable[str]) -> tuple[str, ...]:
    out = [r for r in extra if r]
    if language and LANGUAGE_REGIONS.get(language.split("-")[0]):
        out.append(LANGUAGE_REGIONS[language.split("-")[0]])
    return tuple(dict.fromkeys(out))


def _truncated(name: str, pointer: str) -> rules.Diagnostic:
    return rules.Diagnostic(
        "X002", f"only the first {text.MAX_CHARACTERS} characters of the text were read",
        rules.Location(name), pointer=pointer,
        hint="nothing was ruled out in it; split the text to have all of it read")


def _placed(findings: Mapping[str, Finding], base: str, subject: str, post_id: str | None,
            record: str = "signals") -> list[Signal]:
    """Findings placed at their pointers; a route is placed field by field, so that an
    analyst's route and an extracted one can each keep what they know."""
    out = []
    root = "post" if subject == "post" else "page"
    for name, finding in findings.items():
        spans = tuple({(e.field, e.start, e.end): Span(f"{base}/{e.field}", e.start, e.end,
                                                       e.text, e.label)
                       for e in finding.evidence}.values())
        if name == "route" and isinstance(finding.value, dict):
            for part, value in finding.value.items():
                own = tuple(s for s in spans if s.label.startswith(_ROUTE_LABELS[part]))
                out.append(Signal(f"{base}/{record}/route/{part}", f"{root}.{record}.route.{part}",
                                  post_id, value, finding.confidence, finding.method, own))
            continue
        out.append(Signal(f"{base}/{record}/{name}", f"{root}.{record}.{name}", post_id,
                          finding.value, finding.confidence, finding.method, spans))
    return out


def _only_handles(finding: Finding) -> bool:
    """Whether a contact found in a target's name is only its handle: an account named
    @something is not inviting contact by being named."""
    return all(isinstance(c, Mapping) and c.get("kind") == "handle" for c in finding.value)


def _stated(signals: Any) -> dict[str, Any]:
    """The signals an analyst stated in a record (`"none"`: every yes/no one is false)."""
    if signals == "none":
        return dict.fromkeys(_STATED_OFFERS + _STATED_PAGE, False)
    return signals if isinstance(signals, dict) else {}


_STATED_OFFERS = ("offers_crossing", "offers_documents", "solicits_smuggling")
_STATED_PAGE = ("name_advertises", "description_advertises", "advertises_smuggling")


def _page_signals(page: dict[str, Reading], posts: list[Reading], stated: Mapping[str, Any],
                  stated_posts: Sequence[Mapping[str, Any]]) -> list[Signal]:
    """The target's own signals: what its name and description offer, whether they
    advertise smuggling, and whether it is dedicated to it as far as its posts show.
    What the analyst stated counts as read: nothing inferred here contradicts it."""
    out: list[Signal] = []
    verdicts: dict[str, bool | None] = {}
    for label, reading in page.items():
        verdict = advertises(reading)
        own = stated.get(f"{label}_advertises")
        verdicts[label] = own if isinstance(own, bool) else verdict
        evidence = [e for name in ("offers_crossing", "offers_documents")
                    for e in (reading.signals[name].evidence if name in reading.signals else ())]
        if verdict is not None:
            out += _placed({f"{label}_advertises": Finding(
                verdict, 0.75 if verdict else 0.6, "offer" if verdict else "absent",
                tuple(evidence))}, "/target", "page", None)
        positive = {name: f for name, f in reading.signals.items()
                    if name in _PAGE_SIGNALS and f.value not in (False, [], None)
                    and not (label == "name" and name == "contacts" and _only_handles(f))}
        out += _placed(positive, "/target", "page", None)
    out = _unique(out)
    for label in ("name", "description"):
        own = stated.get(f"{label}_advertises")
        if isinstance(own, bool):
            verdicts[label] = own
    advertised = (any(v is True for v in verdicts.values())
                  or stated.get("advertises_smuggling") is True
                  or stated.get("offers_crossing") is True)
    clean = (not advertised and bool(verdicts) and all(v is False for v in verdicts.values())
             and stated.get("advertises_smuggling") is not True)
    spans = tuple(span for s in out if s.fact.endswith("_advertises") and s.value is True
                  for span in s.spans)
    if advertised:
        out.append(Signal("/target/signals/advertises_smuggling",
                          "page.signals.advertises_smuggling", None, True, 0.75, "offer", spans))
    elif clean and "name" in verdicts:
        # The cover is an image the extractor does not see: a clean name and description
        # are all it can go on, hence the low confidence.
        out.append(Signal("/target/signals/advertises_smuggling",
                          "page.signals.advertises_smuggling", None, False, 0.5, "absent", ()))
    offering = [_offers(r, own) for r, own in zip(posts, stated_posts, strict=True)]
    crossings = [True if own.get("offers_crossing") is True else
                 r.signals["offers_crossing"].value if "offers_crossing" in r.signals else None
                 for r, own in zip(posts, stated_posts, strict=True)]
    if not advertised and clean and not any(c is True for c in crossings) and \
            "/target/signals/offers_crossing" not in {s.pointer for s in out}:
        # What the target does beyond what is listed (replies, messages) is not in the
        # evidence's texts: nothing seen offers a crossing, which is all this can say.
        out.append(Signal("/target/signals/offers_crossing", "page.signals.offers_crossing",
                          None, False, 0.5, "absent", ()))
    requests = [True if own.get("solicits_smuggling") is True else
                r.signals["solicits_smuggling"].value if "solicits_smuggling" in r.signals
                else None for r, own in zip(posts, stated_posts, strict=True)]
    if not advertised and clean and not any(r is True for r in requests):
        out.append(Signal("/target/signals/solicits_smuggling", "page.signals.solicits_smuggling",
                          None, False, 0.5, "absent", ()))
    if advertised and posts and all(o is True for o in offering):
        out.append(Signal("/target/signals/dedicated", "page.signals.dedicated", None, True,
                          0.6, "offer", spans))
    elif not advertised and offering and (any(o is False for o in offering) or (
            clean and not any(o is True for o in offering))):
        out.append(Signal("/target/signals/dedicated", "page.signals.dedicated", None, False,
                          0.5, "absent", ()))
    return out


def _offers(reading: Reading, stated: Mapping[str, Any]) -> bool | None:
    """Whether a post offers a crossing or papers: True, False (neither, nor asks for
    one), or None; what the analyst stated first."""
    values = [stated[n] if isinstance(stated.get(n), bool) else
              reading.signals[n].value if n in reading.signals else None
              for n in _STATED_OFFERS]
    if values[0] is True or values[1] is True:
        return True
    if all(v is False for v in values):
        return False
    return None


def _unique(signals: list[Signal]) -> list[Signal]:
    """One signal per pointer: the first found (the name before the description)."""
    seen: set[str] = set()
    out = []
    for signal in signals:
        if signal.pointer not in seen:
            seen.add(signal.pointer)
            out.append(signal)
    return out
