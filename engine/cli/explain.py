"""`takedown explain`: the full evaluation trace of one request, and its decision."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import rules
from engine.cli.common import (
    EXIT_EVIDENCE,
    EXIT_OK,
    EXIT_RULES,
    EXIT_USAGE,
    add_extract_arguments,
    engine_for,
    evaluation_options,
    evidence_inputs,
    extractor_for,
)
from engine.documents import explanation_json, no_ruleset_diagnostic
from engine.evaluation import NoRulesetInForce
from engine.extraction import with_extraction
from engine.render import render_decision, render_trace


def register(sub) -> None:
    explain = sub.add_parser("explain", help="show the full evaluation trace for one request")
    explain.add_argument("evidence", help="an evidence file, or - for stdin")
    evaluation_options(explain)
    explain.add_argument("--format", choices=("text", "json"), default="text")
    add_extract_arguments(explain)
    explain.set_defaults(run=cmd_explain)


def cmd_explain(args) -> int:
    if args.evidence != "-" and not Path(args.evidence).exists():
        print(f"takedown explain: no such file: {args.evidence}", file=sys.stderr)
        return EXIT_USAGE
    engine = engine_for(args)
    if isinstance(engine, int):
        return engine
    _, evidence, problems = next(evidence_inputs([args.evidence]))
    extractor = extractor_for(engine, args.extract)
    if evidence is not None and extractor is not None:
        evidence, problems = with_extraction(extractor, evidence, args.extract)
    if evidence is None:
        print(rules.render_text(problems, {}), file=sys.stderr)
        return EXIT_EVIDENCE
    try:
        decision, lines = engine.explain(evidence, args.as_of, args.platform)
    except NoRulesetInForce as error:
        print(rules.render_text([no_ruleset_diagnostic(error, args.evidence)], {}), file=sys.stderr)
        return EXIT_RULES
    if args.format == "json":
        print(json.dumps(explanation_json(decision, lines), ensure_ascii=False, indent=2,
                         default=str))
    else:
        print(render_trace(lines))
        print(render_decision(decision))
    return EXIT_OK
