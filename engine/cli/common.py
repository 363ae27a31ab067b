"""What the commands share: exit codes, the bundled rule sets, reading arguments, loading
rule sets and evidence, and printing the errors that stop a command."""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import rules
from engine.api import Engine
from engine.evaluation import RulesError
from engine.evidence import Evidence, load_evidence, parse_evidence

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_EVIDENCE, EXIT_RULES = 0, 1, 2, 3, 4
# `takedown audit`: the case store cannot be opened or written.
EXIT_STORE = 5

DEFAULT_RULES = Path(__file__).resolve().parents[2] / "platform_policies"


def rules_dir(value: str | None) -> Path:
    return Path(value) if value else DEFAULT_RULES


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with a one-line hint
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def percent(text: str) -> float:
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


def evaluation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    parser.add_argument("--as-of", type=date_argument, metavar="YYYY-MM-DD",
                        help="evaluate under the rule sets in force on this date "
                        "(default: the request's submission date)")
    parser.add_argument("--platform", help="override the evidence's platform")
    parser.add_argument("--strict-dates", action="store_true",
                        help="decide only under versions in force on the date: a request "
                        "made before a platform's encoded history exits 4 instead of being "
                        "decided under its first versions, as an estimate")


def sources_of(diagnostics) -> dict[str, str]:
    out = {}
    for d in diagnostics:
        name = d.location.file
        if name not in out:
            try:
                out[name] = Path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                out[name] = ""
    return out


def registry_for(args, command: str) -> rules.Registry | int:
    """The rule sets of `--rules` (or the bundled ones), or the exit code after saying why
    they cannot be used."""
    directory = rules_dir(args.rules)
    if not directory.exists():
        print(f"{command}: no such directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
    registry, diagnostics = rules.load_registry([directory])
    if rules.has_errors(diagnostics):
        return report_rule_errors(diagnostics, command)
    return registry


def engine_for(args) -> Engine | int:
    directory = rules_dir(args.rules)
    if not directory.exists():
        print(f"takedown: no such rule-set directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if getattr(args, "strict_dates", False):
            return Engine.from_paths([directory], before_history_days=0)
        return Engine.from_paths([directory])
    except RulesError as error:
        return report_rule_errors(error.diagnostics, "takedown")


def report_rule_errors(diagnostics: list[rules.Diagnostic], command: str) -> int:
    """Print the errors that stop a command from using the rule sets; the exit code."""
    errors = [d for d in diagnostics if d.is_error]
    print(rules.render_text(errors, sources_of(errors)), file=sys.stderr)
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

