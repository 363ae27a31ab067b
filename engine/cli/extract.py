"""`takedown extract`: read signals from the texts of posts and pages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import rules
from engine.cli.common import EXIT_EVIDENCE, EXIT_OK, EXIT_USAGE, evidence_inputs, registry_for


def register(sub) -> None:
    extract = sub.add_parser("extract", help="read signals from the texts of posts and pages",
                             description="Fill in the signals the texts establish, each with "
                             "its spans and a confidence, where analysts left them out; an "
                             "analyst's own signal always wins (docs/extraction.md).")
    extract.add_argument("evidence", nargs="+",
                         help="evidence files or directories of .json files; - reads stdin")
    extract.add_argument("--rules", help="the rule sets whose lexicons to read (default: the "
                         "bundled rule sets)")
    extract.add_argument("--format", choices=("evidence", "json", "text"), default="evidence",
                         help="evidence: the evidence with the signals written in and an "
                         "`extraction` record (pipe it to takedown check); json: the record "
                         "alone; text: a list for people")
    extract.set_defaults(run=cmd_extract)


def cmd_extract(args) -> int:
    missing = [p for p in args.evidence if p != "-" and not Path(p).exists()]
    if missing:
        print(f"takedown extract: no such file or directory: {', '.join(missing)}",
              file=sys.stderr)
        return EXIT_USAGE
    registry = registry_for(args, "takedown extract")
    if isinstance(registry, int):
        return registry
    from engine.extraction import Extractor, apply

    extractor = Extractor.from_rulesets(registry)
    status = EXIT_OK
    documents = []
    for name, evidence, problems in evidence_inputs(args.evidence):
        if evidence is None:
            print(rules.render_text(problems, {}), file=sys.stderr)
            status = max(status, EXIT_EVIDENCE)
            continue
        extraction = extractor.extract(evidence)
        if extraction.diagnostics:
            print(rules.render_text(list(extraction.diagnostics), {}), file=sys.stderr)
        enriched = apply(evidence.document, extraction)
        if args.format == "text":
            print(_render_extraction(name, enriched["extraction"]))
        else:
            documents.append(enriched if args.format == "evidence" else enriched["extraction"])
    if args.format != "text":
        single = len(args.evidence) == 1 and not Path(args.evidence[0]).is_dir()
        if single and documents:
            print(json.dumps(documents[0], ensure_ascii=False, indent=2))
        elif not single:
            print(json.dumps(documents, ensure_ascii=False, indent=2))
    return status


def _render_extraction(name: str, block: dict) -> str:
    lines = [name]
    for title, entries in (("written", block["signals"]), ("suggested", block["suggestions"])):
        for entry in entries:
            spans = "; ".join(f"{s['pointer']}[{s['start']}:{s['end']}] "
                              f"{json.dumps(s['text'], ensure_ascii=False)}"
                              for s in entry["spans"][:3] if s["end"] - s["start"] <= 80)
            lines.append(f"  {title:<9} {entry['pointer']} = "
                         f"{json.dumps(entry['value'], ensure_ascii=False)} "
                         f"({entry['confidence']:.2f} {entry['method']})"
                         + (f"  {spans}" if spans else ""))
    for entry in block["kept"]:
        lines.append(f"  kept      {entry['pointer']} = "
                     f"{json.dumps(entry['analyst'], ensure_ascii=False)} (the analyst's; "
                     f"the text says {json.dumps(entry['extracted'], ensure_ascii=False)})")
    return "\n".join(lines)
