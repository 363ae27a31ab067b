"""The HTTP service: pre-submission checks for other tools, over HTTP.

A thin face over the same functions and JSON shapes as the `takedown` command: evidence
in, `Decision.as_json()` out; rule-set text in, the diagnostics of `takedown lint
--format json` out. FastAPI declares the routes and generates the OpenAPI document from
them; uvicorn serves them. The package is flat, one module per concern:

- `settings`: what `takedown serve` was asked for (flags, config file, environment);
- `keys`: API keys, hashed on load, with their scopes;
- `generations`: the rule sets being served, and reloading them without a restart;
- `app`: the routes;
- `middleware`: admission (429 past `max_queue_seconds` or `max_in_flight`), request
  ids, size limits, logs, metrics, and no traceback to a client;
- `connections`: 408 for a request whose headers or body arrive too slowly, and when
  each request was read, for admission;
- `sandbox`: `/v1/lint` in a child process with CPU and memory limits;
- `problems`, `logs`, `metrics`: error bodies, JSON log lines, Prometheus metrics;
- `openapi`: the OpenAPI document, built from the routes and the published schemas;
- `server`: running it all under uvicorn, with one process or several.

Nothing here is imported until `takedown serve` (engine/cli/serve.py) runs, so that
`takedown --help` stays fast. `python -m engine.service` writes the OpenAPI document.
"""
