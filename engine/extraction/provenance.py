"""Extracted signals in an evidence document, and the record of where each came from.

This module owns the `extraction` block of an evidence document: writing an extraction's
signals into a copy of the document where the analysts left them out (an analyst's own
value always wins, even `"signals": "none"`), recording what was written, what was found
but kept from the analyst, and the suggestions; and, for decisions, telling which signals
of a document are still the extractor's (`extracted_signals`). Because the record travels
with the document, a decision on evidence enriched earlier (`takedown extract`, `POST
/v1/extract`) still says which signals were extracted.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rules import vocabulary

if TYPE_CHECKING:  # the extractor's modules load word lists; reading a document needs none
    from engine.extraction.extractor import Extraction

__all__ = ["apply", "strip", "extracted_signals", "BLOCK"]

BLOCK = "extraction"
_MISSING = object()


def apply(document: Mapping[str, Any], extraction: Extraction) -> dict:
    """A copy of `document` with the extracted signals written where analysts left them
    out, and the `extraction` block saying which, and where the text says otherwise than
    the analyst (`kept`)."""
    out = strip(document)
    applied, kept = [], []
    for signal in extraction.signals:
        parent, key = _parent(out, signal.pointer, create=True)
        if parent is None:
            continue
        current = parent.get(key, _MISSING)
        if current is _MISSING:
            parent[key] = copy.deepcopy(signal.value)
            applied.append(signal.as_json())
        elif current != signal.value:
            kept.append({"pointer": signal.pointer, "fact": signal.fact, "post": signal.post,
                         "analyst": current, "extracted": signal.value,
                         "confidence": signal.confidence})
    block = extraction.as_json()
    block["signals"] = applied
    block["kept"] = kept
    out[BLOCK] = block
    return out


def strip(document: Mapping[str, Any]) -> dict:
    """A copy of `document` without the signals a previous extraction wrote (those still
    as it wrote them) and without its `extraction` block."""
    out = copy.deepcopy(dict(document))
    block = out.pop(BLOCK, None)
    for entry in (block or {}).get("signals", ()):
        parent, key = _parent(out, entry.get("pointer", ""), create=False)
        if parent is not None and parent.get(key, _MISSING) == entry.get("value"):
            del parent[key]
    for post in (out.get("target") or {}).get("posts") or ():
        _prune(post)
    _prune(out.get("target") or {})
    return out


def _prune(record: dict) -> None:
    """Drop the `route` and `signals` objects an extraction created and left empty."""
    signals = record.get("signals")
    if isinstance(signals, dict):
        if signals.get("route") == {}:
            del signals["route"]
        if not signals:
            del record["signals"]


def extracted_signals(document: Mapping[str, Any]) -> list[dict]:
    """The entries of the document's `extraction` block whose value is still the one in
    the document: the signals a decision on it rests on that an analyst did not give."""
    block = document.get(BLOCK)
    if not isinstance(block, Mapping):
        return []
    out = []
    for entry in block.get("signals", ()):
        parent, key = _parent(document, entry.get("pointer", ""), create=False)
        if parent is not None and parent.get(key, _MISSING) == entry.get("value"):
            out.append(entry)
    return out


def _parent(document: Any, pointer: str, create: bool) -> tuple[dict | None, str]:
    """The object holding the last step of a JSON pointer such as
    /target/posts/0/signals/route/to, creating `signals` and `route` objects on the way
    when `create`; a `"signals": "none"` becomes the flags it stands for."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if not parts:
        return None, ""
    node = document
    for index, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return None, ""
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            return None, ""
        child = node.get(part, _MISSING)
        if child == "none" and part == "signals" and create:
            record = "signals" if parts[0] == "target" and "posts" in parts[:index] else "page_signals"
            child = node[part] = {name: False for name, t in vocabulary.RECORDS[record].items()
                                  if t.kind == "bool"}
        elif child is _MISSING or child is None:
            if not create:
                return None, ""
            child = node[part] = {}
        node = child
    return (node, parts[-1]) if isinstance(node, dict) else (None, "")


def with_extraction(extractor, evidence, mode: str = "all"):
    """`evidence` with the signals its texts establish written in, the analyst's kept, as
    (evidence, problems): with `mode` found, only what the texts show; with all, also what
    they rule out by never mentioning it (`Extraction.found`)."""
    from engine.evidence import parse_evidence

    extraction = extractor.extract(evidence)
    if mode == "found":
        extraction = extraction.found()
    if not extraction.signals:
        return evidence, []
    enriched, problems = parse_evidence(apply(evidence.document, extraction), evidence.name)
    if enriched is not None and evidence.readings:
        enriched = dataclasses.replace(enriched, readings=evidence.readings)
    return enriched, problems
