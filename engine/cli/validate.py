"""`takedown validate`: decisions compared with real cases (engine.authoring.validation)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from engine.authoring.validation import DEFAULT_CORPUS, render_text, summarise, validate
from engine.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_extract_arguments,
    engine_for,
    extractor_for,
)
from engine.progress import track


def register(sub) -> None:
    validate_parser = sub.add_parser(
        "validate", help="compare decisions with real cases: agreement with the policy "
        "reading and the platform's decision, Brier scores, disagreements")
    validate_parser.add_argument("directory", nargs="?",
                                 help="a folder of validation cases (default: validation/)")
    validate_parser.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    validate_parser.add_argument("--format", choices=("text", "json"), default="text")
    add_extract_arguments(validate_parser)
    validate_parser.add_argument("--floor", type=float, metavar="PERCENT",
                                 help="exit 1 when agreement with the policy reading is under PERCENT")
    validate_parser.set_defaults(run=cmd_validate)


def cmd_validate(args) -> int:
    directory = Path(args.directory) if args.directory else DEFAULT_CORPUS
    if not directory.is_dir():
        print(f"takedown validate: no such directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
    engine = engine_for(args)
    if isinstance(engine, int):
        return engine
    extractor = extractor_for(engine, args.extract)
    results = validate(engine, directory, extractor, args.extract,
                       lambda files: track(files, "validating", unit=" cases"))
    summary = summarise(results)
    if args.format == "json":
        print(json.dumps({"summary": summary.as_json(), "cases": [asdict(r) for r in results]},
                         ensure_ascii=False, indent=2))
    else:
        print(render_text(results, summary, str(args.directory or "validation/")), end="")
    if args.floor is not None and 100 * summary.agreement < args.floor:
        print(f"takedown validate: agreement {100 * summary.agreement:.1f}% is under the floor "
              f"of {args.floor:g}%", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
