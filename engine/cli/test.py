"""`takedown test`: run the tests embedded in rule files, with their coverage."""

from __future__ import annotations

import sys
from pathlib import Path

import rules
from engine.api import Engine
from engine.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    percent,
    report_rule_errors,
    rules_dir,
)

# Where `takedown test --coverage` writes its JSON unless told otherwise (working directory).
COVERAGE_JSON = "takedown-coverage.json"


def register(sub) -> None:
    test = sub.add_parser("test", help="run the tests embedded in rule files")
    test.add_argument("paths", nargs="*", help="rule files or directories (default: the bundled rule sets)")
    test.add_argument("--rules", help="the rule sets to evaluate with (default: the bundled rule sets)")
    test.add_argument("--junit", metavar="FILE", help="also write JUnit XML to FILE")
    test.add_argument("--verbose", "-v", action="store_true",
                      help="list passing tests too (with --coverage, covered items too)")
    test.add_argument("--coverage", action="store_true",
                      help="report, per rule-set version, the rules, exceptions, thresholds "
                      f"and dated values its own tests exercised; writes JSON to {COVERAGE_JSON}")
    test.add_argument("--coverage-json", metavar="FILE",
                      help=f"write the coverage JSON to FILE instead of {COVERAGE_JSON} "
                      "(implies --coverage)")
    test.add_argument("--fail-under", type=percent, metavar="PERCENT",
                      help="exit 1 when a rule-set version's coverage is under PERCENT "
                      "(implies --coverage)")
    test.set_defaults(run=cmd_test)


def cmd_test(args) -> int:
    from engine.authoring.coverage import Coverage, below, coverage_json, render_coverage
    from engine.authoring.testing import junit_xml, render_results, run_tests

    paths = args.paths or [str(rules_dir(args.rules))]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"takedown test: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    directory = rules_dir(args.rules)
    wanted = {p.resolve() for p in rules.rule_files(paths)}
    inside = {p.resolve() for p in rules.rule_files([directory])} if directory.exists() else set()
    sources = ([directory] if directory.exists() else []) + [p for p in wanted if p not in inside]
    registry, diagnostics = rules.load_registry(sources)
    if rules.has_errors(diagnostics):
        return report_rule_errors(diagnostics, "takedown test")
    engine = Engine(registry)
    chosen = [r for r in registry if Path(r.path).resolve() in wanted]
    measure = args.coverage or args.coverage_json or args.fail_under is not None
    coverage = Coverage() if measure else None
    results = run_tests(engine, chosen, coverage)
    print(render_results(results, args.verbose))
    if args.junit:
        Path(args.junit).write_text(junit_xml(results), encoding="utf-8")
    status = EXIT_FAILED if any(not r.passed for r in results) else EXIT_OK
    if coverage is not None:
        report = coverage.report()
        destination = Path(args.coverage_json or COVERAGE_JSON)
        destination.write_text(coverage_json(report), encoding="utf-8")
        print()
        print(render_coverage(report, args.verbose))
        print(f"\ncoverage JSON written to {destination}")
        short = below(report, args.fail_under) if args.fail_under is not None else []
        if short:
            print(f"takedown test: coverage under {args.fail_under:g}%: " + ", ".join(
                f"{c.ruleset.id} {c.ruleset.version} ({c.percent:.1f}%)" for c in short),
                file=sys.stderr)
            status = EXIT_FAILED
    return status
