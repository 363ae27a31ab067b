"""The `takedown audit` commands: a thin face over the store, the intake, the
consistency replay and the reports. Loaded only when one of them runs.

Exit codes, as for the other commands: 0 done, 1 the store's chain is broken (verify),
2 wrong usage (including a store that cannot be opened), 3 invalid evidence, an
invalid responses sheet or an invalid file of statements of reasons, 4 invalid rule
sets or no rule set in force, 5 the store could not be written (busy past --wait, a full
disk, an I/O error, its database server out of reach): nothing was stored, and the same
command may be run again.

A failure of the store itself is printed with its stable code (A001 busy, A002 disk
full, ...: `engine.audit.database.FAILURES`) and a hint, never as a traceback.
"""

from __future__ import annotations

import datetime
import functools
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import rules
from engine.audit.calibration import Calibration, observe
from engine.audit.consistency import case_report, replay
from engine.audit.database import display_location
from engine.audit.intake import IntakeError, prepare_case
from engine.audit.overview import overview, platforms_named
from engine.audit.records import Dispute, Response, latest, response_outcome
from engine.audit.redaction import RedactionError, rules_from
from engine.audit.rejections import rejection_kind, rule_states
from engine.audit.render import to_html, to_markdown, to_text
from engine.audit.reports import case_blocks, case_title, overview_blocks, overview_title
from engine.audit.sheet import read_sheet
from engine.audit.statements import read_statements
from engine.audit.store import CaseStore, StoreError, copy_store, open_store
from engine.cli.common import (
    EXIT_EVIDENCE,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_RULES,
    EXIT_STORE,
    EXIT_USAGE,
    engine_for,
    evidence_inputs,
)
from engine.documents import no_ruleset_diagnostic
from engine.evaluation import NoRulesetInForce
from engine.progress import track

__all__ = ["cmd_record", "cmd_respond", "cmd_dispute", "cmd_import", "cmd_case", "cmd_report",
           "cmd_verify", "cmd_migrate"]



def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"takedown audit: {message}", file=sys.stderr)
    return code


def _store_failed(error: StoreError, prefix: str = "") -> int:
    """Print a failure of the store with its code and hint; the exit code for it."""
    if error.code is None:
        return _fail(prefix + str(error))
    print(f"takedown audit: error[{error.code}]: {prefix}{error}\n  = hint: {error.hint}",
          file=sys.stderr)
    return EXIT_STORE if error.code in ("A001", "A002", "A003", "A006") else EXIT_USAGE


def _store_command(command: Callable[..., int]) -> Callable[..., int]:
    """A command whose store may fail at any read or write: the failure is reported as
    such (`_store_failed`), whichever call met it."""

    @functools.wraps(command)
    def run(args) -> int:
        try:
            return command(args)
        except StoreError as error:
            return _store_failed(error)

    return run


def _today() -> str:
    return datetime.date.today().isoformat()


def _open(args, create: bool = True) -> CaseStore | int:
    try:
        return open_store(args.db, create=create, wait=args.wait)
    except StoreError as error:
        return _store_failed(error)


@_store_command
def cmd_record(args) -> int:
    """Evaluate every file, then store every case in one transaction: a command that is
    interrupted, or that meets a full disk or a busy store, stores nothing."""
    try:
        redaction = rules_from(args.redact)
    except RedactionError as error:
        return _fail(str(error))
    missing = [p for p in args.evidence if p != "-" and not Path(p).exists()]
    if missing:
        return _fail(f"no such file or directory: {', '.join(missing)}")
    engine = engine_for(args)
    if isinstance(engine, int):
        return engine
    store = _open(args)
    if isinstance(store, int):
        return store
    many = len(args.evidence) > 1 or any(Path(p).is_dir() for p in args.evidence)
    status = EXIT_OK
    prepared, names = [], []
    uncovered = 0
    with store:
        inputs = evidence_inputs(args.evidence, lambda files: track(
            files, "evaluating", unit=" files"))
        for name, evidence, problems in inputs:
            if evidence is None:
                print(rules.render_text(problems, {}), file=sys.stderr)
                status = max(status, EXIT_EVIDENCE)
                continue
            try:
                prepared.append(prepare_case(engine, evidence, redaction, name))
                names.append(name)
            except NoRulesetInForce as error:
                print(rules.render_text([no_ruleset_diagnostic(error, name)], {}), file=sys.stderr)
                status = max(status, EXIT_RULES)
                uncovered += 1
            except IntakeError as error:
                status = max(status, _fail(f"{name}: {error}", EXIT_EVIDENCE))
        try:
            stored = store.record_cases(prepared)
        except StoreError as error:
            return _store_failed(error, f"nothing recorded of {len(prepared)} cases: ")
    for name, (case, is_new) in zip(names, stored, strict=True):
        again = "" if is_new else "already recorded"
        if many:
            print(f"{case.id}  {name}" + (f"  ({again})" if again else ""))
        else:
            print(case.id)
            if again:
                print(f"takedown audit: {name} was {again} as {case.id}", file=sys.stderr)
    if many and uncovered:
        print(f"takedown audit: {uncovered} of {len(prepared) + uncovered} requests not "
              "recorded: no rule set in force on their dates", file=sys.stderr)
    return status


@_store_command
def cmd_respond(args) -> int:
    outcome = response_outcome(args.outcome)
    if outcome is None:
        return _fail(f"{args.outcome!r} is not an outcome: write page_removed, posts_removed, "
                     "geo_blocked, no_action or pending")
    store = _open(args, create=False)
    if isinstance(store, int):
        return store
    with store:
        try:
            case = store.find(args.case)
            date = args.date or _today()
            if date < case.submitted:
                return _fail(f"{date} is before the request was submitted ({case.submitted})")
            added = store.add([Response(case.id, date, outcome, args.reason, args.notes,
                                        "takedown audit respond")])
        except StoreError as error:
            return _store_failed(error)
    if added.responses:
        print(f"{case.id}: {outcome} on {date} recorded (record {added.responses[0].seq})")
    else:
        print(f"{case.id}: this response was already recorded")
    return EXIT_OK


@_store_command
def cmd_dispute(args) -> int:
    store = _open(args, create=False)
    if isinstance(store, int):
        return store
    with store:
        try:
            case = store.find(args.case)
            known = {f"{r['ruleset']}/{r['rule']}" for r in case.decision.get("reasons", [])}
            for clause in args.clause:
                if clause not in known:
                    print(f"takedown audit: note: {clause} is not among the rules that hold "
                          f"for {case.id} ({', '.join(sorted(known)) or 'none'})", file=sys.stderr)
            added = store.add(disputes=[Dispute(case.id, args.date or _today(), args.text,
                                                tuple(args.clause), args.by,
                                                "takedown audit dispute")])
        except StoreError as error:
            return _store_failed(error)
    print(f"{case.id}: dispute recorded" + (f" (record {added.disputes[0].seq})"
                                            if added.disputes else " already"))
    return EXIT_OK


@_store_command
def cmd_import(args) -> int:
    if not Path(args.sheet).is_file():
        return _fail(f"no such file: {args.sheet}")
    if args.unmatched and args.format != "dsa-sor":
        return _fail("--unmatched goes with --format dsa-sor")
    store = _open(args, create=False)
    if isinstance(store, int):
        return store
    if args.format == "dsa-sor":
        return _import_statements(args, store)
    with store:
        sheet = read_sheet(args.sheet, store.case_dates(), store.cases_by_request(),
                           skip_unrecorded=args.skip_unrecorded,
                           track=lambda rows: track(rows, "rows read", unit=" rows"))
        if sheet.ignored_columns:
            print(f"takedown audit: ignoring columns {', '.join(sheet.ignored_columns)}",
                  file=sys.stderr)
        if sheet.skipped:
            requests = list(dict.fromkeys(request for _, request in sheet.skipped))
            print(f"takedown audit: leaving out {len(sheet.skipped)} rows for "
                  f"{len(requests)} requests with no case: {', '.join(requests)}",
                  file=sys.stderr)
        if sheet.problems:
            for problem in sheet.problems[:50]:
                print(f"{args.sheet}:{problem}", file=sys.stderr)
            more = len(sheet.problems) - 50
            if more > 0:
                print(f"... and {more} more", file=sys.stderr)
            return _fail(f"nothing imported: {len(sheet.problems)} problems in "
                         f"{sheet.rows} rows of {args.sheet}", EXIT_EVIDENCE)
        if args.check:
            print(f"{args.sheet}: {sheet.rows} rows, {len(sheet.responses)} responses and "
                  f"{len(sheet.disputes)} disputes would be imported")
            return EXIT_OK
        print(f"takedown audit: {sheet.rows} rows checked, storing them in one transaction",
              file=sys.stderr, flush=True)
        try:
            added = store.add(sheet.responses, sheet.disputes)
        except StoreError as error:
            return _store_failed(error, "nothing imported: ")
    skipped = f"; {added.skipped} already recorded, skipped" if added.skipped else ""
    print(f"imported {len(added.responses)} responses and {len(added.disputes)} disputes from "
          f"{args.sheet}{skipped}")
    return EXIT_OK


def _import_statements(args, store: CaseStore) -> int:
    """Statements of reasons, matched to the cases they answer and stored as their
    responses in one transaction; those that answer no case are listed, never dropped."""
    with store:
        found = read_statements(args.sheet, store.cases(),
                                track=lambda rows: track(rows, "statements read",
                                                         unit=" statements"))
        if found.problems:
            for problem in found.problems[:50]:
                print(f"{args.sheet}:{problem}", file=sys.stderr)
            more = len(found.problems) - 50
            if more > 0:
                print(f"... and {more} more", file=sys.stderr)
            return _fail(f"nothing imported: {len(found.problems)} problems in "
                         f"{args.sheet}", EXIT_EVIDENCE)
        for item in found.unmatched:
            print(f"{args.sheet}:{item.where}: note[{item.code}]: statement "
                  f"{item.statement.label} not recorded: {item.why}", file=sys.stderr)
        if args.unmatched:
            try:
                with open(args.unmatched, "w", encoding="utf-8") as out:
                    for item in found.unmatched:
                        out.write(json.dumps(item.as_json(), ensure_ascii=False) + "\n")
            except OSError as error:
                return _fail(f"cannot write {args.unmatched}: {error.strerror or error}")
        unmatched = f"; {len(found.unmatched)} answer no case" if found.unmatched else ""
        if args.check:
            print(f"{args.sheet}: {found.statements} statements, {len(found.responses)} "
                  f"responses would be imported{unmatched}")
            return EXIT_OK
        try:
            added = store.add(found.responses)
        except StoreError as error:
            return _store_failed(error, "nothing imported: ")
    skipped = f"; {added.skipped} already recorded, skipped" if added.skipped else ""
    print(f"imported {len(added.responses)} responses from {found.statements} statements of "
          f"reasons in {args.sheet}{skipped}{unmatched}")
    return EXIT_OK


def _write(args, model: Mapping, blocks, title: str) -> int:
    if args.format == "json":
        text = json.dumps(model, ensure_ascii=False, indent=2) + "\n"
    elif args.format == "html":
        text = to_html(blocks(model), title)
    elif args.format == "text":
        text = to_text(blocks(model))
    else:
        text = to_markdown(blocks(model))
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    else:
        sys.stdout.write(text)
    return EXIT_OK


@_store_command
def cmd_case(args) -> int:
    store = _open(args, create=False)
    if isinstance(store, int):
        return store
    with store:
        try:
            case = store.find(args.case)
        except StoreError as error:
            return _store_failed(error)
        engine = engine_for(args)
        if isinstance(engine, int):
            return engine
        played = replay(engine, case)
        responses = store.responses(case.id).get(case.id, [])
        disputes = store.disputes(case.id).get(case.id, [])
        # calibrated on the other cases: a case's own response must not inform its prediction
        calibration = Calibration(o for o in observe(store.cases(), store.responses())
                                  if o.case_id != case.id)
        model = case_report(case, responses, disputes, played, store.verify(),
                            store.record(case.seq).hash, calibration.calibrate(played.decision),
                            prepared=_today())
    return _write(args, model, case_blocks, case_title(model))


@_store_command
def cmd_report(args) -> int:
    engine = engine_for(args)
    if isinstance(engine, int):
        return engine
    store = _open(args, create=False)
    if isinstance(store, int):
        return store
    with store:
        cases = store.cases(platforms_named(args.platform), args.since, args.until)
        responses = store.responses()
        # the rules behind each rejection, including those that did not hold
        states = {c.id: rule_states(engine, c) for c in cases
                  if rejection_kind(latest(responses.get(c.id)), c.asks)}
        model = overview(cases, responses, store.disputes(), platform=args.platform,
                         since=args.since, until=args.until, period=args.period,
                         prepared=_today(), rule_states=states)
    return _write(args, model, overview_blocks, overview_title(model))


@_store_command
def cmd_verify(args) -> int:
    store = _open(args, create=False)
    if isinstance(store, int):
        return store
    with store:
        result = store.verify()
        counts = store.counts()
    kinds = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items())
    if result.is_intact:
        head = (f"; head: record {result.head.seq}, sha256 {result.head.hash}" if result.head
                else "")
        print(f"intact: {result.records} records ({kinds}){head}")
        return EXIT_OK
    first = result.first_problem
    print(f"broken at record {first.seq}: {first.problem}")
    if len(result.problems) > 1:
        print(f"({len(result.problems) - 1} more problems after it)")
    return EXIT_FAILED


@_store_command
def cmd_migrate(args) -> int:
    """Copy a store into an empty one, then verify both and compare: the copy must hold
    the same records with the same chain and head. A broken source is not copied."""
    source = _open(_naming(args, "source"), create=False)
    if isinstance(source, int):
        return source
    with source:
        before = source.verify()
        if not before.is_intact:
            print(f"broken at record {before.first_problem.seq}: "
                  f"{before.first_problem.problem}")
            return _fail(f"{display_location(args.source)} is not intact: nothing copied; "
                         "keep it as it is for inspection", EXIT_FAILED)
        target = _open(_naming(args, "target"))
        if isinstance(target, int):
            return target
        with target:
            try:
                copied = copy_store(source, target)
                after, counts = target.verify(), target.counts()
            except StoreError as error:
                return _store_failed(error, f"{display_location(args.target)}: "
                                     if error.code == "A010" else "nothing copied: ")
    if not after.is_intact or (after.records, after.head) != (before.records, before.head):
        problem = after.first_problem or f"{after.records} records, not {before.records}"
        print(f"the copy does not verify: {problem}")
        return EXIT_FAILED
    kinds = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in counts.items())
    head = f"; head: record {after.head.seq}, sha256 {after.head.hash}" if after.head else ""
    print(f"copied {copied} records ({kinds}) to {display_location(args.target)}; "
          f"intact, the same chain as the source{head}")
    return EXIT_OK


def _naming(args, attribute: str):
    """`args` with `db` set to one of migrate's two stores, for `_open`."""
    return type(args)(**{**vars(args), "db": getattr(args, attribute)})
