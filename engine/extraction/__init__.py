"""Signal extraction: what the texts of a page and its posts establish, with evidence.

Tools that hold a page as published (crawlers, referral forms, case-management systems)
but no analyst's assessment send its texts; the extractor fills in the signals it can
establish, each with its spans (field, offsets, matched text) and a confidence, and leaves
out what it cannot, so that the rules still read it as unknown. An analyst's own signals
always win. How each signal is read, and its limits: docs/extraction.md.

    from engine import Engine, parse_evidence
    from engine.extraction import Extractor, apply

    engine = Engine.from_paths(["platform_policies"])
    extractor = Extractor.from_rulesets(engine.registry)    # once: loads the word lists
    evidence, problems = parse_evidence(json_text)
    extraction = extractor.extract(evidence)
    enriched, problems = parse_evidence(apply(evidence.document, extraction))
    decision = engine.check(enriched)                        # decision.extracted says which

The stages run one way: `text` (disguises undone, offsets kept) -> `wordlists` (one
lexicon from the rule sets, the extractor's lists and CLDR) -> `money`, `contacts` ->
`reading` (what the findings mean) -> `extractor` (placed in a document) -> `provenance`
(written into a copy, and read back for decisions). Nothing here imports the command line
or the service. Names are imported when first used, so that reading which signals of a
document were extracted (`provenance`, for every decision) does not load the word lists,
phonenumbers or Babel.
"""

import importlib

__all__ = ["Extractor", "Extraction", "Signal", "Span", "Finding", "Reading", "apply", "strip",
           "extracted_signals", "with_extraction"]

_HOMES = {"Extractor": "extractor", "Extraction": "extractor", "Signal": "extractor",
          "Span": "extractor", "Finding": "reading", "Reading": "reading",
          "apply": "provenance", "strip": "provenance", "extracted_signals": "provenance",
          "with_extraction": "provenance"}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'engine.extraction' has no attribute {name!r}")
    return getattr(importlib.import_module(f"engine.extraction.{home}"), name)
