"""`takedown lint`: check rule-set files and report every problem; `takedown
explain-code`: what a diagnostic code means."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import rules
from engine.cli.common import (
    DEFAULT_RULES,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    date_argument,
    sources_of,
)


def register(sub) -> None:
    lint = sub.add_parser("lint", help="check rule-set files and report every problem")
    lint.add_argument("paths", nargs="*", help="files or directories (default: the bundled rule sets)")
    lint.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    lint.add_argument("--quiet", action="store_true", help="show errors only")
    lint.add_argument("--drafting", action="store_true",
                      help="also give drafting advice on valid files: empty paraphrases, "
                      "stale sources, rule text copied from a source (W006-W009)")
    lint.add_argument("--today", type=date_argument, metavar="YYYY-MM-DD",
                      help="with --drafting, the date sources are aged against (default: today)")
    lint.add_argument("--stale-after", type=int, default=rules.drafting.STALE_AFTER_DAYS,
                      metavar="DAYS", help="with --drafting, the age in days from which a "
                      f"source is stale (default: {rules.drafting.STALE_AFTER_DAYS})")
    lint.set_defaults(run=cmd_lint)


def register_explain_code(sub) -> None:
    explain_code = sub.add_parser("explain-code", help="explain a diagnostic code")
    explain_code.add_argument("code", nargs="?", help="for example N001; without it, list all")
    explain_code.set_defaults(run=cmd_explain_code)


def cmd_lint(args) -> int:
    paths = args.paths or [str(DEFAULT_RULES)]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"takedown lint: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    files = rules.rule_files(paths)
    registry, diagnostics = rules.load_registry(paths)
    if args.drafting:  # on the files that load: the others have errors to fix first
        today = args.today or datetime.date.today()  # the clock is read here, and only here
        for ruleset in registry:
            diagnostics += rules.drafting.check_drafting(
                Path(ruleset.path).read_bytes(), ruleset.path, today, args.stale_after)
        diagnostics = rules.sorted_diagnostics(diagnostics)
    if args.quiet:
        diagnostics = [d for d in diagnostics if d.is_error]
    if args.format == "json":
        print(rules.render_json(diagnostics, len(files)))
    elif args.format == "sarif":
        print(rules.render_sarif(diagnostics, rules.__version__))
    else:
        text = rules.render_text(diagnostics, sources_of(diagnostics))
        if text:
            print(text)
        print(rules.summary_line(diagnostics, len(files)))
    return EXIT_FAILED if rules.has_errors(diagnostics) else EXIT_OK


def cmd_explain_code(args) -> int:
    if not args.code:
        for entry in rules.codes.REGISTRY.values():
            print(f"{entry.code}  {entry.severity:<7}  {entry.title}")
        return EXIT_OK
    entry = rules.codes.explain(args.code)
    if entry is None:
        print(f"takedown explain-code: no such code: {args.code}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{entry.code} ({entry.severity}): {entry.title}\n\n{entry.explanation}")
    return EXIT_OK
