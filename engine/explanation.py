"""Why: reasons, thresholds, exceptions and missing facts for a decision, and the full
evaluation trace for `takedown explain`.

Everything here runs on the traced path (the reference interpreter with a recording
tracer), and only for what a decision needs explained: the rules that hold, the
threshold comparisons of page and request rules, and the rules whose result is
unknown. The fast path never imports this module.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

import rules
from engine.decision import (
    AppliedException,
    Citation,
    Decision,
    MissingFact,
    Reason,
    Span,
    Threshold,
    rank,
)
from engine.evidence import Evidence
from rules import nodes as n
from rules.checker import compile_pattern
from rules.runtime import Interval

__all__ = ["explain", "trace", "TraceLine"]

MAX_WHAT_IFS = 24


def _citations(ruleset: rules.RuleSet, rule: rules.Rule) -> tuple[Citation, ...]:
    out = []
    for c in rule.cites:
        source = ruleset.sources.get(c.source)
        out.append(Citation(source=c.source, title=source.title if source else "",
                            section=c.section, says=c.says,
                            url=c.url or (source.url if source else "")))
    return tuple(out)


def _env(evidence_target, request, post=None) -> dict:
    env = {"page": evidence_target, "request": request}
    if post is not None:
        env["post"] = post
    return env


def _traced(run, rule: rules.Rule, env: Mapping) -> rules.RecordingTracer:
    """The reference interpreter's full record of one condition on one subject."""
    tracer = rules.RecordingTracer()
    if rule.condition is not None:
        rules.evaluate(rule.condition, env, run.params, run.evaluation.verdicts,
                       run.ruleset.lexicons, tracer)
    return tracer


def _pointer(run, node: n.Path, env: Mapping) -> str | None:
    base = run.pointer_of(env.get(node.root))
    if base is None:
        return None
    return base + "".join("/" + name for name in node.names[1:])


def _plain(value: Any) -> Any:
    if isinstance(value, rules.Money):
        return {"amount": value.amount, "currency": value.currency}
    if isinstance(value, Interval):
        return value.as_json()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "days"):
        return f"{value.days} days"
    return value


def _evidence_read(run, tracer: rules.RecordingTracer) -> tuple[dict, ...]:
    """The known leaf values a rule read, with where they are in the evidence."""
    seen: dict[str, Any] = {}
    for node, value, env in tracer.events:
        if not isinstance(node, n.Path) or len(node.names) < 2 or value is None:
            continue
        if isinstance(value, dict) or value is False or value == []:
            continue
        pointer = _pointer(run, node, env)
        if pointer and pointer not in seen:
            seen[pointer] = _plain(value) if not isinstance(value, list) else len(value)
    return tuple({"pointer": p, "value": v} for p, v in seen.items())


def _spans(run, tracer: rules.RecordingTracer) -> tuple[Span, ...]:
    """Where in the texts the text tests matched."""
    out: list[Span] = []
    for node, value, env in tracer.events:
        if value is not True or not isinstance(node, n.Mentions | n.Matches | n.Contains):
            continue
        if not isinstance(node.text, n.Path):
            continue
        text = rules.evaluate(node.text, env, run.params, run.evaluation.verdicts,
                              run.ruleset.lexicons)
        pointer = _pointer(run, node.text, env)
        if not isinstance(text, str) or pointer is None:
            continue
        if isinstance(node, n.Mentions):
            for match in run.ruleset.lexicons[node.lexicon].find(text):
                out.append(Span(pointer, match.start, match.end, text[match.start:match.end],
                                f"{node.lexicon}: {match.entry}"))
        elif isinstance(node, n.Matches):
            found = compile_pattern(node.pattern).search(text)
            if found:
                out.append(Span(pointer, found.start(), found.end(), found.group(0), node.pattern))
        else:
            needle = rules.evaluate(node.needle, env, run.params, run.evaluation.verdicts,
                                    run.ruleset.lexicons)
            if isinstance(needle, str):
                at = text.casefold().find(needle.casefold())
                if at >= 0:
                    out.append(Span(pointer, at, at + len(needle), text[at:at + len(needle)],
                                    f"contains {needle!r}"))
    unique = {(s.pointer, s.start, s.end, s.label): s for s in out}
    return tuple(unique.values())


def _annotations(evidence: Evidence, post_index: int) -> tuple[Span, ...]:
    post = evidence.posts[post_index]
    pid = str(post.get("id"))
    out = []
    for note in evidence.document.get("annotations", []):
        if str(note.get("post")) != pid:
            continue
        field = note.get("field", "text")
        text = post.get(field) or ""
        start, end = note["span"]
        out.append(Span(f"/target/posts/{post_index}/{field}", start, end, text[start:end],
                        note.get("label", ""), note.get("by")))
    return tuple(out)


def explain(engine, evidence: Evidence, runs: list, decision: Decision) -> Decision:
    reasons, deficiencies, exceptions, thresholds = [], [], [], []
    for run in runs:
        ruleset = run.ruleset
        by_id = {r.id: r for r in ruleset.all_rules()}
        for result in run.evaluation.results:
            rule = by_id[result.rule]
            post = run.posts[result.post] if result.post is not None else None
            post_id = evidence.post_id(result.post) if result.post is not None else None
            env = _env(run.target, run.request, post)
            if result.holds is True:
                tracer = _traced(run, rule, env)
                spans = _spans(run, tracer)
                if result.post is not None:
                    spans += _annotations(evidence, result.post)
                reason = Reason(ruleset.id, rule.id, rule.verdict, rule.applies_to, post_id,
                                rule.title, rule.message, rule.confidence,
                                _citations(ruleset, rule), _evidence_read(run, tracer), spans)
                (deficiencies if rule.verdict == "deficient" else reasons).append(reason)
            overriding = result.overridden_by
            if overriding:
                exception = by_id[overriding]
                exceptions.append(AppliedException(ruleset.id, exception.id, rule.id,
                                                   exception.verdict, rule.applies_to, post_id,
                                                   _citations(ruleset, exception)))
            if rule.applies_to != "post" and rule.condition is not None:
                thresholds.extend(_thresholds(run, rule, env))
    missing = _missing(engine, evidence, runs, decision)
    return dataclasses.replace(decision, reasons=tuple(reasons), deficiencies=tuple(deficiencies),
                               exceptions=tuple(exceptions), thresholds=tuple(thresholds),
                               missing=tuple(missing))


# Thresholds

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _thresholds(run, rule: rules.Rule, env: Mapping) -> list[Threshold]:
    out = []
    for node in n.walk(rule.condition):
        if not isinstance(node, n.Compare):
            continue
        if isinstance(node.right, n.Param):
            param, side, op = node.right, node.left, node.op
        elif isinstance(node.left, n.Param):
            param, side, op = node.left, node.right, _FLIP[node.op]
        else:
            continue
        parameter = run.ruleset.parameters[param.name]
        required = run.params.get(param.name)
        observed = rules.evaluate(side, env, run.params, run.evaluation.verdicts,
                                  run.ruleset.lexicons)
        met = rules.runtime.compare(op, observed, required)
        out_of = None
        if isinstance(side, n.Quantifier) and side.kind in ("count", "share"):
            collection = rules.evaluate(side.collection, env, run.params,
                                        run.evaluation.verdicts, run.ruleset.lexicons)
            out_of = len(collection) if isinstance(collection, list) else None
        shown = _plain(observed)
        out.append(Threshold(
            run.ruleset.id, rule.id, param.name, parameter.is_estimated, op, _plain(required),
            shown, met, _margin(op, observed, required),
            _threshold_text(rule, side, op, observed, required, param.name, parameter, out_of),
            out_of))
    return out


def _number(x) -> str:
    if isinstance(x, float):
        if x == float("inf"):
            return "no limit"
        return f"{x:.2f}".rstrip("0").rstrip(".")
    return str(x)


def _margin(op: str, observed, required) -> str:
    if observed is None or required is None:
        return "unknown"
    if not isinstance(required, int | float) or not isinstance(
            observed, int | float | Interval):
        return ""
    lo, hi = rules.runtime.bounds(observed)
    if op in (">=", ">"):
        need = required if op == ">=" else required + (1 if isinstance(required, int) else 0)
        if lo >= need:
            return f"met with {_number(lo - need)} to spare"
        if hi < need:
            return f"{_number(need - hi)} short" if lo == hi else f"at least {_number(need - hi)} short"
        return f"{_number(need - lo)} short unless unknowns are confirmed"
    if op in ("<=", "<"):
        limit = required if op == "<=" else required - (1 if isinstance(required, int) else 0)
        if hi <= limit:
            return f"within the limit by {_number(limit - hi)}"
        if lo > limit:
            return f"over by {_number(lo - limit)}"
        return "depends on unknowns"
    return ""


def _threshold_text(rule, side, op, observed, required, name, parameter, out_of) -> str:
    if isinstance(observed, Interval):
        value = f"between {_number(observed.lo)} and {_number(observed.hi)}"
    elif observed is None:
        value = "unknown"
    else:
        value = _number(_plain(observed)) if not isinstance(observed, dict) else str(observed)
    what = "posts counted" if isinstance(side, n.Quantifier) and side.kind == "count" else (
        "share" if isinstance(side, n.Quantifier) else rules.unparse(side))
    of = f" of {out_of}" if out_of is not None else ""
    estimate = ", an estimate" if parameter.is_estimated else ""
    return (f"{rule.id}: {value}{of} {what}; {name} needs {op} {_number(_plain(required))}"
            f"{estimate}")


# Missing facts: what-if runs on the fast path

def _label(pointer: str) -> str:
    parts = pointer.strip("/").split("/")
    if parts[0] == "target" and len(parts) > 2 and parts[1] == "posts":
        return "post." + ".".join(parts[3:])
    if parts[0] == "target":
        return "page." + ".".join(parts[1:])
    return ".".join(parts)


def _unknown_facts(evidence: Evidence, runs: list) -> dict[str, tuple[list[str], bool]]:
    """Unknown boolean facts read by rules whose result is unknown, grouped by field:
    label -> (pointers, read only by exceptions)."""
    facts: dict[str, list[str]] = {}
    by_rules: set[str] = set()
    for run in runs:
        by_id = {r.id: r for r in run.ruleset.all_rules()}
        for result in run.evaluation.results:
            if result.holds is not None:
                continue
            rule = by_id[result.rule]
            post = run.posts[result.post] if result.post is not None else None
            env = _env(run.target, run.request, post)
            for r in (rule, *rule.exceptions):
                for node, value, bound in _traced(run, r, env).events:
                    if not isinstance(node, n.Path) or value is not None or len(node.names) < 2:
                        continue
                    pointer = _pointer(run, node, bound)
                    if pointer is None:
                        continue
                    field_type = _field_type(pointer)
                    if field_type is None or field_type.kind != "bool" or "/policy/" in pointer:
                        continue
                    label = _label(pointer)
                    if not r.is_exception:
                        by_rules.add(label)
                    if pointer not in facts.setdefault(label, []):
                        facts[label].append(pointer)
    return {label: (pointers, label not in by_rules) for label, pointers in facts.items()}


def _field_type(pointer: str):
    label = _label(pointer)
    names = label.split(".")
    record = {"post": "post", "page": "page", "request": "request"}.get(names[0])
    t = None
    for name in names[1:]:
        if record is None:
            return None
        t = rules.vocabulary.field_type(record, name)
        if t is None:
            return None
        record = t.name if t.kind == "record" else None
    return t


def _patched(record: dict, assignments: list[tuple[str, object]]) -> dict:
    """A copy of `record` with values set at JSON pointers below it: only the containers
    on each pointer's path are copied, the rest is shared (the what-ifs run often)."""
    root = dict(record)
    copied = {id(root)}
    for pointer, value in assignments:
        parts = pointer.strip("/").split("/")[1:]  # below /target or /request
        node = root
        for part in parts[:-1]:
            key = int(part) if isinstance(node, list) else part
            child = node[key] if isinstance(node, list) else node.get(key)
            if child is None:
                child = {}
            if id(child) not in copied:
                child = list(child) if isinstance(child, list) else dict(child)
                copied.add(id(child))
            node[key] = child
            node = child
        node[parts[-1]] = value
    return root


def _missing(engine, evidence: Evidence, runs: list, decision: Decision) -> list[MissingFact]:
    from engine.evaluation import bounds_of, combine

    facts = _unknown_facts(evidence, runs)
    # When a fact a rule reads is confirmed, the allowances still unknown are taken as
    # not applying: "if p1 is confirmed to offer a crossing (and no allowance applies)".
    allowances = [p for pointers, only_exceptions in facts.values() if only_exceptions
                  for p in pointers]
    out = []
    for label, (pointers, only_exceptions) in list(facts.items())[:MAX_WHAT_IFS]:
        results = {}
        for value in (True, False):
            assumed = [] if only_exceptions or not value else allowances
            assignments = [(p, False) for p in assumed] + [(p, value) for p in pointers]
            target = _patched(evidence.target,
                              [a for a in assignments if a[0].startswith("/target/")])
            request = _patched(evidence.request,
                               [a for a in assignments if a[0].startswith("/request/")])
            what_if, _, _ = engine.run(evidence, datetime.date.fromisoformat(decision.as_of),
                                       decision.platform,
                                       target=target, request=request)
            results[value] = combine(*bounds_of(what_if))
        if_true = results[True] if results[True] != decision.outcome else None
        if_false = results[False] if results[False] != decision.outcome else None
        if if_true is None and if_false is None:
            continue
        posts = tuple(dict.fromkeys(
            evidence.post_id(int(p.split("/")[3])) for p in pointers
            if p.startswith("/target/posts/")))
        text = _missing_text(label, posts, if_true, if_false)
        if if_true and not only_exceptions and _same_subject(pointers, allowances):
            text += " (if no allowance applies)"
        out.append(MissingFact(label, tuple(pointers), posts, if_true, if_false, text))
    out.sort(key=lambda m: (-max(rank(m.if_true or "no_action"), rank(m.if_false or "no_action")),
                            len(m.pointers), m.fact))
    return out


def _subject_of(pointer: str) -> str:
    parts = pointer.strip("/").split("/")
    return "/".join(parts[:3]) if parts[:2] == ["target", "posts"] else parts[0]


def _same_subject(pointers: list[str], allowances: list[str]) -> bool:
    subjects = {_subject_of(p) for p in pointers}
    return any(_subject_of(p) in subjects for p in allowances)



def _missing_text(label: str, posts: tuple[str, ...], if_true, if_false) -> str:
    field = label.split(".")[-1].replace("_", " ")
    where = f" for post{'s' if len(posts) > 1 else ''} {', '.join(posts)}" if posts else ""
    parts = []
    if if_true:
        parts.append(f"if {field} is confirmed{where}: {if_true}")
    if if_false:
        parts.append(f"if {field} is ruled out{where}: {if_false}")
    return "; ".join(parts)


# The full trace, for `takedown explain`

@dataclasses.dataclass(frozen=True, slots=True)
class TraceLine:
    ruleset: str
    rule: str
    subject: str
    depth: int
    expression: str
    value: Any
    bindings: str


def trace(evidence: Evidence, runs: list) -> list[TraceLine]:
    """Every sub-expression of every rule on every subject, with its value."""
    lines: list[TraceLine] = []
    for run in runs:
        for rule in run.compiled.order:
            subjects = ([(evidence.post_id(i), p) for i, p in enumerate(run.posts)]
                        if rule.applies_to == "post" else [(rule.applies_to, None)])
            for subject_name, post in subjects:
                env = _env(run.target, run.request, post)
                for r in (rule, *rule.exceptions):
                    lines.extend(_trace_lines(run, r, env, subject_name))
    return lines


def _trace_lines(run, rule: rules.Rule, env: Mapping, subject: str) -> list[TraceLine]:
    if rule.condition is None:
        return []
    depth = {}

    def mark(node, level):
        depth[id(node)] = level
        for child in n.children(node):
            mark(child, level + 1)

    mark(rule.condition, 0)
    events = _traced(run, rule, env).events
    # Events arrive children first; rebuild the tree so parents print before children.
    stack: list[tuple[int, Any, list]] = []
    for node, value, bound in events:
        level = depth.get(id(node), 0)
        children = []
        while stack and stack[-1][0] > level:
            children.insert(0, stack.pop())
        extra = {k: v for k, v in bound.items() if k not in ("page", "request", "post")}
        names = ", ".join(f"{k}={_describe_binding(v)}" for k, v in extra.items())
        stack.append((level, (node, value, names), children))
    out: list[TraceLine] = []

    def emit(item):
        level, (node, value, names), children = item
        out.append(TraceLine(run.ruleset.id, rule.id, subject, level, rules.unparse(node),
                             _plain(value), names))
        for child in children:
            emit(child)

    for item in stack:
        emit(item)
    return out


def _describe_binding(value) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or value.get("kind") or "{...}")
    return str(value)
