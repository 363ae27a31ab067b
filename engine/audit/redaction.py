"""Redaction: masking personal data (phone numbers, handles, e-mail addresses) in
evidence before it is stored, and in the decision's quotations of it.

A rule is a regular expression and the evidence fields it applies to (JSON pointer
patterns, `*` matching any run of characters, `/` included). Every letter and digit of
a match becomes `•` and everything else stays, so texts keep their length: analysts'
annotations and the decision's text spans still point at the right characters, and
the stored evidence still follows the evidence schema. Each masked run is listed (rule,
pointer, start, end), never its content, so that reports can say what was redacted.

The decision is always made on the evidence as submitted; redaction only decides
what is kept.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.audit.pointers import escape, resolve_pointer

__all__ = ["RedactionRule", "RedactionError", "DEFAULT_RULES", "redact", "mask_decision",
           "rules_from", "load_rules", "MASK"]

MASK = "•"


class RedactionError(Exception):
    """A redaction rule file that cannot be used."""


@dataclass(frozen=True)
class RedactionRule:
    name: str
    pattern: str
    fields: tuple[str, ...] = ("/target/*",)
    description: str = ""

    @cached_property
    def regex(self) -> re.Pattern:
        return re.compile(self.pattern)

    def applies_to(self, pointer: str) -> bool:
        return any(fnmatch.fnmatchcase(pointer, glob) for glob in self.fields)


DEFAULT_RULES = (
    RedactionRule("email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
                  description="e-mail addresses"),
    RedactionRule("phone", r"(?<![\w+])(?:\+|00|0)\d(?:[ ().-]{0,2}\d){6,}(?!\w)",
                  description="phone numbers: at least 7 digits after a leading +, 00 or 0"),
    RedactionRule("handle", r"(?<![\w.@/])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?",
                  description="@handles on Telegram, Instagram, X, TikTok (not inside URLs: "
                  "the target's address stays usable)"),
)


def _mask(text: str) -> str:
    return re.sub(r"\w", MASK, text)


def _redact_text(text: str, pointer: str, rules: Sequence[RedactionRule],
                 found: list[dict] | None) -> str:
    for rule in rules:
        if not rule.applies_to(pointer):
            continue
        pieces, last = [], 0
        for match in rule.regex.finditer(text):
            if match.end() == match.start():
                continue
            pieces += [text[last:match.start()], _mask(match.group(0))]
            last = match.end()
            if found is not None:
                found.append({"rule": rule.name, "pointer": pointer, "start": match.start(),
                              "end": match.end()})
        if pieces:
            text = "".join(pieces) + text[last:]
    return text


def redact(document: Mapping, rules: Sequence[RedactionRule]) -> tuple[dict, list[dict]]:
    """A copy of `document` with what the rules match masked, and where it was masked."""
    found: list[dict] = []

    def walk(value: Any, pointer: str) -> Any:
        if isinstance(value, str):
            return _redact_text(value, pointer, rules, found)
        if isinstance(value, Mapping):
            return {k: walk(v, f"{pointer}/{escape(k)}") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{pointer}/{i}") for i, v in enumerate(value)]
        return value

    return walk(document, "") if rules else dict(document), found


def mask_decision(decision: dict, stored_evidence: Mapping,
                  rules: Sequence[RedactionRule]) -> dict:
    """The decision with its quotations of the evidence (values read, text spans) masked
    as the stored evidence is. Quotes are re-taken from the stored evidence where their
    pointer reaches it, which masks exactly the same characters."""
    if not rules:
        return decision
    out = dict(decision)
    for key in ("reasons", "deficiencies"):
        reasons = []
        for reason in decision.get(key, []):
            reason = dict(reason)
            reason["evidence"] = [_masked_item(item, stored_evidence, rules)
                                  for item in reason.get("evidence", [])]
            reason["spans"] = [_masked_span(span, stored_evidence, rules)
                               for span in reason.get("spans", [])]
            reasons.append(reason)
        out[key] = reasons
    readings = (decision.get("evidence") or {}).get("read_as")
    if readings:
        # Shorthand read as the format's form quotes what was given: a phone number written
        # as a contact is masked as the stored contact is.
        out["evidence"] = {**decision["evidence"], "read_as": [
            {**r, "read_as": resolve_pointer(stored_evidence, r["pointer"]),
             "given": _redact_text(r["given"], r["pointer"] + "/value", rules, None)
             if isinstance(r["given"], str) else r["given"]}
            for r in readings]}
    return out


def _masked_item(item: dict, stored: Mapping, rules) -> dict:
    if not isinstance(item.get("value"), str):
        return item
    now = resolve_pointer(stored, item["pointer"])
    value = now if isinstance(now, str) else _redact_text(item["value"], item["pointer"], rules, None)
    return {**item, "value": value}


def _masked_span(span: dict, stored: Mapping, rules) -> dict:
    text = resolve_pointer(stored, span["pointer"])
    if isinstance(text, str) and span["end"] <= len(text):
        quoted = text[span["start"]:span["end"]]
    else:  # a text the rules read but the document does not hold (an English post's translation)
        quoted = _redact_text(span["text"], span["pointer"], rules, None)
    return {**span, "text": quoted}


def rules_from(option: str) -> tuple[RedactionRule, ...]:
    """The rules named on the command line: `default`, `none`, or a YAML file."""
    if option == "default":
        return DEFAULT_RULES
    if option == "none":
        return ()
    return load_rules(option)


def load_rules(path: str | Path) -> tuple[RedactionRule, ...]:
    """Read redaction rules from YAML: `rules:`, a list of {name, pattern, fields?,
    description?}; `include_defaults: true` adds the built-in rules after them."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise RedactionError(f"cannot read {path}: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise RedactionError(f"{path} is not YAML: {error}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("rules", []), list):
        raise RedactionError(f"{path}: expected a mapping with a list under `rules`")
    out = []
    for index, entry in enumerate(data.get("rules", [])):
        where = f"{path}: rules[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("pattern"), str):
            raise RedactionError(f"{where}: each rule needs a `name` and a `pattern` (text)")
        fields = entry.get("fields", ["/target/*"])
        if isinstance(fields, str):
            fields = [fields]
        if not isinstance(fields, list) or not all(isinstance(f, str) and f.startswith("/")
                                                   for f in fields):
            raise RedactionError(f"{where}: `fields` is a list of JSON pointer patterns "
                                 "such as /target/*")
        unknown = set(entry) - {"name", "pattern", "fields", "description"}
        if unknown:
            raise RedactionError(f"{where}: unknown key `{sorted(unknown)[0]}`")
        rule = RedactionRule(entry["name"], entry["pattern"], tuple(fields),
                             str(entry.get("description", "")))
        try:
            rule.regex  # noqa: B018 - compile now, to report a bad pattern here
        except re.error as error:
            raise RedactionError(f"{where}: the pattern is not a regular expression: "
                                 f"{error}") from None
        out.append(rule)
    if data.get("include_defaults"):
        out.extend(DEFAULT_RULES)
    return tuple(out)
