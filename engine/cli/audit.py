"""`takedown audit`: the arguments of its commands. The commands themselves
(`audit_commands`) and the audit library under them are imported only when one runs."""

from __future__ import annotations

import argparse
import datetime
import os

DEFAULT_DB = os.environ.get("TAKEDOWN_DB", "cases.db")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


try:
    DEFAULT_WAIT = _seconds(os.environ.get("TAKEDOWN_DB_WAIT") or "30")
except argparse.ArgumentTypeError:
    DEFAULT_WAIT = 30.0


def _date(text: str) -> str:
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (write YYYY-MM-DD)") from None


def _run(name: str):
    def run(args) -> int:
        from engine.cli import audit_commands

        return getattr(audit_commands, name)(args)

    return run


def register(sub) -> None:
    audit = sub.add_parser("audit", help="record requests and platform responses, and audit "
                           "rejections against the policy in force on the day")
    commands = audit.add_subparsers(dest="audit_command", required=True,
                                    parser_class=type(audit), metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--db", default=DEFAULT_DB, metavar="PATH|URL",
                            help=f"the case store: a SQLite file, a sqlite:/// URL or a "
                            f"postgresql://USER@HOST:PORT/DATABASE URL (default: $TAKEDOWN_DB "
                            f"or {DEFAULT_DB})")
        _wait_option(parser)
        parser.set_defaults(run=_run(f"cmd_{name}"))
        return parser

    record = command("record", "evaluate evidence and store it as a case; prints the case id")
    record.add_argument("evidence", nargs="+",
                        help="evidence files or directories of .json files; - reads stdin")
    record.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    record.add_argument("--redact", default="default", metavar="default|none|FILE.yaml",
                        help="what personal data to mask before storage (default: the built-in "
                        "rules for phone numbers, handles and e-mail addresses)")

    respond = command("respond", "record a platform's response to a case")
    respond.add_argument("case", help="the case id, or the request's own id")
    respond.add_argument("--outcome", required=True,
                         help="page_removed, posts_removed, geo_blocked, no_action or pending "
                         "(or rejected, withheld, posts only...)")
    respond.add_argument("--reason", default="", help="the reason the platform gave")
    respond.add_argument("--notes", default="", help="your own notes")
    respond.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                         help="the date of the response (default: today)")

    dispute = command("dispute", "record a dispute raised against a platform's response")
    dispute.add_argument("case", help="the case id, or the request's own id")
    dispute.add_argument("--text", required=True, help="what is disputed, and where it was raised")
    dispute.add_argument("--clause", action="append", default=[], metavar="RULESET/RULE",
                         help="a clause the dispute rests on (repeatable), e.g. "
                         "meta.human-exploitation/smuggling-offer")
    dispute.add_argument("--by", default="", help="who raised it")
    dispute.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="default: today")

    imported = command("import", "import the platforms' responses from a CSV spreadsheet, "
                       "or their statements of reasons from the EU DSA Transparency Database; "
                       "all or none")
    imported.add_argument("sheet", metavar="FILE",
                          help="a responses sheet: columns case_id or request_id, date, outcome, "
                          "and optionally reason, notes, dispute, disputed_clauses; or, with "
                          "--format dsa-sor, statements of reasons as CSV (a daily dump) or "
                          "JSON (docs/audit.md)")
    imported.add_argument("--format", choices=("sheet", "dsa-sor"), default="sheet",
                          help="sheet: the team's responses spreadsheet (default); dsa-sor: "
                          "statements of reasons, matched to the cases by PUID or URL, or by "
                          "platform and content date")
    imported.add_argument("--unmatched", metavar="FILE.ndjson",
                          help="with --format dsa-sor, also write the statements that answer "
                          "no case to FILE, one JSON object a line")
    imported.add_argument("--check", action="store_true",
                          help="check the file and say what would be imported, store nothing")
    imported.add_argument("--skip-unrecorded", action="store_true",
                          help="leave out, and name, the rows whose request has no case (for "
                          "example no rule set was in force on its date) instead of refusing "
                          "the file")

    case = command("case", "the consistency report for one case")
    case.add_argument("case", help="the case id, or the request's own id")
    case.add_argument("--rules", help="rule-set directory to replay with (default: the bundled "
                      "rule sets)")
    _report_options(case)

    report = command("report", "the report over many cases")
    report.add_argument("--platform", help="only this platform (meta covers facebook, "
                        "instagram and threads; x covers twitter)")
    report.add_argument("--from", dest="since", type=_date, metavar="YYYY-MM-DD",
                        help="only requests submitted on or after this date")
    report.add_argument("--to", dest="until", type=_date, metavar="YYYY-MM-DD",
                        help="only requests submitted on or before this date")
    report.add_argument("--period", choices=("auto", "month", "quarter", "year"),
                        default="auto", help="how to group by date (default: at most 12 periods)")
    report.add_argument("--rules", help="rule-set directory that names the rules behind each "
                        "rejection (default: the bundled rule sets)")
    _report_options(report)

    command("verify", "recompute the hash chain and name the first broken record")

    moved = "copy a whole case store into a new, empty one (for example SQLite to PostgreSQL)"
    copy = commands.add_parser("migrate", help=moved, description=moved + ", and verify the "
                               "copy: the same records, the same chain, the same head")
    copy.add_argument("--from", dest="source", required=True, metavar="PATH|URL",
                      help="the store to copy (it is not changed, but brought to this "
                      "takedown's schema version)")
    copy.add_argument("--to", dest="target", required=True, metavar="PATH|URL",
                      help="the new store: a database or file that holds no records yet")
    _wait_option(copy)
    copy.set_defaults(run=_run("cmd_migrate"))


def _wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=_seconds, default=DEFAULT_WAIT, metavar="SECONDS",
                        help="how long to wait for another command writing to the store "
                        "before giving up with error A001 (default: $TAKEDOWN_DB_WAIT or "
                        f"{DEFAULT_WAIT:g})")


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("markdown", "html", "json", "text"),
                        default="markdown", help="text is for reading in a terminal")
    parser.add_argument("--output", "-o", metavar="FILE",
                        help="write the report to FILE and print its path (default: stdout)")
