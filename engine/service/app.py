"""The routes: evidence in, decisions out, in the command line's JSON shapes.

Handlers read request bodies themselves and hand them to `engine.parse_evidence` and
`rules.load_text`, so that invalid input gets exactly the diagnostics the command line
gives (codes, JSON pointers, hints), and so that the OpenAPI document can describe the
bodies with the published schemas instead of a second, hand-made copy.

Evaluation runs on the event loop: a check takes a millisecond or two of pure Python,
less than the hop to a thread would cost, and threads would only queue for the GIL.
Throughput comes from worker processes. Work that can take longer (a large body, an
explanation, linting, a reload) runs in a thread so that probes keep answering.

Each request takes the rule-set generation in service when it starts and keeps it to
the end; the response names it in the `Takedown-Rules-Generation` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import json
import logging
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

import rules
from engine.documents import explanation_json, no_ruleset_diagnostic, ruleset_json
from engine.evaluation import NoRulesetInForce
from engine.evidence import parse_evidence
from engine.service.generations import Generation, ReloadResult, RuleStore
from engine.service.keys import Keyring
from engine.service.logs import log_reload
from engine.service.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from engine.service.metrics import Metrics
from engine.service.middleware import BodyTooLarge, ServiceMiddleware
from engine.service.problems import MEDIA_TYPE as PROBLEM
from engine.service.problems import problem
from engine.service.sandbox import LintRefused, LintSandbox
from engine.service.settings import ENV_SETTINGS, Settings

__all__ = ["create_app", "create_app_from_env", "build_app", "build_routes", "Service",
           "GENERATION_HEADER", "BODY_NAME"]

GENERATION_HEADER = "Takedown-Rules-Generation"
BODY_NAME = "<body>"  # the evidence's name in decisions and diagnostics
JSON = "application/json"
NDJSON = "application/x-ndjson"
YAML = "application/yaml"
_IN_THREAD_BYTES = 256 * 1024  # bodies larger than this are parsed off the event loop


class Service:
    """What the routes share: settings, keys, the rule store and the metrics."""

    def __init__(self, settings: Settings, store: RuleStore, metrics: Metrics):
        self.settings = settings
        self.keyring: Keyring = settings.keyring
        self.store = store
        self.metrics = metrics
        self.is_stopping = False
        self._tasks: set[asyncio.Task] = set()  # held until done, or they may be collected
        self._following: asyncio.Future | None = None  # the load of another's reload
        self._extractors: dict[str, object] = {}  # generation id -> its extractor
        self._extractor_lock = threading.Lock()
        self.linter = LintSandbox(store.state_dir, cpu_seconds=settings.lint_cpu_seconds,
                                  memory_bytes=settings.lint_memory_bytes,
                                  slots=settings.lint_slots,
                                  wait_seconds=settings.lint_wait_seconds)
        metrics.serving(store.current().id)

    async def generation(self) -> Generation:
        """The generation in service, switching first if another worker has reloaded.

        One thread loads the new generation and every request that arrives meanwhile
        awaits that one load: a thread each would queue them for the thread pool (40
        threads), and each thread's turn waits for the event loop to let go of the
        GIL, which under load took the requests seconds."""
        if self.store.is_stale():
            if self._following is None or self._following.done():
                self._following = asyncio.ensure_future(self._follow())
            await asyncio.shield(self._following)
        generation = self.store.current()
        self.metrics.serving(generation.id)
        return generation

    async def _follow(self) -> None:
        try:
            await run_in_threadpool(self.store.follow)
        except Exception:
            logging.getLogger("takedown.service").exception(
                "cannot follow the published rule sets; serving the ones loaded",
                extra={"fields": {"generation": self.store.current().id}})

    async def extractor(self, generation: Generation):
        """The extractor reading the word lists of `generation`'s rule sets, built on first
        use (a second or so, off the event loop) and kept for the generation's life."""
        found = self._extractors.get(generation.id)
        if found is None:
            found = await run_in_threadpool(self._build_extractor, generation)
        return found

    def _build_extractor(self, generation: Generation):
        from engine.extraction import Extractor

        with self._extractor_lock:
            found = self._extractors.get(generation.id)
            if found is None:
                found = Extractor.from_rulesets(generation.engine.registry)
                # Only the generation in service and the one before it can still be asked.
                for stale in list(self._extractors)[:-1]:
                    del self._extractors[stale]
                self._extractors[generation.id] = found
            return found

    async def reload(self, trigger: str) -> ReloadResult:
        result = await run_in_threadpool(self.store.reload)
        self.metrics.serving(result.serving.id)
        self.metrics.reloads.labels(result.outcome).inc()
        log_reload(result, trigger)
        return result

    def _hangup(self, loop: asyncio.AbstractEventLoop) -> None:
        task = loop.create_task(self._reload_on_hangup())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload_on_hangup(self) -> None:
        try:
            await self.reload("SIGHUP")
        except Exception:  # no client to answer: the log is where it goes
            logging.getLogger("takedown.service").exception("rules reload failed")

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI):
        self.is_stopping = False
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            if self.settings.workers == 1:
                loop = asyncio.get_running_loop()
                loop.add_signal_handler(signal.SIGHUP, self._hangup, loop)
            else:  # the supervisor reloads; a HUP sent to the whole group must not kill us
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
        yield
        self.is_stopping = True


def _service(request: Request) -> Service:
    return request.app.state.service


# Access

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`. "
                     "Not required when the service runs without keys (loopback only).")


def _requires(scope: str) -> Callable:
    async def check_key(request: Request, credentials: Annotated[
            HTTPAuthorizationCredentials | None, Security(_bearer)]) -> None:
        keyring = _service(request).keyring
        if not keyring.is_enabled:
            return
        challenge = 'Bearer realm="takedown"'
        if credentials is None:
            raise HTTPException(401, "an API key is needed: Authorization: Bearer KEY",
                                headers={"WWW-Authenticate": challenge})
        key = keyring.find(credentials.credentials)
        if key is None:
            raise HTTPException(401, "the API key is not known", headers={
                "WWW-Authenticate": challenge + ', error="invalid_token"'})
        request.state.log["client"] = key.name
        if not key.allows(scope):
            raise HTTPException(403, f"the key `{key.name}` does not have the `{scope}` scope")

    return check_key


async def _known_parameters(request: Request) -> None:
    """Refuse query parameters the operation does not have: a misspelt `as_of` ignored
    would silently give a decision for another date."""
    route = request.scope.get("route")
    known = {p.alias for p in getattr(getattr(route, "dependant", None), "query_params", ())}
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError([
            {"loc": ("query", name), "type": "extra_forbidden",
             "msg": "unknown parameter" + (f"; known: {', '.join(sorted(known))}" if known
                                           else "; this operation takes none")}
            for name in dict.fromkeys(unknown)])


# OpenAPI pieces: bodies and responses are described with the published schemas.

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(description: str, content: dict) -> dict:
    return {"requestBody": {"required": True, "description": description, "content": content}}


_ERRORS = {
    401: "No API key, or an unknown one.",
    403: "The API key lacks the scope this operation needs.",
    404: "No such rule set or version.",
    413: "The request body is larger than the configured limit; it was not read.",
    422: "Invalid input: `diagnostics` holds the command line's diagnostics (codes, JSON "
         "pointers), `parameters` the query parameters that are wrong.",
    429: "Too busy now: the request waited longer than `max_queue_seconds` for a worker, or "
         "the worker has `max_in_flight` requests in progress (`overloaded`), or every lint "
         "slot is taken (`lint-busy`). Retry after `Retry-After` seconds.",
    503: "The service is stopping.",
}


def _responses(description: str, content: dict, *errors: int) -> dict:
    out: dict = {200: {"description": description, "content": content}}
    for status in errors:
        out[status] = {"description": _ERRORS[status], "content": {PROBLEM: {"schema": _ref("Problem")}}}
    return out


_EVIDENCE_BODY = _body("One evidence document (engine/evidence.schema.json).",
                       {JSON: {"schema": _ref("Evidence")}})
# Any text is accepted in these two: a batch answers a line that is not evidence with a
# line of diagnostics, and a draft rule set that is not one is what lint is for.
_BATCH_BODY = _body("Evidence documents (schema Evidence), one JSON document per line.",
                    {NDJSON: {"schema": {}}})
_LINT_BODY = _body("The text of one rule-set file: YAML in the format of "
                   "rules/ruleset.schema.json, or a draft of one.", {YAML: {"schema": {}}})

AsOf = Annotated[str, Query(
    description="Evaluate under the rule sets in force on this date (YYYY-MM-DD) instead "
    "of the request's submission date.", pattern=r"^\d{4}-\d{2}-\d{2}$",
    json_schema_extra={"format": "date"})]
Platform = Annotated[str, Query(
    description="Evaluate for this platform or surface instead of the evidence's "
    "`target.platform`.", max_length=100, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
Explain = Annotated[bool, Query(
    description="Whether to add reasons, thresholds, exceptions and missing facts. false "
    "is the fast path: outcome, likelihood, bounds, posts and rule sets only.")]
Extract = Annotated[bool, Query(
    description="Whether to fill in first, from the posts' and the page's texts, the signals "
    "the evidence leaves out (as POST /v1/extract does); the decision's `extracted` lists "
    "them. An analyst's own signals always win.")]


def build_routes() -> APIRouter:
    plain = [Depends(_known_parameters)]
    router = APIRouter()
    checks = [Security(_requires("check")), *plain]
    evaluated = (401, 403, 413, 422, 429)

    @router.post("/v1/check", operation_id="check", tags=["checks"], dependencies=checks,
                 summary="Predict the response to one takedown request",
                 description="The same decision as `takedown check --format json`.",
                 response_class=Response, openapi_extra=_EVIDENCE_BODY,
                 responses=_responses("The decision.", {JSON: {"schema": _ref("Decision")}},
                                      *evaluated))
    async def check(request: Request, as_of: AsOf = None, platform: Platform = None,
                    explain: Explain = True, extract: Extract = False) -> Response:
        service = _service(request)
        generation = await service.generation()
        evidence = await _evidence(request, service)
        if isinstance(evidence, Response):
            return evidence
        if extract:
            evidence = await _extracted(request, service, generation, evidence)
            if isinstance(evidence, Response):
                return evidence
        started = time.perf_counter()
        try:
            decision = generation.engine.check(evidence, _date(as_of), platform, explain=explain)
        except NoRulesetInForce as error:
            return _no_ruleset(request, service, error)
        _timing(request, "evaluate", started)
        service.metrics.decisions.labels(decision.outcome).inc()
        request.state.log["outcome"] = decision.outcome
        return _json(request, decision.as_json(), generation)

    @router.post("/v1/extract", operation_id="extract", tags=["checks"], dependencies=checks,
                 summary="Fill in the signals the texts establish",
                 description="The same document as `takedown extract`: the evidence with the "
                 "signals its posts' and page's texts establish written in where analysts "
                 "left them out, and an `extraction` record giving each one's spans and "
                 "confidence, what was found where an analyst said otherwise, and context "
                 "only suggested. Send it to /v1/check as it is.",
                 response_class=Response, openapi_extra=_EVIDENCE_BODY,
                 responses=_responses("The evidence, enriched.",
                                      {JSON: {"schema": _ref("Evidence")}}, *evaluated))
    async def extract_signals(request: Request) -> Response:
        service = _service(request)
        generation = await service.generation()
        evidence = await _evidence(request, service)
        if isinstance(evidence, Response):
            return evidence
        extractor = await service.extractor(generation)
        started = time.perf_counter()
        document = await run_in_threadpool(_enriched_document, extractor, evidence)
        _timing(request, "extract", started)
        request.state.log["extracted"] = len(document["extraction"]["signals"])
        return _json(request, document, generation)

    @router.post("/v1/check/batch", operation_id="checkBatch", tags=["checks"],
                 dependencies=checks, summary="Predict the responses to many requests",
                 description="NDJSON in, NDJSON out, streamed both ways in constant memory: "
                 "one decision (schema Decision) per line of evidence, in order, or, for a "
                 "line that cannot be evaluated, `{\"line\": N, \"error\": [diagnostics]}` "
                 "(schema BatchError), as `takedown check --batch` writes them. The whole "
                 "batch is evaluated under the generation in service when it started.",
                 response_class=Response, openapi_extra=_BATCH_BODY,
                 responses=_responses("One JSON document per line.",
                                      {NDJSON: {"schema": {"type": "string"}}}, *evaluated))
    async def check_batch(request: Request, as_of: AsOf = None, platform: Platform = None,
                          explain: Explain = True) -> Response:
        service = _service(request)
        generation = await service.generation()
        return _BatchResponse(service, generation, _date(as_of), platform, explain,
                              request.state.log)

    @router.post("/v1/explain", operation_id="explain", tags=["checks"], dependencies=checks,
                 summary="The decision and its full evaluation trace",
                 description="The same document as `takedown explain --format json`.",
                 response_class=Response, openapi_extra=_EVIDENCE_BODY,
                 responses=_responses("The decision and the trace.",
                                      {JSON: {"schema": _ref("Explanation")}}, *evaluated))
    async def explain(request: Request, as_of: AsOf = None,
                      platform: Platform = None) -> Response:
        service = _service(request)
        generation = await service.generation()
        evidence = await _evidence(request, service)
        if isinstance(evidence, Response):
            return evidence
        day = _date(as_of)

        def run():
            return explanation_json(*generation.engine.explain(evidence, day, platform))

        started = time.perf_counter()
        try:
            document = await run_in_threadpool(run)
        except NoRulesetInForce as error:
            return _no_ruleset(request, service, error)
        _timing(request, "evaluate", started)
        return _json(request, document, generation)

    @router.post("/v1/lint", operation_id="lint", tags=["rule sets"], dependencies=checks,
                 summary="Check the text of a rule-set file",
                 description="The diagnostics `takedown lint --format json` gives for one "
                 "file, so that editors and review tools can check a draft: 200, and the "
                 "draft is usable when `errors` is 0. The text is checked in a process of "
                 "its own with CPU and memory limits: a text past them gets 422 "
                 "(`lint-time-limit`, `lint-memory-limit`).",
                 response_class=Response, openapi_extra=_LINT_BODY,
                 responses=_responses("The diagnostics.", {JSON: {"schema": _ref("LintReport")}},
                                      401, 403, 413, 422, 429))
    async def lint(request: Request, name: Annotated[str, Query(
            description="The file name to quote in diagnostics.", min_length=1,
            max_length=200, pattern=r"^[\w./-]+$")] = "draft.yaml") -> Response:
        text = await request.body()
        if not text.strip():
            return problem(422, "empty-body", "empty request body",
                           "send the text of a rule-set file", request_id=request.state.request_id)
        started = time.perf_counter()
        try:
            report = await _service(request).linter.lint(text, name)
        except LintRefused as refused:
            request.state.log["refused"] = refused.slug
            return problem(refused.status, refused.slug, refused.title, refused.detail,
                           request_id=request.state.request_id,
                           headers={"Retry-After": "2"} if refused.status == 429 else None)
        _timing(request, "lint", started)
        return Response(report, media_type=JSON)

    @router.get("/v1/rulesets", operation_id="listRulesets", tags=["rule sets"],
                dependencies=checks, summary="The rule sets in service, every version",
                description="As `takedown versions --format json` lists them.",
                response_class=Response,
                responses=_responses("Every version of every rule set.", {JSON: {"schema": {
                    "type": "array", "items": _ref("RulesetInfo")}}}, 401, 403, 422))
    async def list_rulesets(request: Request, platform: Platform = None) -> Response:
        generation = await _service(request).generation()
        return _json(request, [ruleset_json(r, generation.relative_path(r))
                               for r in generation.rulesets()
                               if not platform or r.covers(platform)], generation)

    @router.get("/v1/rulesets/{ruleset_id}/{version}", operation_id="getRuleset",
                tags=["rule sets"], dependencies=checks, summary="One version of a rule set",
                response_class=Response,
                responses=_responses("The version's metadata, period, hash and sources.",
                                     {JSON: {"schema": _ref("RulesetInfo")}}, 401, 403, 404,
                                     422))
    async def get_ruleset(request: Request, ruleset_id: str, version: str) -> Response:
        generation = await _service(request).generation()
        ruleset = generation.engine.registry.get(ruleset_id, version)
        if ruleset is None:
            raise HTTPException(404, f"no rule set `{ruleset_id}` version `{version}` in "
                                "service; GET /v1/rulesets lists them")
        return _json(request, ruleset_json(ruleset, generation.relative_path(ruleset)),
                     generation)

    @router.post("/v1/admin/reload", operation_id="reload", tags=["admin"],
                 dependencies=[Security(_requires("admin")), *plain],
                 summary="Load the rule files again, and serve them if they have no errors",
                 description="The files are copied, loaded and checked first; if they have "
                 "errors the service keeps the rule sets it has and answers 422 with the "
                 "diagnostics. Requests in flight finish on the rule sets they started with. "
                 "SIGHUP to the main process does the same.",
                 response_class=Response,
                 responses=_responses("The new rule sets are in service (or were already).",
                                      {JSON: {"schema": _ref("ReloadReport")}}, 401, 403, 422))
    async def reload(request: Request) -> Response:
        service = _service(request)
        result = await service.reload("api")
        if not result.is_loaded:
            return problem(422, "invalid-rules", "the rule files have errors",
                           "the rule sets in service are unchanged",
                           request_id=request.state.request_id,
                           diagnostics=result.diagnostics, generation=result.serving.id)
        return _json(request, result.as_json(), result.serving)

    @router.get("/healthz", operation_id="health", tags=["operations"], dependencies=plain,
                summary="Liveness: the process answers", response_class=Response,
                responses=_responses("Alive.", {JSON: {"schema": _ref("Health")}}, 422))
    async def health() -> Response:
        return Response(b'{"status":"ok"}', media_type=JSON)

    @router.get("/readyz", operation_id="ready", tags=["operations"], dependencies=plain,
                summary="Readiness: rule sets are loaded and the service is not stopping",
                response_class=Response,
                responses={**_responses("Ready.", {JSON: {"schema": _ref("Readiness")}}, 422),
                           503: {"description": "Stopping.",
                                 "content": {JSON: {"schema": _ref("Readiness")}}}})
    async def ready(request: Request) -> Response:
        service = _service(request)
        generation = await service.generation()
        document = {"status": "stopping" if service.is_stopping else "ready",
                    "generation": generation.id, "rulesets": len(generation.engine.registry),
                    "loaded_at": generation.loaded_at}
        return Response(json.dumps(document), 503 if service.is_stopping else 200,
                         media_type=JSON)

    @router.get("/metrics", operation_id="metrics", tags=["operations"], dependencies=plain,
                summary="Prometheus metrics (text format)", response_class=Response,
                responses=_responses("The metrics.", {"text/plain": {"schema": {"type": "string"}}},
                                     422))
    async def metrics(request: Request) -> Response:
        return Response(_service(request).metrics.render(), media_type=METRICS_CONTENT_TYPE)

    return router


# Helpers of the routes

async def _evidence(request: Request, service: Service):
    """The evidence in the body, or a 422 response with the diagnostics."""
    started = time.perf_counter()
    body = await request.body()
    _timing(request, "read", started)
    started = time.perf_counter()
    if len(body) > _IN_THREAD_BYTES:
        evidence, problems = await run_in_threadpool(parse_evidence, body, BODY_NAME)
    else:
        evidence, problems = parse_evidence(body, BODY_NAME)
    _timing(request, "parse", started)
    if evidence is None:
        for code in {d.code for d in problems}:
            service.metrics.rejected.labels(code).inc()
        request.state.log["rejected"] = sorted({d.code for d in problems})
        return problem(422, "invalid-evidence", "invalid evidence",
                       f"{len(problems)} problems in the evidence; none was evaluated",
                       request_id=request.state.request_id, diagnostics=problems)
    return evidence


def _enriched_document(extractor, evidence) -> dict:
    from engine.extraction import apply

    return apply(evidence.document, extractor.extract(evidence))


async def _extracted(request: Request, service: Service, generation: Generation, evidence):
    """The evidence with extracted signals written in, checked again; or a 422."""
    extractor = await service.extractor(generation)
    started = time.perf_counter()
    document = await run_in_threadpool(_enriched_document, extractor, evidence)
    enriched, problems = parse_evidence(document, BODY_NAME)
    _timing(request, "extract", started)
    if enriched is None:  # cannot happen unless the extractor writes what the schema refuses
        return problem(422, "invalid-evidence", "invalid evidence after extraction",
                       f"{len(problems)} problems", request_id=request.state.request_id,
                       diagnostics=problems)
    return enriched


def _no_ruleset(request: Request, service: Service, error: NoRulesetInForce) -> Response:
    service.metrics.rejected.labels("V007").inc()
    return problem(422, "no-ruleset-in-force", "no rule set in force", str(error),
                   request_id=request.state.request_id,
                   diagnostics=[no_ruleset_diagnostic(error, BODY_NAME)])


def _date(text: str | None) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise RequestValidationError([{"loc": ("query", "as_of"), "type": "date",
                                       "msg": f"not a date: {text} (write YYYY-MM-DD)"}]) from None


def _timing(request: Request, name: str, started: float) -> None:
    request.state.log.setdefault("timings_ms", {})[name] = round(
        (time.perf_counter() - started) * 1000, 3)


def _json(request: Request, document, generation: Generation) -> Response:
    request.state.log["generation"] = generation.id[:12]
    return Response(json.dumps(document, ensure_ascii=False, default=str).encode("utf-8"),
                    media_type=JSON, headers={GENERATION_HEADER: generation.id})


class _BatchResponse(Response):
    """Reads the NDJSON body as it arrives and writes a line out for each line in, so
    neither side is ever held whole. The status (200) goes out with the first decision;
    an error later in the body is a line of its own, as on the command line."""

    media_type = NDJSON

    def __init__(self, service: Service, generation: Generation, as_of, platform,
                 explain: bool, fields: dict):
        self.status_code = 200
        self.background = None
        self.service, self.generation = service, generation
        self.as_of, self.platform, self.explain = as_of, platform, explain
        self.fields = fields
        self.init_headers({GENERATION_HEADER: generation.id})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.fields.update(generation=self.generation.id[:12], lines=0, errors=0)
        started = False  # the status goes out with the first line, so an empty body gets 422
        received = 0

        async def write(body: bytes, more: bool = True) -> None:
            nonlocal started
            if not started:
                await send({"type": "http.response.start", "status": 200,
                            "headers": self.raw_headers})
                started = True
            await send({"type": "http.response.body", "body": body, "more_body": more})

        number = 0
        partial: list[bytes] = []  # the start of a line still arriving
        try:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                more = message.get("more_body", False)
                chunk = message.get("body", b"")
                received += len(chunk)
                pieces = chunk.split(b"\n")
                if not more:
                    pieces.append(b"")  # the last line needs no newline
                if len(pieces) == 1:
                    partial.append(pieces[0])
                    continue
                lines = [b"".join([*partial, pieces[0]]), *pieces[1:-1]]
                partial = [pieces[-1]]
                out = []
                for line in lines:
                    number += 1
                    if line.strip():
                        out.append(self._record(number, line))
                        await asyncio.sleep(0)  # let other requests in between lines
                if out:
                    await write(b"".join(out))
        except BodyTooLarge as error:
            if not started:
                raise  # nothing sent yet: the middleware answers 413
            diagnostic = rules.Diagnostic(
                "E003", f"the batch is larger than {error.limit} bytes", rules.Location(
                    f"{BODY_NAME}:{number + 1}"), hint="split it over several requests")
            self.fields["errors"] += 1
            await write(self._line({"line": number + 1, "error": [diagnostic.as_json()]}))
        if not received and not started:
            await problem(422, "empty-body", "empty request body",
                          "send one evidence document per line",
                          request_id=scope["state"]["request_id"])(scope, receive, send)
            return
        await write(b"", more=False)

    def _record(self, number: int, line: bytes) -> bytes:
        name = f"{BODY_NAME}:{number}"
        self.fields["lines"] += 1
        evidence, problems = parse_evidence(line, name)
        if evidence is None:
            self.fields["errors"] += 1
            return self._line({"line": number, "error": [d.as_json() for d in problems]})
        try:
            decision = self.generation.engine.check(evidence, self.as_of, self.platform,
                                                    explain=self.explain)
        except NoRulesetInForce as error:
            self.fields["errors"] += 1
            return self._line({"line": number,
                               "error": [no_ruleset_diagnostic(error, name).as_json()]})
        self.service.metrics.decisions.labels(decision.outcome).inc()
        return self._line(decision.as_json())

    @staticmethod
    def _line(record: dict) -> bytes:
        return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


# Errors at the edge: every one a problem document

_SLUGS = {401: ("unauthorized", "unauthorized"), 403: ("forbidden", "forbidden"),
          404: ("not-found", "not found"), 405: ("method-not-allowed", "method not allowed")}


async def _http_error(request: Request, error: HTTPException) -> Response:
    slug, title = _SLUGS.get(error.status_code, ("http-error", "request refused"))
    return problem(error.status_code, slug, title, str(error.detail),
                   request_id=getattr(request.state, "request_id", ""), headers=error.headers)


async def _invalid_request(request: Request, error: RequestValidationError) -> Response:
    # Pydantic's messages, never its `input`: it may quote what the client sent.
    parameters = [{"name": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                   "message": e["msg"]} for e in error.errors()]
    return problem(422, "invalid-request", "invalid request parameters",
                   "; ".join(f"{p['name']}: {p['message']}" for p in parameters),
                   request_id=getattr(request.state, "request_id", ""), parameters=parameters)


# The application

# Recent FastAPI traces and logs through OpenTelemetry on its own, exception messages
# included, and exports when the environment says so: the service does its own logging,
# which keeps evidence out, and pays nothing for the rest.
_NO_TELEMETRY = ({"telemetry": {"tracing": False, "metrics": False, "logs": False,
                                "operation_spans": False, "auto_configure": False}}
                 if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {})


def build_app() -> FastAPI:
    """The routes and error handlers, without a service behind them: enough for the
    OpenAPI document."""
    from engine.service.openapi import install

    app = FastAPI(**_NO_TELEMETRY, title="takedown", version=rules.__version__,
                  summary="Will a platform accept this takedown request, at which level, "
                  "how likely, and why?",
                  description="Pre-submission checks for people-smuggling takedown requests. "
                  "Every body and response uses the same JSON as the `takedown` command; "
                  "errors are RFC 9457 problem documents.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.include_router(build_routes())
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    install(app)
    return app


def create_app(settings: Settings, store: RuleStore | None = None) -> FastAPI:
    """The service, ready to serve: rule sets loaded (raises `RulesError` if they have
    errors) and every request going through the middleware."""
    if store is None:
        state_dir = settings.state_dir or Path(tempfile.mkdtemp(prefix="takedown-service-"))
        store = RuleStore(settings.rules_dir, state_dir)
        store.start()
    app = build_app()
    service = Service(settings, store, Metrics())
    app.state.service = service
    app.router.lifespan_context = service.lifespan
    app.add_middleware(ServiceMiddleware, metrics=service.metrics,
                       max_body_bytes=settings.max_body_bytes,
                       max_batch_bytes=settings.max_batch_bytes,
                       max_in_flight=settings.max_in_flight,
                       max_queue_seconds=settings.max_queue_seconds,
                       batch_paths={"/v1/check/batch"},
                       known_paths=[path for path in app.openapi()["paths"] if "{" not in path])
    return app


def create_app_from_env() -> FastAPI:
    """The factory each worker process calls (`takedown serve --workers N`)."""
    import os

    return create_app(Settings.from_env(os.environ[ENV_SETTINGS]))

