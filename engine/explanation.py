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
import itertools
from collections.abc import Mapping
from typing import Any

import rules
from engine.decision import (
    OUTCOMES,
    AppliedException,
    Citation,
    Decision,
    Effect,
    MissingFact,
    Reason,
    Span,
    Threshold,
    headline,
    scoped,
)
from engine.evidence import Evidence
from engine.probability import (
    Evaluations,
    Expansion,
    condition_facts,
    conditioned,
    field_type,
    is_absent,
    is_weighable,
    label_of,
    label_type,
    labels_read,
    pointer_suffix,
    truths,
    unknown_reads,
    values_of,
    weigh,
)
from rules import nodes as n
from rules.checker import compile_pattern
from rules.runtime import Interval

__all__ = ["explain", "trace", "TraceLine"]


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
    return base + pointer_suffix(node.names)


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


def explain(engine, evidence: Evidence, runs: list, decision: Decision,
            weighing=None, missing: bool = True) -> Decision:
    """The decision with its reasons, thresholds, exceptions and (unless `missing` is
    false) missing facts; `weighing` is the decision's own (None when the evidence
    settles it)."""
    reasons: list[Reason] = []
    deficiencies: list[Reason] = []
    exceptions: list[AppliedException] = []
    thresholds: list[Threshold] = []
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
    found, escalating = (_missing(engine, evidence, runs, decision, weighing) if missing
                         else ([], []))
    escalation = decision.escalation
    if escalation is not None:
        escalation = dataclasses.replace(escalation, missing=tuple(escalating))
    return dataclasses.replace(decision, reasons=tuple(reasons), deficiencies=tuple(deficiencies),
                               exceptions=tuple(exceptions), thresholds=tuple(thresholds),
                               missing=tuple(found), escalation=escalation)


# Thresholds

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _thresholds(run, rule: rules.Rule, env: Mapping) -> list[Threshold]:
    out: list[Threshold] = []
    if rule.condition is None:
        return out
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


# Missing facts: what the decision would be if unknown facts were established

# Facts whose single effect leaves the outcome unchanged are tried together, in pairs
# and threes, from the this many that move the distribution most.
COMBINATION_POOL = 5


# A movement of the target's removal smaller than this rounds to no change in percent.
_SHOWN = 0.005


def _groups(evidence: Evidence, runs: list, weighing) -> dict[str, list[str]]:
    """The unknown facts that may matter, grouped by field: every fact the weighing
    branched on, the facts no weighing can take that rules with unknown results wait
    on, and the facts that `is known` tests read (resolving those changes what the
    tests answer, whatever the logic otherwise waits on)."""
    groups: dict[str, list[str]] = {}
    found = list(weighing.facts if weighing else ()) + _unweighable(evidence, runs)
    found += _asked_if_known(evidence, runs) + _conditioning(evidence, runs, weighing)
    for pointer in found:
        pointers = groups.setdefault(label_of(pointer), [])
        if pointer not in pointers:
            pointers.append(pointer)
    return groups


def _conditioning(evidence: Evidence, runs: list, weighing) -> list[str]:
    """Unknown facts that no rule waits on but that the conditions of the priors the
    weighing used read: establishing one changes the probabilities it weighed with."""
    if weighing is None:
        return []
    return [p for p in condition_facts(runs, weighing.facts, len(evidence.posts))
            if p not in weighing.facts and _absent(evidence, p)]


def _asked_if_known(evidence: Evidence, runs: list) -> list[str]:
    """Unknown facts that a rule asks about with `is known` or `is unknown`."""
    out: dict[str, None] = {}
    for run in runs:
        by_id = {r.id: r for r in run.ruleset.all_rules()}
        for rule_id, _, index, _, exceptions, _, _ in run.evaluation.results:
            tests = _known_tests(by_id[rule_id].condition)
            for exception_id, _ in exceptions:
                tests += _known_tests(by_id[exception_id].condition)
            if not tests:
                continue
            env = _env(run.target, run.request, run.posts[index] if index is not None else None)
            for path in tests:
                if path.root not in env:
                    continue  # a quantifier's variable: no single field to name
                pointer = _pointer(run, path, env)
                if pointer is None or pointer in out or not is_weighable(
                        field_type(pointer)) or not _absent(evidence, pointer):
                    continue
                out[pointer] = None
    return list(out)


# A condition's `is known` tests on paths, by the condition's identity; each entry keeps
# its condition alive so that an id is never reused while its entry stands. Walking every
# condition again for every post was most of an explanation's cost on settled evidence.
_KNOWN_TESTS: dict[int, tuple[n.Node, tuple[n.Path, ...]]] = {}


def _known_tests(condition: n.Node | None) -> tuple[n.Path, ...]:
    if condition is None:
        return ()
    entry = _KNOWN_TESTS.get(id(condition))
    if entry is None or entry[0] is not condition:
        if len(_KNOWN_TESTS) >= 8192:  # rule sets loaded over and over: start again
            _KNOWN_TESTS.clear()
        entry = _KNOWN_TESTS[id(condition)] = (condition, tuple(
            node.operand for node in n.walk(condition)
            if isinstance(node, n.IsKnown) and isinstance(node.operand, n.Path)))
    return entry[1]


def _absent(evidence: Evidence, pointer: str) -> bool:
    return is_absent(evidence.request if pointer.startswith("/request") else evidence.target,
                     pointer)


def _unweighable(evidence: Evidence, runs: list) -> list[str]:
    """Unknown fields that cannot be weighed (a price, a route) read by rules whose
    result is unknown: they can only be provided."""
    out: list[str] = []
    for run in runs:
        by_id = {r.id: r for r in run.ruleset.all_rules()}
        for result in run.evaluation.results:
            if result.holds is not None:
                continue
            rule = by_id[result.rule]
            waiting = [r for r in (rule, *(by_id[e] for e, applies in result.exceptions
                                           if applies is None))
                       if _may_read_unweighable(r.condition)]
            if not waiting:
                continue
            post = run.posts[result.post] if result.post is not None else None
            env = _env(run.target, run.request, post)
            for r in waiting:
                for path, bound in unknown_reads(r.condition, env, run.params,
                                                 run.evaluation.verdicts, run.ruleset.lexicons):
                    pointer = _pointer(run, path, bound)
                    typ = field_type(pointer) if pointer else None
                    if pointer is None or typ is None or is_weighable(typ) or "/policy/" in pointer:
                        continue
                    if pointer not in out:
                        out.append(pointer)
    return out


# Whether a condition names a field that cannot be weighed, by the condition's identity
# (each entry keeps its condition alive, so that an id is never reused while it stands).
# A condition that names only yes/no fields, dates, counts and lists needs no trace to
# say that it waits on no such field: half the rules with unknown results, on a page.
_UNWEIGHABLE_READS: dict[int, tuple[n.Node, bool]] = {}


def _may_read_unweighable(condition: n.Node | None) -> bool:
    if condition is None:
        return False
    entry = _UNWEIGHABLE_READS.get(id(condition))
    if entry is None or entry[0] is not condition:
        if len(_UNWEIGHABLE_READS) >= 8192:  # rule sets loaded over and over: start again
            _UNWEIGHABLE_READS.clear()
        entry = _UNWEIGHABLE_READS[id(condition)] = (condition, any(
            isinstance(node, n.Path) and len(node.names) > 1 and not (
                node.names[0] in ("post", "page", "request")
                and is_weighable(label_type(".".join(node.names))))
            for node in n.walk(condition)))
    return entry[1]


def _distance(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(abs(a.get(o, 0.0) - b.get(o, 0.0)) for o in OUTCOMES) / 2


# A what-if the weighing's tree cannot answer is weighed again, within this budget: it
# says what a fact would change, which needs less precision than the decision itself.
WHAT_IF_EVALUATIONS = 128


class _WhatIf:
    """The decision with some unknown facts taken as established.

    Facts the weighing branched on are conditioned on in its own tree (Bayes: the
    leaves consistent with the facts, reweighed by how likely the facts are on each),
    which costs one evaluation per leaf for all of them together. Facts it did not
    branch on (those only `is known` tests read) change what the tests answer, which no
    conditioning can show: the request is weighed again with them set."""

    def __init__(self, engine, evidence: Evidence, runs: list, decision: Decision, weighing,
                 pointers):
        self.engine, self.evidence, self.runs, self.decision = engine, evidence, runs, decision
        self.weighing = weighing
        self.day = datetime.date.fromisoformat(decision.as_of)
        # The branches every what-if evaluates, kept for the others.
        self.evaluations = Evaluations(engine, evidence, self.day, decision.platform, runs)
        self.rows: list[dict[str, float]] = []
        if weighing is not None:
            self.rows = truths(engine, evidence, self.day, decision.platform, weighing,
                               list(dict.fromkeys(list(weighing.facts) + list(pointers))),
                               self.evaluations)
        self.branched = set(weighing.facts) if weighing else set()
        # Facts only priors' conditions read: the tree was weighed with those priors as
        # the facts stand, so their what-ifs are weighed again.
        self.conditioning = set(_conditioning(evidence, runs, weighing)) - self.branched
        self._root: Expansion | None = None
        self._root_node: Any = None

    def effect(self, assumed: list[tuple[str, bool]]) -> tuple[Effect, float]:
        """The decision's outcome with `assumed` established, and the probability of the
        target's removal then (for escalations)."""
        facts = set(p for p, _ in assumed)
        reweigh = bool(facts & self.conditioning)
        if not reweigh and facts & self.branched and all(p in self.rows[0] for p, _ in assumed):
            full, chance, settled = conditioned(self.weighing, self.rows, assumed)
            if full:
                return self._effect(assumed, full, chance, settled)
        chance = self._prior_chance(assumed)
        if not reweigh and self._changes_nothing(assumed):
            full = (self.weighing.distribution() if self.weighing else
                    {o: float(o == self.decision.bounds[0]) for o in OUTCOMES})
            return self._effect(assumed, full, chance, self.weighing is None)
        weighing = weigh(self.engine, self.evidence, self.day, self.decision.platform,
                         self.runs, assumed, budget=WHAT_IF_EVALUATIONS,
                         evaluations=self.evaluations)
        full = weighing.distribution()
        settled = weighing.unresolved == 0 and max(full.values()) >= 1 - 1e-9
        return self._effect(assumed, full, chance, settled)

    def _prior_chance(self, assumed) -> float:
        """How likely `assumed` is under the priors, on the evidence as it is."""
        if self._root is None:
            self._root = Expansion(self.engine, self.evidence, self.day, self.decision.platform)
            self._root_node = self._root.node((), self.runs)
        chance = 1.0
        for pointer, value in assumed:
            p = self._root.probability_of(self._root_node, pointer)
            chance *= p if value else 1.0 - p
        return chance

    def _changes_nothing(self, assumed) -> bool:
        """Whether establishing `assumed` leaves every rule result as it is, and no rule
        whose result is still unknown reads it: then the weighing, which starts from
        those results, is unchanged too. A rule left unknown by another fact may read
        this one on the branches where the other is settled (`x or y is known and y`
        with `x` unknown), which its result here does not show."""
        labels = {label_of(p) for p, _ in assumed}
        if any(_open_reads(run) & labels for run in self.runs):
            return False
        values = [(p, values_of(p, self.day)[0 if v else 1]) for p, v in assumed]
        patched_runs = self.evaluations.runs(self.evaluations.key(values), values)
        return all(_acting(a) == _acting(b) for a, b in zip(self.runs, patched_runs, strict=True))

    def _effect(self, assumed, full, chance, settled) -> tuple[Effect, float]:
        distribution = scoped(full, self.decision.scope)
        outcome, probability = headline(distribution)
        shift = _distance(distribution, self.decision.distribution)
        return (Effect(assumed[0][1], outcome, round(probability, 4), round(shift, 4),
                       settled, round(chance, 4)), full.get("page_removed", 0.0))


def _open_reads(run) -> frozenset[str]:
    """The labels of the fields read by the rules and exceptions of a run whose results
    are unknown."""
    by_id = None
    out: set[str] = set()
    for result in run.evaluation.results:
        open_exceptions = [e for e, applies in result.exceptions if applies is None]
        if result.holds is not None and not open_exceptions:
            continue
        if by_id is None:
            by_id = {r.id: r for r in run.ruleset.all_rules()}
        out |= labels_read(by_id[result.rule].condition)
        for exception in open_exceptions:
            out |= labels_read(by_id[exception].condition)
    return frozenset(out)


def _acting(run) -> list:
    """The results of a run that bear on the outcome (a deficient request only lowers
    the likelihood)."""
    verdicts = run.compiled.verdicts
    return [(r.rule, r.post, r.holds, r.exceptions) for r in run.evaluation.results
            if verdicts[r.rule] != "deficient"]


def _missing(engine, evidence: Evidence, runs: list, decision: Decision, weighing):
    """The facts whose establishment would change the decision or move its
    probabilities, ranked by how far they are expected to move it; and, for a request
    about posts, the facts about the target that bear only on the escalation.

    Every fact the weighing branched on is listed, however little it moves: a fact
    that is not listed cannot change the outcome, alone or with others."""
    groups = _groups(evidence, runs, weighing)
    what_if = _WhatIf(engine, evidence, runs, decision, weighing,
                      [p for pointers in groups.values() for p in pointers
                       if is_weighable(field_type(p))])
    settled_now = weighing is None
    out, escalating, quiet = [], [], []
    page_now = weighing.distribution().get("page_removed", 0.0) if weighing else (
        1.0 if decision.bounds[0] == "page_removed" or (
            decision.escalation and decision.escalation.sure) else 0.0)
    for label, pointers in groups.items():
        posts = _posts_of(evidence, pointers)
        if not is_weighable(field_type(pointers[0])):
            out.append(MissingFact(label, tuple(pointers), posts, None, None,
                                   _provide_text(label, posts)))
            continue
        effects, page = [], []
        for value in (True, False):
            effect, page_removed = what_if.effect([(p, value) for p in pointers])
            effects.append(effect)
            page.append(page_removed)
        if effects[0].chance + effects[1].chance <= 0:
            continue
        chance = effects[0].chance / (effects[0].chance + effects[1].chance)
        fact = _fact(label, pointers, posts, effects, decision)
        changes_outcome = any(e.outcome != decision.outcome for e in effects)
        moves = [abs(x - page_now) for x in page]
        # For a request about posts, what is known of the target as a whole bears on the
        # escalation; it is listed there unless it changes the answer itself.
        if decision.scope == "posts" and label.startswith("page.") and not changes_outcome:
            if max(moves) >= _SHOWN:
                escalating.append(dataclasses.replace(
                    fact, text=_escalation_text(label, posts, page), shift=round(max(moves), 4),
                    expected_shift=round(chance * moves[0] + (1 - chance) * moves[1], 4)))
            continue
        if set(pointers) & what_if.branched or changes_outcome or fact.shift > 0 or (
                not settled_now and any(e.settled for e in effects)):
            out.append(fact)
            if not changes_outcome:
                quiet.append((fact, effects))
    out += _combinations(what_if, evidence, decision, quiet)
    out.sort(key=lambda m: (-m.expected_shift, -m.shift, len(m.pointers), m.fact))
    escalating.sort(key=lambda m: (-m.expected_shift, -m.shift, m.fact))
    return out, escalating


def _fact(label, pointers, posts, effects, decision) -> MissingFact:
    by_value = {e.value: e for e in effects}
    if_true = by_value[True].outcome if by_value[True].outcome != decision.outcome else None
    if_false = by_value[False].outcome if by_value[False].outcome != decision.outcome else None
    return MissingFact(label, tuple(pointers), posts, if_true, if_false,
                       _missing_text(label, posts, effects, decision), tuple(effects),
                       round(max(e.shift for e in effects), 4),
                       round(sum(e.chance * e.shift for e in effects), 4))


def _combinations(what_if: _WhatIf, evidence: Evidence, decision: Decision,
                  quiet) -> list[MissingFact]:
    """Facts that change the outcome only together: pairs and threes of those whose
    single effect does not, each taken the way that moves the distribution most."""
    pool = sorted(quiet, key=lambda item: -item[0].shift)[:COMBINATION_POOL]
    out: list[MissingFact] = []
    found: list[frozenset[str]] = []
    for size in (2, 3):
        for combo in itertools.combinations(pool, size):
            labels = frozenset(fact.fact for fact, _ in combo)
            if any(f <= labels for f in found):
                continue  # a smaller combination already changes it
            assumed = []
            for fact, effects in combo:
                moving = max(effects, key=lambda e: e.shift)
                assumed += [(p, moving.value) for p in fact.pointers]
            effect, _ = what_if.effect(assumed)
            if effect.outcome == decision.outcome:
                continue
            found.append(labels)
            parts = [f"{fact.fact.split('.')[-1].replace('_', ' ')} "
                     f"{_verb(fact.fact, max(effects, key=lambda e: e.shift).value)}"
                     for fact, effects in combo]
            pointers = tuple(p for fact, _ in combo for p in fact.pointers)
            out.append(MissingFact(
                " + ".join(fact.fact for fact, _ in combo), pointers,
                _posts_of(evidence, pointers), None, None,
                f"together, if {' and '.join(parts)}: {effect.outcome} "
                f"({_percent(effect.probability)})", (effect,), effect.shift,
                round(effect.chance * effect.shift, 4), tuple(fact.fact for fact, _ in combo)))
    return out


def _posts_of(evidence: Evidence, pointers) -> tuple[str, ...]:
    return tuple(dict.fromkeys(evidence.post_id(int(p.split("/")[3])) for p in pointers
                               if p.startswith("/target/posts/")))


def _percent(p: float) -> str:
    return f"{round(p * 100)}%"


def _where(posts: tuple[str, ...]) -> str:
    return f" for post{'s' if len(posts) > 1 else ''} {', '.join(posts)}" if posts else ""


def _verb(label: str, value: bool) -> str:
    typ = label_type(label)
    if typ is not None and typ.kind == "date":
        return "recent" if value else "old"
    if typ is not None and typ.kind in ("list", "number"):
        return "some" if value else "none"
    return "confirmed" if value else "ruled out"


def _missing_text(label: str, posts: tuple[str, ...], effects, decision: Decision) -> str:
    field = label.split(".")[-1].replace("_", " ")
    now = f"{decision.outcome} {_percent(decision.probability)}"
    parts = []
    for e in effects:
        verb = _verb(label, e.value)
        state = "settled" if e.settled else _percent(e.probability)
        parts.append(f"if {field} is {verb}{_where(posts)} ({_percent(e.chance)} likely): "
                     f"{e.outcome} ({state})")
    return "; ".join(parts) + f" [now {now}]"


def _escalation_text(label: str, posts, page) -> str:
    field = label.split(".")[-1].replace("_", " ")
    return (f"the target is removed with probability {_percent(page[0])} if {field} is "
            f"{_verb(label, True)}{_where(posts)}, {_percent(page[1])} if "
            f"{_verb(label, False)}")


def _provide_text(label: str, posts) -> str:
    field = label.split(".")[-1].replace("_", " ")
    return (f"{field} is not known{_where(posts)}: rules wait on it, and it cannot be weighed "
            "(it is a text, an amount or a record); providing it may change the outcome")


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
        children: list = []
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
