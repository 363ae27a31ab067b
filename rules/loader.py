"""Load rule-set files: the stages of the language, run one way.

read YAML (positions kept) -> check structure (JSON Schema) -> parse conditions (Lark)
-> resolve names and check types -> check rules against each other -> a `RuleSet`.

Every stage adds diagnostics and goes on where it can, so one run reports all the
problems of a file. Nothing here prints or exits.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import itertools
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs

from rules import nodes as n
from rules import types as t
from rules import vocabulary
from rules.checker import Scope, check_condition
from rules.diagnostics import Diagnostic, Location, sorted_diagnostics, suggest
from rules.document import Document, pointer_join, read_document
from rules.lexicon import Lexicon
from rules.parser import parse
from rules.ruleset import RULE_VERDICTS, Citation, Parameter, Prior, Rule, RuleSet, Source, TestCase

__all__ = ["load_ruleset", "load_text", "ruleset_schema", "MAX_RULES"]

MAX_RULES = 2000
MAX_TESTS = 2000


@cache
def ruleset_schema() -> dict:
    text = resources.files("rules").joinpath("ruleset.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = ruleset_schema()
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def load_ruleset(path: str | Path, display_name: str | None = None) -> tuple[RuleSet | None, list[Diagnostic]]:
    """Load one rule-set file. The rule set is None when the file has errors."""
    path = Path(path)
    name = display_name or str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        return None, [Diagnostic("Y005", f"the file cannot be read: {error.strerror or error}",
                                 Location(name, 0, 0, 0, 0), hint="check the path")]
    return load_text(data, name)


def load_text(data: str | bytes, name: str) -> tuple[RuleSet | None, list[Diagnostic]]:
    """Load a rule set from its text; `name` is the file name used in diagnostics.

    Loading is a pure function of the bytes and the name, and its results are frozen,
    so the same file read again (a command run twice in one process, a test suite) is
    loaded once."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    ruleset, diagnostics = _load(raw, name)
    return ruleset, list(diagnostics)


@functools.lru_cache(maxsize=512)
def _load(raw: bytes, name: str) -> tuple[RuleSet | None, tuple[Diagnostic, ...]]:
    data = raw
    document, diagnostics = read_document(data, name)
    if document is None:
        return None, tuple(diagnostics)
    builder = _Builder(document, hashlib.sha256(raw).hexdigest())
    ruleset = builder.build(diagnostics)
    diagnostics.extend(builder.diagnostics)
    diagnostics = sorted_diagnostics(diagnostics)
    if any(d.is_error for d in diagnostics):
        return None, tuple(diagnostics)
    return ruleset, tuple(diagnostics)


# Structure

_S_CODES = {"required": "S001", "additionalProperties": "S002", "type": "S003",
            "format": "S003", "unevaluatedProperties": "S002"}


@cache
def _fast_validator():
    """A compiled validator (Rust) that only says yes or no; the pure-Python validator
    runs only on files with problems, to report each with its place and a hint."""
    return jsonschema_rs.validator_for(ruleset_schema(), validate_formats=True)


def _structure(document: Document) -> list[Diagnostic]:
    if _fast_validator().is_valid(document.data):
        return []
    diagnostics: list[Diagnostic] = []
    errors = sorted(_validator().iter_errors(document.data), key=lambda e: list(e.absolute_path))
    for error in errors:
        diagnostics.extend(_schema_diagnostic(document, error))
    return diagnostics


def _schema_diagnostic(document: Document, error) -> Iterable[Diagnostic]:
    pointer = "".join(pointer_join("", p) for p in error.absolute_path)
    code = _S_CODES.get(error.validator, "S004")
    where = pointer or "the top level"
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        for key in missing:
            yield Diagnostic(code, f"missing key `{key}` in {_describe_pointer(pointer)}",
                             document.location(pointer, key=True), pointer=pointer,
                             hint=_required_hint(key))
        return
    if error.validator == "additionalProperties":
        schema = error.schema
        allowed = set(schema.get("properties", {}))
        patterns = schema.get("patternProperties", {})
        for key in error.instance:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            child = pointer_join(pointer, key)
            guess = suggest(key, allowed)
            hint = f"did you mean `{guess}`?" if guess else (
                "allowed here: " + ", ".join(sorted(allowed)) if allowed else "")
            yield Diagnostic(code, f"unknown key `{key}` in {_describe_pointer(pointer)}",
                             document.location(child, key=True), pointer=child, hint=hint)
        return
    message = error.message
    if error.validator == "enum":
        values = ", ".join(str(v) for v in error.validator_value)
        message = f"{json.dumps(error.instance)} is not one of: {values}"
        guess = suggest(str(error.instance), [str(v) for v in error.validator_value])
        hint = f"did you mean `{guess}`?" if guess else ""
    elif error.validator == "pattern":
        hint = _pattern_hint(pointer)
        message = f"{json.dumps(error.instance)} is not written as expected at {where}"
    elif error.validator in ("format", "type") and _is_date_schema(error.schema):
        hint = "write dates as YYYY-MM-DD, for example 2022-12-07"
        message = f"{json.dumps(error.instance, default=str)} is not a date"
    elif error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        hint = ""
    else:
        hint = ""
    yield Diagnostic(code, message[:300], document.location(pointer), pointer=pointer, hint=hint)


def _is_date_schema(schema) -> bool:
    # Only the date definition itself: many other schemas mention dates in their description.
    return isinstance(schema, dict) and schema.get("format") == "date"


def _describe_pointer(pointer: str) -> str:
    if not pointer:
        return "the rule set"
    parts = pointer.strip("/").split("/")
    if parts[0] == "rules" and len(parts) >= 2:
        if len(parts) >= 4 and parts[2] == "unless":
            return f"exception `{parts[3]}` of rule `{parts[1]}`"
        return f"rule `{parts[1]}`"
    if parts[0] in ("sources", "parameters", "lexicons") and len(parts) >= 2:
        return f"{parts[0][:-1]} `{parts[1]}`"
    if parts[0] == "tests" and len(parts) >= 2:
        return f"test {int(parts[1]) + 1}"
    return f"`{pointer}`"


def _required_hint(key: str) -> str:
    return {
        "cites": "every rule cites the clause it encodes: cites: {source: ..., section: ..., says: ...}",
        "retrieved": "say when the source was read: retrieved: YYYY-MM-DD",
        "when": "the condition under which the rule fires, in the expression language",
        "verdict": "one of: " + ", ".join(RULE_VERDICTS),
        "unit": "one of: count, days, ratio, money, number",
    }.get(key, "")


def _pattern_hint(pointer: str) -> str:
    if pointer.startswith("/rules/") and pointer.count("/") in (2, 4):
        return "rule ids are lower case words joined by hyphens, e.g. smuggling-offer"
    if "date" in pointer or "retrieved" in pointer:
        return "write dates as YYYY-MM-DD"
    return ""


# Building the rule set

def _date(value: Any) -> datetime.date | None:
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _Builder:
    def __init__(self, document: Document, sha256: str):
        self.document = document
        self.sha256 = sha256
        self.diagnostics: list[Diagnostic] = []

    def error(self, code: str, message: str, pointer: str, hint: str = "", key: bool = False,
              **extra) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.document.location(pointer, key=key),
                                           hint=hint, pointer=pointer, **extra))

    def build(self, earlier: list[Diagnostic]) -> RuleSet | None:
        data = self.document.data
        self.kind = str(data.get("kind", "policy")) if isinstance(data, dict) else "policy"
        if not isinstance(data, dict):
            self.error("S003", "a rule set is a mapping of keys (ruleset:, platform:, rules: ...)", "")
            return None
        structure = _structure(self.document)
        self.diagnostics.extend(structure)
        rules_data = _mapping(data.get("rules"))
        if len(rules_data) > MAX_RULES:
            self.error("L006", f"the rule set has {len(rules_data)} rules, more than {MAX_RULES}",
                       "/rules")
            return None
        sources = self._sources(data.get("sources"))
        parameters = self._parameters(data.get("parameters"), data)
        lexicons = self._lexicons(data.get("lexicons"))
        rules = self._rules(rules_data, sources, parameters, lexicons)
        priors = self._priors(data.get("priors"), sources, parameters, lexicons)
        tests = self._tests(data.get("tests"))
        effective = _mapping(data.get("effective"))
        start, until = _date(effective.get("from")), _date(effective.get("until"))
        if start and until and until <= start:
            self.error("V004", f"the rule set ends ({until}) before it starts ({start})",
                       "/effective/until", "`until` is the first day it no longer applies")
        self._parameter_dates(parameters, start)
        self._prior_dates(priors, start)
        self._sources_dates(sources, start)
        self._unused(rules, priors, parameters, lexicons)
        if structure or any(d.is_error for d in earlier + self.diagnostics) or start is None:
            return None
        return RuleSet(
            id=data["ruleset"], platform=data["platform"], version=str(data["version"]),
            effective_from=start, effective_until=until, language=data["language"],
            sources=sources, parameters=parameters, lexicons=lexicons, rules=tuple(rules),
            tests=tuple(tests), priors=tuple(priors), surfaces=tuple(data.get("surfaces", ())),
            kind=data.get("kind", "policy"), title=data.get("title", ""),
            description=data.get("description", ""), path=self.document.source.name,
            sha256=self.sha256, effective_location=self.document.location("/effective/from"))

    def _sources(self, raw) -> dict[str, Source]:
        out = {}
        for key, s in (raw or {}).items() if isinstance(raw, dict) else ():
            if not isinstance(s, dict):
                continue
            out[key] = Source(key=key, title=str(s.get("title", "")), url=str(s.get("url", "")),
                              retrieved=_date(s.get("retrieved")),
                              publisher=str(s.get("publisher", "")),
                              section=str(s.get("section", "")),
                              published=_date(s.get("published")), note=str(s.get("note", "")),
                              location=self.document.location(f"/sources/{key}", key=True))
        return out

    def _parameters(self, raw, data) -> dict[str, Parameter]:
        out = {}
        for name, p in (raw or {}).items() if isinstance(raw, dict) else ():
            if not isinstance(p, dict) or not isinstance(p.get("values"), dict):
                continue
            unit = p.get("unit")
            values = []
            for day_text, value in p["values"].items():
                day = _date(day_text)
                pointer = f"/parameters/{name}/values/{day_text}"
                converted = self._parameter_value(unit, value, p.get("currency"), pointer)
                if day is not None and converted is not None:
                    values.append((day, converted))
            values.sort(key=lambda item: item[0])
            out[name] = Parameter(name=name, unit=str(unit), values=tuple(values),
                                  estimated=str(p.get("estimated", "")),
                                  note=str(p.get("note", "")), source=str(p.get("source", "")),
                                  location=self.document.location(f"/parameters/{name}", key=True))
            if p.get("estimated"):
                self.diagnostics.append(Diagnostic(
                    "W001", f"`{name}` is an estimate, not a published figure",
                    self.document.location(f"/parameters/{name}/estimated", key=True),
                    pointer=f"/parameters/{name}",
                    hint=_shorten(str(p["estimated"]), 160)))
            # The schema reports a source that is not a text; only a text can be looked up.
            known = _mapping(data.get("sources"))
            if isinstance(p.get("source"), str) and p["source"] not in known:
                self.error("N007", f"unknown source `{p['source']}`", f"/parameters/{name}/source",
                           self._source_hint(p["source"], known))
        return out

    def _parameter_value(self, unit, value, currency, pointer):
        def bad(expected: str):
            self.error("V006", f"{json.dumps(value)} is not {expected}", pointer,
                       f"a {unit} parameter takes {expected}")
            return None

        if isinstance(value, bool):
            return bad("a number")
        if unit == "count":
            if not isinstance(value, int) or value < 0:
                return bad("a whole number of 0 or more")
            return value
        if unit == "ratio":
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                return bad("a number between 0 and 1")
            return value
        if unit == "days":
            if not isinstance(value, int) or value < 0:
                return bad("a whole number of days")
            return datetime.timedelta(days=value)
        if unit == "money":
            if isinstance(value, dict):
                amount, cur = value.get("amount"), value.get("currency")
            else:
                amount, cur = value, currency
            if not isinstance(amount, int | float) or not isinstance(cur, str):
                return bad("an amount with a currency")
            return n.Money(amount, cur)
        if unit == "number":
            if not isinstance(value, int | float):
                return bad("a number")
            return value
        return None

    def _lexicons(self, raw) -> dict[str, Lexicon]:
        out = {}
        for name, entries in (raw or {}).items() if isinstance(raw, dict) else ():
            if not isinstance(entries, dict):
                continue
            languages = {lang: [str(e) for e in words] for lang, words in entries.items()
                         if lang != "note" and isinstance(words, list)}
            try:
                lexicon = Lexicon.build(name, languages)
            except ValueError as error:
                self.error("L006", str(error), f"/lexicons/{name}")
                continue
            out[name] = lexicon
            for language, entry in lexicon.entries_that_never_match():
                index = languages.get(language, []).index(entry) if entry in languages.get(language, []) else 0
                self.error("W003", f"the entry {json.dumps(entry)} can never match",
                           f"/lexicons/{name}/{language}/{index}",
                           "after normalisation it has no letters or digits left")
        return out

    def _citations(self, raw, pointer: str, sources) -> tuple[Citation, ...]:
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for index, c in enumerate(items):
            if not isinstance(c, dict):
                continue
            where = f"{pointer}/{index}" if isinstance(raw, list) else pointer
            key = c.get("source")
            if isinstance(key, str) and key not in sources:
                self.error("N007", f"unknown source `{key}`", f"{where}/source",
                           self._source_hint(key, sources))
            out.append(Citation(source=str(key), section=str(c.get("section", "")),
                                says=str(c.get("says", "")), url=str(c.get("url", ""))))
        return tuple(out)

    @staticmethod
    def _source_hint(key: str, sources) -> str:
        guess = suggest(key, sources)
        if guess:
            return f"did you mean `{guess}`?"
        return "declare it under `sources:`" + (
            " (declared: " + ", ".join(sorted(sources)) + ")" if sources else "")

    def _rules(self, raw: dict, sources, parameters, lexicons) -> list[Rule]:
        # First pass: every id, what it applies to, where it is written.
        declared: dict[str, str] = {}
        applies: dict[str, str] = {}
        entries: list[tuple[str, dict, str, str]] = []  # id, data, pointer, parent id
        for rule_id, r in raw.items():
            if not isinstance(r, dict):
                continue
            pointer = f"/rules/{rule_id}"
            entries.append((rule_id, r, pointer, ""))
            declared[rule_id] = pointer
            applies[rule_id] = str(r.get("applies_to", "post"))
            unless = _mapping(r.get("unless"))
            for exc_id, e in unless.items():
                exc_pointer = f"{pointer}/unless/{exc_id}"
                if exc_id in declared:
                    self.error("N008", f"the id `{exc_id}` is already used", exc_pointer,
                               "rules and exceptions share one namespace; rename one", key=True,
                               related=(("first used here",
                                         self.document.location(declared[exc_id], key=True)),))
                    continue
                declared[exc_id] = exc_pointer
                if isinstance(e, dict):
                    entries.append((exc_id, e, exc_pointer, rule_id))
                    applies[exc_id] = applies[rule_id]
        param_types = {name: t.UNIT_TYPES.get(p.unit, t.ANY) for name, p in parameters.items()}
        # Only top-level rules can be named by `violates`; an exception is part of its rule.
        referable = {rid: applies[rid] for rid, _, _, parent in entries if not parent}
        built: dict[str, Rule] = {}
        references: dict[str, set[str]] = {}
        for rule_id, r, pointer, parent in entries:
            applies_to = applies[rule_id]
            if applies_to not in ("post", "page", "request"):
                continue
            scope = Scope(applies_to, param_types, frozenset(lexicons), referable, self.kind)
            condition, refs = self._condition(r.get("when"), f"{pointer}/when", scope)
            references[rule_id] = refs
            verdict = str(r.get("verdict", ""))
            if not parent and verdict == "allowed":
                self.error("R005", "a rule cannot give the verdict `allowed`", f"{pointer}/verdict",
                           "`allowed` belongs to an exception under `unless:`")
            if verdict == "remove_page" and applies_to == "post":
                self.error("R005", "a post rule cannot remove the page", f"{pointer}/verdict",
                           "write a page rule that counts the violating posts: "
                           "count(p in page.posts where p violates ...) >= ...")
            built[rule_id] = Rule(
                id=rule_id, applies_to=applies_to,
                cites=self._citations(r.get("cites"), f"{pointer}/cites", sources),
                when=str(r.get("when", "")), condition=condition, verdict=verdict,
                confidence=float(r.get("confidence", 0.5)) if isinstance(
                    r.get("confidence", 0.5), int | float) else 0.5,
                title=str(r.get("title", "")), message=str(r.get("message", "")),
                severity=str(r.get("severity", "")), priority=int(r.get("priority", 0))
                if isinstance(r.get("priority", 0), int) else 0,
                overrides=parent, location=self.document.location(pointer, key=True),
                when_location=self.document.location(f"{pointer}/when"))
        self._cycles(references, entries)
        rules = []
        for rule_id, _, pointer, parent in entries:
            if parent or rule_id not in built:
                continue
            rule = built[rule_id]
            exceptions = tuple(built[eid] for eid, _, _, p in entries if p == rule_id and eid in built)
            self._exception_checks(rule, exceptions, pointer)
            rules.append(_with_exceptions(rule, exceptions))
        return rules

    def _priors(self, raw, sources, parameters, lexicons) -> list[Prior]:
        out = []
        param_types = {name: t.UNIT_TYPES.get(p.unit, t.ANY) for name, p in parameters.items()}
        for prior_id, p in (raw or {}).items() if isinstance(raw, dict) else ():
            if not isinstance(p, dict) or not isinstance(p.get("fact"), str):
                continue
            pointer = f"/priors/{prior_id}"
            fact = p["fact"]
            if not self._prior_fact(fact, f"{pointer}/fact"):
                continue
            root = fact.split(".", 1)[0]
            # A prior's condition is read once the policies have been applied, so it may
            # ask what they concluded (p.policy.violates), whatever this rule set's kind.
            scope = Scope(root, param_types, frozenset(lexicons), {}, "priors")
            given, _ = self._condition(p.get("given"), f"{pointer}/given", scope)
            if isinstance(p.get("given"), str) and given is None:
                continue
            probability = p.get("probability")
            if isinstance(probability, dict):
                dated = sorted((day, float(v)) for day, v in
                               ((_date(k), v) for k, v in probability.items())
                               if day is not None and isinstance(v, int | float))
            elif isinstance(probability, int | float) and not isinstance(probability, bool):
                dated = [(datetime.date.min, float(probability))]
            else:
                continue
            source = p.get("source")
            if isinstance(source, str) and source not in sources:
                self.error("N007", f"unknown source `{source}`", f"{pointer}/source",
                           self._source_hint(source, sources))
            if p.get("estimated"):
                self.diagnostics.append(Diagnostic(
                    "W001", f"the prior `{prior_id}` is an estimate, not a published figure",
                    self.document.location(f"{pointer}/estimated", key=True), pointer=pointer,
                    hint=_shorten(str(p["estimated"]), 160)))
            out.append(Prior(id=prior_id, fact=fact, given=given,
                             given_text=str(p.get("given", "")), probabilities=tuple(dated),
                             source=str(source or ""), estimated=str(p.get("estimated", "")),
                             note=str(p.get("note", "")),
                             location=self.document.location(pointer, key=True)))
        return out

    def _prior_fact(self, fact: str, pointer: str) -> bool:
        """Whether `fact` names a yes/no field of the evidence; a diagnostic if not."""
        names = fact.split(".")
        typ = vocabulary.ROOTS.get(names[0])
        for index, name in enumerate(names[1:], start=1):
            prefix = ".".join(names[:index])
            fields = (vocabulary.RECORDS.get(typ.name, {})
                      if typ and typ.kind == "record" and typ.name else {})
            if name not in fields:
                guess = suggest(name, fields)
                self.error("N001", f"unknown evidence field `{prefix}.{name}`", pointer,
                           f"did you mean `{prefix}.{guess}`?" if guess else
                           f"the fields of {prefix} are: " + ", ".join(sorted(fields))
                           if fields else "a prior names a field of post, page or request")
                return False
            if typ is not None and (typ.name, name) in vocabulary.DERIVED:
                self.error("T008", f"`{prefix}.{name}` is what the engine concludes, not evidence",
                           pointer, "give priors for the facts the policies read instead")
                return False
            typ = fields[name]
        if typ is None or not (typ.kind in ("bool", "date", "list") or typ == t.COUNT):
            self.error("T008", f"`{fact}` is {t.describe(typ) if typ else 'not a field'}, "
                       "not a yes/no fact, a date, a count or a list", pointer,
                       "priors give the probability that a yes/no field is true, that a "
                       "date is recent, or that a count or a list is more than none")
            return False
        return True

    def _condition(self, text, pointer: str, scope: Scope):
        if not isinstance(text, str):
            return None, set()
        origin = self.document.expression_origin(pointer, text)
        node, diagnostics = parse(text, origin)
        self.diagnostics.extend(diagnostics)
        if node is None:
            return None, set()
        result = check_condition(node, scope, origin)
        self.diagnostics.extend(result.diagnostics)
        if result.diagnostics and any(d.is_error for d in result.diagnostics):
            return None, result.references
        return result.condition, result.references

    def _cycles(self, references: dict[str, set[str]], entries) -> None:
        pointers = {rid: p for rid, _, p, _ in entries}
        # Exceptions belong to their rule: a rule's verdict depends on its exceptions too.
        depends = {rid: set(refs) for rid, refs in references.items()}
        for rid, _, _, parent in entries:
            if parent and parent in depends:
                depends[parent] |= references.get(rid, set())
        state: dict[str, int] = {}
        reported: set[frozenset] = set()

        def visit(rule_id: str, trail: list[str]) -> None:
            state[rule_id] = 1
            for target in sorted(depends.get(rule_id, ())):
                if state.get(target) == 1:
                    cycle = trail[trail.index(target):] + [target] if target in trail else [rule_id, target]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.error("R001", "rules refer to each other in a cycle: "
                                   + " -> ".join(cycle), f"{pointers[cycle[0]]}/when",
                                   "one of these rules must be decided without the others")
                elif state.get(target) is None and target in depends:
                    visit(target, trail + [target])
            state[rule_id] = 2

        for rule_id in depends:
            if state.get(rule_id) is None:
                visit(rule_id, [rule_id])

    def _exception_checks(self, rule: Rule, exceptions: tuple[Rule, ...], pointer: str) -> None:
        for exc in exceptions:
            exc_pointer = f"{pointer}/unless/{exc.id}"
            if exc.verdict == rule.verdict:
                self.error("R004", f"the exception `{exc.id}` gives the same verdict as its rule "
                           f"(`{rule.verdict}`)", f"{exc_pointer}/verdict",
                           "an exception changes the verdict, usually to `allowed`")
            if rule.condition is not None and exc.condition is not None and _never_together(
                    rule.condition, exc.condition):
                self.error("R002", f"the exception `{exc.id}` can never apply when `{rule.id}` "
                           "fires", f"{exc_pointer}/when",
                           "its condition contradicts the rule's own condition")
        for a, b in itertools.combinations(exceptions, 2):
            if a.verdict != b.verdict and a.priority == b.priority:
                self.error("R003", f"the exceptions `{a.id}` and `{b.id}` give different verdicts "
                           f"({a.verdict}, {b.verdict}) with the same priority",
                           f"{pointer}/unless/{b.id}",
                           "give one of them a higher `priority:`", key=True)

    def _parameter_dates(self, parameters: dict[str, Parameter], start) -> None:
        if start is None:
            return
        for name, p in parameters.items():
            if p.values and p.values[0][0] > start:
                self.error("V003", f"`{name}` has no value before {p.values[0][0]}, but the rule "
                           f"set applies from {start}", f"/parameters/{name}/values",
                           f"add a value dated {start} or earlier")

    def _prior_dates(self, priors: list[Prior], start) -> None:
        if start is None:
            return
        for p in priors:
            if p.probabilities and p.probabilities[0][0] > start:
                self.error("V003", f"the prior `{p.id}` has no probability before "
                           f"{p.probabilities[0][0]}, but the rule set applies from {start}",
                           f"/priors/{p.id}/probability",
                           f"add a probability dated {start} or earlier")

    def _sources_dates(self, sources: dict[str, Source], start) -> None:
        if start is None:
            return
        for key, s in sources.items():
            if s.retrieved and s.retrieved < start:
                self.diagnostics.append(Diagnostic(
                    "W002", f"the source `{key}` was retrieved on {s.retrieved}, before this "
                    f"version took effect ({start})",
                    self.document.location(f"/sources/{key}/retrieved"),
                    pointer=f"/sources/{key}/retrieved",
                    hint="read the version of the page in force from the effective date"))

    def _unused(self, rules: list[Rule], priors: list[Prior], parameters, lexicons) -> None:
        used_params, used_lexicons = set(), set()
        conditions = [r.condition for rule in rules for r in (rule, *rule.exceptions)]
        conditions += [p.given for p in priors if p.given is not None]
        for condition in conditions:
            if condition is None:
                continue
            for node in n.walk(condition):
                if isinstance(node, n.Param):
                    used_params.add(node.name)
                elif isinstance(node, n.Mentions):
                    used_lexicons.add(node.lexicon)
        if any(condition is None for condition in conditions):
            return  # a condition with errors may be the one that uses them
        for name in parameters:
            if name not in used_params:
                self.diagnostics.append(Diagnostic(
                    "W004", f"the parameter `{name}` is never used",
                    self.document.location(f"/parameters/{name}", key=True),
                    pointer=f"/parameters/{name}", hint="remove it, or refer to it in a condition"))
        for name in lexicons:
            if name not in used_lexicons:
                self.diagnostics.append(Diagnostic(
                    "W005", f"the lexicon `{name}` is never used",
                    self.document.location(f"/lexicons/{name}", key=True),
                    pointer=f"/lexicons/{name}", hint=f"use it: post.text mentions {name}"))

    def _tests(self, raw) -> list[TestCase]:
        out: list[TestCase] = []
        if not isinstance(raw, list):
            return out
        if len(raw) > MAX_TESTS:
            self.error("L006", f"the rule set has {len(raw)} tests, more than {MAX_TESTS}", "/tests")
            return out
        for index, case in enumerate(raw):
            if not isinstance(case, dict):
                continue
            out.append(TestCase(name=str(case.get("name", f"test {index + 1}")),
                                evidence=case.get("evidence", {}),
                                expect=_mapping(case.get("expect")),
                                as_of=_date(case.get("as_of")),
                                platform=str(case.get("platform", "")),
                                location=self.document.location(f"/tests/{index}")))
        return out


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _with_exceptions(rule: Rule, exceptions: tuple[Rule, ...]) -> Rule:
    return dataclasses.replace(rule, exceptions=exceptions)


# Can an exception apply when its rule fires? Treat each atomic condition (anything
# that is not and/or/not) as an independent three-valued variable and look for one
# assignment under which both conditions can be true. Conditions with many atoms are
# assumed satisfiable: the check only ever reports a sure contradiction.

_MAX_ATOMS = 10


def _atoms(node: n.Node, out: dict) -> None:
    if isinstance(node, n.And | n.Or):
        _atoms(node.left, out)
        _atoms(node.right, out)
    elif isinstance(node, n.Not):
        _atoms(node.operand, out)
    elif isinstance(node, n.Literal) and node.kind == "bool":
        return
    else:
        out.setdefault(node, f"a{len(out)}")


def _never_together(rule: n.Node, exception: n.Node) -> bool:
    atoms: dict = {}
    _atoms(rule, atoms)
    _atoms(exception, atoms)
    if len(atoms) > _MAX_ATOMS:
        return False
    conjunction = n.And(rule, exception)
    names = list(atoms.values())
    for values in itertools.product((True, False), repeat=len(names)):
        env = dict(zip(names, values, strict=True))
        if _assign(conjunction, atoms, env) is True:
            return False
    return True


def _assign(node: n.Node, atoms: dict, env: dict):
    if isinstance(node, n.And):
        a, b = _assign(node.left, atoms, env), _assign(node.right, atoms, env)
        return a and b
    if isinstance(node, n.Or):
        a, b = _assign(node.left, atoms, env), _assign(node.right, atoms, env)
        return a or b
    if isinstance(node, n.Not):
        return not _assign(node.operand, atoms, env)
    if isinstance(node, n.Literal) and node.kind == "bool":
        return node.value
    return env[atoms[node]]


def _mapping(value: Any) -> dict:
    """A mapping of the file, or an empty one where the file has something else (the
    schema reports that)."""
    return value if isinstance(value, dict) else {}
