"""The `takedown` command: a thin face over the `rules` and `engine` functions.

One module per command (`check`, `explain`, `extract`, `lint`, `versions`, `test`,
`diff`, `fmt`, `validate`, `serve`, `audit`), each with `register(subparsers)`, which
declares its arguments and imports nothing heavy, and the function its command runs.
They are the only modules that parse arguments, print to a terminal and choose exit
codes; `common` holds what several of them share.

Exit codes: 0 done (and, for lint, no errors), 1 lint errors or failing tests,
2 wrong usage, 3 invalid evidence, 4 invalid rule sets, 5 a case store that cannot be
used. Errors are printed as diagnostics, never as tracebacks.
"""

from __future__ import annotations

from collections.abc import Sequence

import rules
from engine.cli import (
    audit,
    check,
    diff,
    explain,
    extract,
    fmt,
    lint,
    serve,
    test,
    validate,
    versions,
)
from engine.cli.common import EXIT_OK, EXIT_USAGE, Parser

__all__ = ["main", "EXIT_OK", "EXIT_USAGE"]

# In the order `takedown --help` lists them.
_REGISTER = (lint.register, versions.register, check.register, extract.register,
             explain.register, test.register, diff.register, fmt.register, serve.register,
             audit.register, validate.register, lint.register_explain_code)


def _parser() -> Parser:
    parser = Parser(prog="takedown", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"takedown {rules.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for register in _REGISTER:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
