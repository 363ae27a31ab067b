"""The `takedown` command: a thin face over the `rules` and `engine` functions.

Exit codes: 0 done (and, for lint, no errors), 1 lint errors or failing tests,
2 wrong usage, 3 invalid evidence, 4 invalid rule sets. Errors are printed as
diagnostics, never as tracebacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import rules

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_EVIDENCE, EXIT_RULES = 0, 1, 2, 3, 4

DEFAULT_RULES = Path(__file__).resolve().parent.parent / "platform_policies"


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
    lint.set_defaults(run=cmd_lint)

    versions = sub.add_parser("versions", help="list rule sets, versions, periods and hashes")
    versions.add_argument("platform", nargs="?", help="only rule sets covering this platform")
    versions.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    versions.add_argument("--format", choices=("text", "json"), default="text")
    versions.set_defaults(run=cmd_versions)

    explain_code = sub.add_parser("explain-code", help="explain a diagnostic code")
    explain_code.add_argument("code", nargs="?", help="for example N001; without it, list all")
    explain_code.set_defaults(run=cmd_explain_code)
    return parser


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
    _, diagnostics = rules.load_registry(paths)
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


def cmd_versions(args) -> int:
    directory = _rules_dir(args.rules)
    if not directory.exists():
        print(f"takedown versions: no such directory: {directory}", file=sys.stderr)
        return EXIT_USAGE
    registry, diagnostics = rules.load_registry([directory])
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        print(rules.render_text(errors, _sources_of(errors)), file=sys.stderr)
        print(f"takedown versions: {len(errors)} rule-set errors; run `takedown lint`",
              file=sys.stderr)
        return EXIT_RULES
    shown = [r for r in registry if not args.platform or r.covers(args.platform)]
    if args.format == "json":
        print(json.dumps([_version_json(r) for r in shown], indent=2))
        return EXIT_OK
    rows = [("rule set", "version", "from", "until", "platform", "sha256")]
    for r in shown:
        rows.append((r.id, r.version, r.effective_from.isoformat(),
                     r.effective_until.isoformat() if r.effective_until else "(in force)",
                     r.platform + (f" ({', '.join(r.surfaces)})" if r.surfaces else ""),
                     r.sha256[:12]))
    print(_table(rows))
    return EXIT_OK


def _version_json(r: rules.RuleSet) -> dict:
    out = r.identity()
    out.update({"title": r.title, "surfaces": list(r.surfaces), "path": r.path,
                "rules": [x.id for x in r.all_rules()],
                "sources": [s.as_json() for s in r.sources.values()]})
    return out


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


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


if __name__ == "__main__":
    sys.exit(main())
