"""`takedown fmt`: lay out the conditions of rule files canonically
(engine.authoring.formatting)."""

from __future__ import annotations

import sys
from pathlib import Path

import rules
from engine.authoring.formatting import Formatted, FormattingError, format_text
from engine.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def register(sub) -> None:
    fmt = sub.add_parser("fmt", help="lay out the conditions of rule files canonically")
    fmt.add_argument("paths", nargs="+", help="rule files or directories")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; list the files that would change and exit 1 if any")
    fmt.set_defaults(run=cmd_fmt)


def cmd_fmt(args) -> int:
    """Exit 0 when done (with --check: when nothing would change), 1 when a file has
    errors or, with --check, would change, 2 on wrong usage."""
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"takedown fmt: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    files = rules.rule_files(args.paths)
    changed = failed = 0
    for path in files:
        result = _format_file(path)
        if result is None or result.text is None:
            failed += 1
            continue
        for pointer in result.kept:
            print(f"{path}#{pointer}: kept as written: the condition holds comments",
                  file=sys.stderr)
        if not result.is_changed:
            continue
        changed += 1
        if args.check:
            print(f"would reformat {path}")
        else:
            path.write_bytes(result.text.encode("utf-8"))
            print(f"reformatted {path}")
    verb = "would be reformatted" if args.check else "reformatted"
    summary = f"{len(files)} file{'s' if len(files) != 1 else ''} checked: {changed} {verb}"
    print(summary + (f", {failed} with errors (not formatted)" if failed else ""))
    return EXIT_FAILED if failed or (args.check and changed) else EXIT_OK


def _format_file(path: Path) -> Formatted | None:
    """Format one file's text, reporting on stderr why it cannot be (None) or has errors."""
    try:  # bytes, so that line endings stay as they are
        original = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"takedown fmt: cannot read {path}: {error}", file=sys.stderr)
        return None
    try:
        result = format_text(original, str(path))
    except FormattingError as error:
        print(f"takedown fmt: left unchanged, please report: {error}", file=sys.stderr)
        return None
    if result.text is None:
        print(rules.render_text(result.diagnostics, {str(path): original}), file=sys.stderr)
        print(f"takedown fmt: {path} has errors; not formatted", file=sys.stderr)
    return result
