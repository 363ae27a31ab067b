"""The HTTP service: pre-submission checks for other tools, over HTTP.

A thin face over the same functions and JSON shapes as the `takedown` command: evidence
in, `Decision.as_json()` out; rule-set text in, the diagnostics of `takedown lint
--format json` out. FastAPI declares the routes and generates the OpenAPI document from
them; uvicorn serves them. The package is flat, one module per concern:

- `settings`: what `takedown serve` was asked for (flags, config file, environment);
- `keys`: API keys, hashed on load, with their scopes;
- `generations`: the rule sets being served, and reloading them without a restart;
- `app`: the routes;
- `middleware`: request ids, size limits, logs, metrics, and no traceback to a client;
- `problems`, `logs`, `metrics`: error bodies, JSON log lines, Prometheus metrics;
- `openapi`: the OpenAPI document, built from the routes and the published schemas;
- `server`: running it all under uvicorn, with one process or several.

Nothing here is imported until `takedown serve` runs, so `takedown --help` stays fast.
"""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand; imports nothing heavy until it runs."""
    serve = sub.add_parser(
        "serve", help="serve pre-submission checks over HTTP (JSON; see README)",
        description="Serve /v1/check, /v1/check/batch, /v1/explain, /v1/lint and /v1/rulesets "
        "over HTTP. API keys come from --config or TAKEDOWN_API_KEYS (comma-separated); "
        "without keys the service only listens on loopback.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1; any other needs API keys)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    serve.add_argument("--rules", help="rule-set directory (default: the bundled rule sets)")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (default: 1); one per core is a good start")
    serve.add_argument("--config", metavar="FILE.toml",
                       help="API keys (hashed) with their scopes, and limits; see README")
    serve.add_argument("--max-body-bytes", type=int, metavar="N",
                       help="larger request bodies get 413 (default: 5 MiB; batch: 64 MiB)")
    serve.add_argument("--log-level", default="info",
                       choices=("debug", "info", "warning", "error"))
    serve.add_argument("--new-key", action="store_true",
                       help="print a new API key and the config entry holding its hash, then exit")
    serve.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from engine.service.server import main

    return main(args)
