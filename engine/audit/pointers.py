"""JSON pointers (RFC 6901) into stored evidence: the redaction and the reports quote
evidence by the same pointers the decision gives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["escape", "resolve_pointer"]


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value at `pointer`, or None when the document has nothing there."""
    node = document
    for part in pointer.strip("/").split("/") if pointer.strip("/") else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node
