"""`takedown check`: predict the platform's response to takedown requests, one
evidence file at a time or a batch of them (on every core, or on a Dask cluster)."""

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
    rules_dir,
)
from engine.documents import no_ruleset_diagnostic
from engine.evaluation import BEFORE_HISTORY_DAYS, NoRulesetInForce
from engine.extraction import with_extraction
from engine.render import render_decision, render_table


def register(sub) -> None:
    check = sub.add_parser("check", help="predict the platform's response to takedown requests")
    check.add_argument("evidence", nargs="*",
                       help="evidence files or directories of .json files; - reads stdin")
    evaluation_options(check)
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
    check.add_argument("--no-explain", dest="explain", action="store_false",
                       help="decide without explanations (the outcome, level, likelihood "
                       "and bounds, each rule set's rules that hold): the fast path, for "
                       "scoring many pages; `takedown explain` gives the rest")
    check.add_argument("--db", metavar="PATH", help="a case store (takedown audit): also give "
                       "the likelihood calibrated on the responses recorded there")
    add_extract_arguments(check)
    check.set_defaults(run=cmd_check)


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
        from engine.audit.calibration import store_calibration
        from engine.audit.store import StoreError

        try:
            calibration = store_calibration(args.db)
        except StoreError as error:
            print(f"takedown check: {error}", file=sys.stderr)
            return EXIT_USAGE
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
                                    explain=args.explain and args.format != "table")
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


def _check_batch(args) -> int:
    """`check --batch`: the command line's part is the arguments and the exit code;
    engine.batch (one machine) and engine.cluster (a Dask cluster) do the work."""
    from engine import batch
    from engine.progress import track

    if args.jobs is not None and args.jobs < 1:
        print("takedown check: --jobs takes a number of processes, 1 or more", file=sys.stderr)
        return EXIT_USAGE
    options = batch.BatchOptions(
        rules=(str(rules_dir(args.rules)),), source=args.batch, as_of=args.as_of,
        platform=args.platform, extract=args.extract, explain=args.explain,
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
