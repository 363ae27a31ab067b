"""The `takedown` command: a thin face over the `rules` and `engine` functions.

Exit codes: 0 done (and, for lint, no errors), 1 lint errors or failing tests,
2 wrong usage, 3 invalid evidence, 4 invalid rule sets. Errors are printed as
diagnostics, never as tracebacks.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import rules
from engine.documents import explanation_json, no_ruleset_diagnostic, ruleset_json
from engine.evaluation import BEFORE_HISTORY_DAYS, Engine, NoRulesetInForce, RulesError
from engine.evidence import Evidence, load_evidence, parse_evidence
from engine.extraction import with_extraction
from engine.render import render_decision, render_table, render_trace

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_EVIDENCE, EXIT_RULES = 0, 1, 2, 3, 4

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "platform_policies"
# Where `takedown test --coverage` writes its JSON unless told otherwise (working directory).
COVERAGE_JSON = "takedown-coverage.json"

# Modules that add their own subcommands: each has `register(subparsers)`, which only
# declares arguments and imports nothing heavy until its command runs.
_COMMAND_MODULES: tuple[str, ...] = ("engine.diffing", "engine.formatting", "engine.service",
                                      "engine.audit", "engine.validation")


def _rules_dir(value: str | None) -> Path:
    return Path(value) if value else DEFAULT_RULES


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with a one-line hint
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="takedown", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"takedown {rules.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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

    versions = sub.add_parser("versions", help="list rule sets, versions, periods and hashes")
    versions.add_argument("platform", nargs="?", help="only rule sets covering this platform")
    versions.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    versions.add_argument("--format", choices=("text", "json"), default="text")
    versions.set_defaults(run=cmd_versions)

    check = sub.add_parser("check", help="predict the platform's response to takedown requests")
    check.add_argument("evidence", nargs="*",
                       help="evidence files or directories of .json files; - reads stdin")
    _evaluation_options(check)
    check.add_argument("--format", choices=("text", "json", "markdown", "table", "dsa-sor"),
                       default="text", help="dsa-sor: the statement of reasons a platform would "
                       "file with the EU DSA Transparency Database for the decision, with the "
                       "database's field names (docs/audit.md)")
    check.add_argument("--batch", metavar="FILE.ndjson",
                       help="one evidence document per line (- for stdin); writes one decision "
                       "per line, in input order and constant memory, on every core")
    check.add_argument("--jobs", type=int, metavar="N",
                       help="with --batch, the processes to decide in (default: one per core); "
                       "with --dask local, the workers")
    check.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                       help="with --batch, decide on a Dask cluster (an address such as "
                       "tcp://host:8786, or local for a cluster on this machine); needs "
                       "--output and the dask extra (docs/scale.md)")
    check.add_argument("--output", metavar="DIR",
                       help="with --batch, write the decisions partitioned into DIR "
                       "(part-00000.ndjson, ...) instead of to stdout; implies --dask local")
    check.add_argument("--output-format", choices=("ndjson", "parquet"), default="ndjson",
                       help="with --output, the format of the partitions")
    check.add_argument("--db", metavar="PATH", help="a case store (takedown audit): also give "
                       "the likelihood calibrated on the responses recorded there")
    add_extract_arguments(check)
    check.set_defaults(run=cmd_check)

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

    explain = sub.add_parser("explain", help="show the full evaluation trace for one request")
    explain.add_argument("evidence", help="an evidence file, or - for stdin")
    _evaluation_options(explain)
    explain.add_argument("--format", choices=("text", "json"), default="text")
    add_extract_arguments(explain)
    explain.set_defaults(run=cmd_explain)

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
    test.add_argument("--fail-under", type=_percent, metavar="PERCENT",
                      help="exit 1 when a rule-set version's coverage is under PERCENT "
                      "(implies --coverage)")
    test.set_defaults(run=cmd_test)

    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)

    explain_code = sub.add_parser("explain-code", help="explain a diagnostic code")
    explain_code.add_argument("code", nargs="?", help="for example N001; without it, list all")
    explain_code.set_defaults(run=cmd_explain_code)
    return parser


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"not between 0 and 100: {text!r}")
    return value


def date_argument(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (write YYYY-MM-DD)") from None


def _evaluation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    parser.add_argument("--as-of", type=date_argument, metavar="YYYY-MM-DD",
                        help="evaluate under the rule sets in force on this date "
                        "(default: the request's submission date)")
    parser.add_argument("--platform", help="override the evidence's platform")
    parser.add_argument("--strict-dates", action="store_true",
                        help="decide only under versions in force on the date: a request "
                        "made before a platform's encoded history exits 4 instead of being "
                        "decided under its first versions, as an estimate")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _sources_of(diagnostics) -> dict[str, str]:
    out = {}
    for d in diagnostics:
        name = d.location.file
        if name not in out:
            try:
                out[name] = Path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                out[name] = ""
    return out


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
        text = rules.render_text(diagnostics, _sources_of(diagnostics))
        if text:
            print(text)
        print(rules.summary_line(diagnostics, len(files)))
    return EXIT_FAILED if rules.has_errors(diagnostics) else EXIT_OK


def registry_for(args, command: str) -> rules.Registry | int:
    """The rule sets of `--rules` (or the bundled ones), or the exit code after saying why
    they cannot be used."""
    directory = _rules_dir(args.rules)
    if not directory.exists():
        print(f"{command}: no such directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
    registry, diagnostics = rules.load_registry([directory])
    if rules.has_errors(diagnostics):
        return _report_rule_errors(diagnostics, command)
    return registry


def cmd_versions(args) -> int:
    registry = registry_for(args, "takedown versions")
    if isinstance(registry, int):
        return registry
    shown = [r for r in registry if not args.platform or r.covers(args.platform)]
    if args.format == "json":
        print(json.dumps([ruleset_json(r, r.path) for r in shown], indent=2))
        return EXIT_OK
    rows = [("rule set", "version", "from", "until", "platform", "sha256")]
    for r in shown:
        rows.append((r.id, r.version, r.effective_from.isoformat(),
                     r.effective_until.isoformat() if r.effective_until else "(in force)",
                     r.platform + (f" ({', '.join(r.surfaces)})" if r.surfaces else ""),
                     r.sha256[:12]))
    print(render_table(rows))
    return EXIT_OK






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




# check and explain

def engine_for(args) -> Engine | int:
    directory = _rules_dir(args.rules)
    if not directory.exists():
        print(f"takedown: no such rule-set directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if getattr(args, "strict_dates", False):
            return Engine.from_paths([directory], before_history_days=0)
        return Engine.from_paths([directory])
    except RulesError as error:
        return _report_rule_errors(error.diagnostics, "takedown")


def _report_rule_errors(diagnostics: list[rules.Diagnostic], command: str) -> int:
    """Print the errors that stop a command from using the rule sets; the exit code."""
    errors = [d for d in diagnostics if d.is_error]
    print(rules.render_text(errors, _sources_of(errors)), file=sys.stderr)
    print(f"{command}: the rule sets have {len(errors)} errors; run `takedown lint`",
          file=sys.stderr)
    return EXIT_RULES


def evidence_inputs(paths: list[str], track: Callable[[Sequence], Iterable] = iter,
                    ) -> Iterator[tuple[str, Evidence | None, list]]:
    """Each evidence document named by `paths` (files, folders searched for `*.json`, `-`
    for stdin), loaded; `track` wraps the list of them (to show progress)."""
    files: list[Path | None] = []  # None: stdin
    for name in paths:
        path = Path(name)
        if name == "-":
            files.append(None)
        else:
            files += sorted(path.rglob("*.json")) if path.is_dir() else [path]
    for file in track(files):
        if file is None:
            evidence, problems = parse_evidence(sys.stdin.buffer.read(), "<stdin>")
            yield "-", evidence, problems
        else:
            evidence, problems = load_evidence(file)
            yield str(file), evidence, problems


def _short(name: str) -> str:
    """A fixture's name with its folder (`meta/page-two-adverts.json`)."""
    path = Path(name)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name



def cmd_check(args) -> int:
    if args.batch:
        return _check_batch(args)
    if args.jobs is not None or args.dask or args.output:
        print("takedown check: --jobs, --dask and --output go with --batch", file=sys.stderr)
        return EXIT_USAGE
    if not args.evidence:
        print("takedown check: name at least one evidence file (or use --batch)", file=sys.stderr)
        return EXIT_USAGE
    missing = [p for p in args.evidence if p != "-" and not Path(p).exists()]
    if missing:
        print(f"takedown check: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    engine = engine_for(args)
    if isinstance(engine, int):
        return engine
    calibration = None
    if args.db:
        from engine.audit.commands import check_calibration

        calibration = check_calibration(args.db)
        if isinstance(calibration, int):
            return calibration
    status = EXIT_OK
    decisions = []
    rows = [("evidence", "platform", "as of", "outcome", "likelihood", "rules that hold")]
    extractor = extractor_for(engine, args.extract)
    for name, evidence, problems in evidence_inputs(args.evidence):
        if evidence is not None and extractor is not None:
            evidence, problems = with_extraction(extractor, evidence, args.extract)
        if evidence is None:
            print(rules.render_text(problems, {}), file=sys.stderr)
            status = max(status, EXIT_EVIDENCE)
            continue
        try:
            decision = engine.check(evidence, args.as_of, args.platform,
                                    explain=args.format != "table")
        except NoRulesetInForce as error:
            print(rules.render_text([no_ruleset_diagnostic(error, name)], {}), file=sys.stderr)
            status = max(status, EXIT_RULES)
            continue
        if args.format == "json":
            document = decision.as_json()
            if calibration is not None:
                document.update(calibration.fields(document))
            decisions.append(document)
        elif args.format == "dsa-sor":
            from engine.audit.statements import statement_for

            statement = statement_for(decision.as_json(), evidence.document)
            if statement is None:
                print(f"takedown check: {name}: no statement of reasons for an undetermined "
                      "decision", file=sys.stderr)
            else:
                decisions.append(statement)
        elif args.format == "table":
            fired = list(dict.fromkeys(rule for r in decision.rulesets for rule in r.fired))
            shown = ", ".join(fired)
            rows.append((_short(name), decision.platform, decision.as_of, decision.outcome,
                         f"{decision.likelihood:.2f}",
                         shown if len(shown) <= 60 else shown[:59] + "…"))
        else:
            text = render_decision(decision, markdown=args.format == "markdown")
            if calibration is not None:
                text = calibration.annotate(text, decision.as_json(), args.format == "markdown")
            print(text)
    if args.format == "json":
        single = len(args.evidence) == 1 and not Path(args.evidence[0]).is_dir()
        if single and decisions:
            print(json.dumps(decisions[0], ensure_ascii=False, indent=2))
        elif not single:
            print(json.dumps(decisions, ensure_ascii=False, indent=2))
    elif args.format == "dsa-sor":  # as the database's API takes several at once
        print(json.dumps({"statements": decisions}, ensure_ascii=False, indent=2))
    elif args.format == "table" and len(rows) > 1:
        print(render_table(rows))
        counts: dict[str, int] = {}
        for row in rows[1:]:
            counts[row[3]] = counts.get(row[3], 0) + 1
        print(f"\n{len(rows) - 1} requests: " + ", ".join(
            f"{counts[o]} {o}" for o in ("page_removed", "posts_removed", "geo_blocked",
                                        "no_action", "undetermined") if o in counts))
    return status


def add_extract_arguments(parser) -> None:
    """How texts are read before deciding: by default, the signals analysts left out that
    the texts show; `--extract`, also those a whole text rules out; `--no-extract`, none."""
    parser.set_defaults(extract="found")
    parser.add_argument("--extract", dest="extract", action="store_const", const="all",
                        help="read the texts as whole pages as published (a crawl): also rule "
                        "out the signals a text never mentions, as takedown extract does")
    parser.add_argument("--no-extract", dest="extract", action="store_const", const="off",
                        help="read no text: decide on the signals the evidence states (by "
                        "default, the signals the texts show are filled in where analysts "
                        "left them out; the decision lists them)")


def extractor_for(engine: Engine, mode: str):
    """The extractor `--extract`/`--no-extract` ask for: None for off."""
    if mode == "off":
        return None
    from engine.extraction import Extractor

    return Extractor.from_rulesets(engine.registry)


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


def _check_batch(args) -> int:
    """`check --batch`: the command line's part is the arguments and the exit code;
    engine.batch (one machine) and engine.cluster (a Dask cluster) do the work."""
    from engine import batch
    from engine.progress import track

    if args.jobs is not None and args.jobs < 1:
        print("takedown check: --jobs takes a number of processes, 1 or more", file=sys.stderr)
        return EXIT_USAGE
    options = batch.BatchOptions(
        rules=(str(_rules_dir(args.rules)),), source=args.batch, as_of=args.as_of,
        platform=args.platform, extract=args.extract,
        before_history_days=0 if args.strict_dates else BEFORE_HISTORY_DAYS)
    if args.dask or args.output:
        return _check_on_cluster(args, options)
    engine = engine_for(args)
    if isinstance(engine, int):
        return engine
    try:
        stream = sys.stdin.buffer if args.batch == "-" else open(args.batch, "rb")  # noqa: SIM115
    except OSError as error:
        print(f"takedown check: cannot read {args.batch}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    jobs = args.jobs or batch.default_jobs()
    status = EXIT_OK
    out = sys.stdout
    with stream:
        answers = batch.check_lines(batch.read_lines(stream), options, jobs, engine)
        for _number, line, line_status in track(answers, "checked", unit=" requests"):
            out.write(line + "\n")
            status = max(status, line_status)
    return status


def _check_on_cluster(args, options) -> int:
    from engine import cluster

    if not args.output:
        print("takedown check: --dask writes partitioned decisions: name a directory with "
              "--output DIR", file=sys.stderr)
        return EXIT_USAGE
    if args.batch == "-":
        print("takedown check: --dask reads a file every worker can reach, not stdin",
              file=sys.stderr)
        return EXIT_USAGE
    if not Path(args.batch).exists():
        print(f"takedown check: no such file: {args.batch}", file=sys.stderr)
        return EXIT_USAGE
    engine = engine_for(args)  # rule-set errors are reported here, once
    if isinstance(engine, int):
        return engine
    try:
        summary = cluster.check_batch(args.batch, args.output, options,
                                      address=args.dask or "local",
                                      output_format=args.output_format,
                                      workers=args.jobs)
    except cluster.ClusterError as error:
        print(rules.render_text([error.diagnostic], {}), file=sys.stderr)
        return EXIT_USAGE
    print(f"{summary.lines} lines in {summary.partitions} partitions: {summary.decided} "
          f"decided, {summary.errors} errors; written to {args.output}", file=sys.stderr)
    return summary.status


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




def cmd_test(args) -> int:
    from engine.coverage import Coverage, below, coverage_json, render_coverage
    from engine.testing import junit_xml, render_results, run_tests

    paths = args.paths or [str(_rules_dir(args.rules))]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        print(f"takedown test: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    rules_dir = _rules_dir(args.rules)
    wanted = {p.resolve() for p in rules.rule_files(paths)}
    inside = {p.resolve() for p in rules.rule_files([rules_dir])} if rules_dir.exists() else set()
    sources = ([rules_dir] if rules_dir.exists() else []) + [p for p in wanted if p not in inside]
    registry, diagnostics = rules.load_registry(sources)
    if rules.has_errors(diagnostics):
        return _report_rule_errors(diagnostics, "takedown test")
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


if __name__ == "__main__":
    sys.exit(main())
