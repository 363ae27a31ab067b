"""`takedown serve`: the HTTP service (engine.service), which is imported only when the
command runs, so that `takedown --help` stays fast."""

from __future__ import annotations

import argparse


def register(sub) -> None:
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
