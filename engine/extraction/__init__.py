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
or the service.
"""

from engine.extraction.extractor import Extraction, Extractor, Signal, Span
from engine.extraction.provenance import apply, extracted_signals, strip
from engine.extraction.reading import Finding, Reading

__all__ = ["Extractor", "Extraction", "Signal", "Span", "Finding", "Reading", "apply", "strip",
           "extracted_signals"]
