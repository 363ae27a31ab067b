"""The OpenAPI 3.1 document: FastAPI's, from the routes, with the published JSON Schemas
as its components.

The schemas stay where they are published (engine/evidence.schema.json,
engine/decision.schema.json, engine/service/service.schema.json); they are copied in as
components, each `$defs` entry becoming a component of its own and every `$ref`
rewritten to point at it. One schema, then, not two: the OpenAPI document is derived.

The document is also kept in the repository (openapi.json beside this file), for
clients to generate code from and reviewers to read. A test fails when it drifts from
what the code generates; to bring it up to date:

    .venv/bin/python -m engine.service
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from engine.evidence_schema import SCHEMA_PATH as EVIDENCE_SCHEMA

__all__ = ["OPENAPI_PATH", "install", "document", "render", "schema_components"]

OPENAPI_PATH = Path(__file__).with_name("openapi.json")
DECISION_SCHEMA = Path(__file__).resolve().parent.parent / "decision.schema.json"
SERVICE_SCHEMA = Path(__file__).with_name("service.schema.json")
# Component name of each schema file's root ("" for a file that is only $defs).
SCHEMA_FILES = {"Evidence": EVIDENCE_SCHEMA, "Decision": DECISION_SCHEMA, "": SERVICE_SCHEMA}


def schema_components() -> dict[str, Any]:
    """Every schema and `$defs` entry of the published schema files, as OpenAPI
    components: `Decision`, `Decision.reason`, `Evidence.post`, `Problem`..."""
    documents = {owner: json.loads(path.read_text(encoding="utf-8"))
                 for owner, path in SCHEMA_FILES.items()}
    owners = {doc["$id"]: owner for owner, doc in documents.items()}
    components: dict[str, Any] = {}
    for owner, doc in documents.items():
        def rewrite(node, base=doc["$id"], owner=owner):
            if isinstance(node, list):
                return [rewrite(x) for x in node]
            if not isinstance(node, dict):
                return node
            out = {k: rewrite(v) for k, v in node.items()}
            if isinstance(node.get("$ref"), str):
                out["$ref"] = _component_ref(node["$ref"], base, owner, owners)
            return out

        if owner:
            root = {k: v for k, v in doc.items() if k not in ("$schema", "$id", "$defs")}
            components[owner] = rewrite(root)
        for name, definition in doc.get("$defs", {}).items():
            components[_name(owner, name)] = rewrite(definition)
    return components


def _name(owner: str, definition: str) -> str:
    return f"{owner}.{definition}" if owner else definition


def _component_ref(ref: str, base: str, owner: str, owners: dict[str, str]) -> str:
    target, _, fragment = ref.partition("#")
    if target:
        absolute = urljoin(base, target)
        if absolute not in owners:
            raise ValueError(f"$ref to a schema that is not published here: {ref}")
        owner = owners[absolute]
    if fragment.startswith("/$defs/") and "/" not in fragment[len("/$defs/"):]:
        return f"#/components/schemas/{_name(owner, fragment[len('/$defs/'):])}"
    if fragment in ("", "/") and owner:
        return f"#/components/schemas/{owner}"
    raise ValueError(f"$ref that the OpenAPI document cannot express: {ref}")


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of `app`, with the published schemas as components."""
    out = get_openapi(title=app.title, version=app.version, summary=app.summary,
                      description=app.description, routes=app.routes)
    components = out.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, schema in schema_components().items():
        if name in schemas:
            raise ValueError(f"two components named {name}")
        schemas[name] = schema
    components["schemas"] = dict(sorted(schemas.items()))
    return out


def render(app: FastAPI) -> str:
    """The document as kept in the repository."""
    return json.dumps(document(app), ensure_ascii=False, indent=2) + "\n"


def install(app: FastAPI) -> None:
    """Serve this document at the app's openapi_url instead of FastAPI's own."""
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if "document" not in cached:
            cached["document"] = document(app)
        return cached["document"]

    app.openapi = openapi
