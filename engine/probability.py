"""The probable outcome: how likely each outcome is, given how likely the facts nobody
assessed are.

Kleene's logic gives the sure bounds: what happens whatever the unknown facts turn out
to be, and the most that could happen. Between the two, an evidence document written
from a real referral leaves most facts unassessed, and most of them cannot matter. This
module weighs the outcomes over the ones that do, with the priors rule sets declare for
them (`priors:` in a rule set, or a rule set of kind `priors`), by Shannon expansion:

1. evaluate the request on the fast path; if the bounds agree, that outcome has the
   whole weight of this branch;
2. otherwise take a fact whose being unknown keeps a rule that matters unknown (read
   from the traced evaluation of that rule, so only facts the logic actually waits on
   are taken), find its prior, and evaluate both branches, each with the weight of the
   branch times the probability of the value.

Facts are yes/no fields, dates, counts and lists. A date nobody gave is weighed as
*recent* (the evaluation date, inside every counting window) or *old* (ten years before
it, outside every window), and its prior is the probability that it is recent. A count
(earlier strikes) is weighed as *some*, taken as one, or *none*. A list (the contacts a
post offers) is weighed as *some* (one item nothing is known about, so `any(c in ...)`
holds and what is asked of the item stays unknown) or *none*. Their priors are the
probability of the first.

Because Kleene's logic settles a rule as soon as it can, a branch stops at the first
fact that decides it: an offer with two unassessed allowances costs three evaluations,
not four. The expansion is exact. It stops after `MAX_EVALUATIONS` evaluations; what is
left then, and branches where only facts that cannot be weighed are unknown (a list of
contacts, a price), stay *unresolved*: their weight goes to their sure lower bound and
is reported as such, never spread by guesswork.

A prior may depend on other facts (`given:`, a condition in the rule language, which
may read what the policies concluded about the posts): when its condition is still
unknown on a branch, the facts it waits on are expanded first, so the probabilities
stay those of one joint model rather than of the order facts happen to be met in.

The engine calls `weigh` only when the bounds differ; nothing here runs on settled
decisions. docs/decisions.md describes the method with a worked example.
"""

from __future__ import annotations

import datetime
import functools
import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rules
from engine.decision import OUTCOMES, outcome_of, rank
from engine.evaluation import bounds_of, leaf_likelihood, with_policy_results
from rules import nodes as n

__all__ = ["Weighing", "Leaf", "Expansion", "Evaluations", "weigh", "truths", "conditioned", "patched", "field_type", "label_type", "label_of", "labels_read", "values_of",
           "is_weighable", "is_absent", "pointer_suffix", "unknown_reads", "condition_facts", "MAX_EVALUATIONS", "DEFAULT_PRIOR",
           "OLD"]

# Evaluations one weighing may run (each is one run of every rule set in force, about
# 0.1 to 0.3 ms for a referral of a few posts).
MAX_EVALUATIONS = 512
# The probability of a yes/no fact no prior speaks of. Every fact the bundled rule sets
# read has a prior (a test holds them to it); this is for rule sets that declare none.
DEFAULT_PRIOR = 0.5
# A prior's condition may wait on facts that themselves have conditional priors.
_MAX_CONDITION_DEPTH = 4
# How long before the evaluation date an "old" date is taken to be.
OLD = datetime.timedelta(days=3650)


@dataclass(frozen=True, slots=True)
class Leaf:
    """One branch of the expansion, as far as it went."""

    assignment: tuple[tuple[str, Any], ...]  # (JSON pointer, value), in the order assumed
    weight: float
    lower: str
    upper: str
    posts: tuple[bool | None, ...]  # each post's policy violation on this branch
    likelihood: float

    @property
    def is_resolved(self) -> bool:
        return self.lower == self.upper


@dataclass(frozen=True, slots=True)
class Weighing:
    leaves: tuple[Leaf, ...]
    evaluations: int
    priors: tuple[tuple[str, str, str], ...]  # (ruleset, prior id, fact) of the priors used
    unpriored: tuple[str, ...]  # facts weighed at DEFAULT_PRIOR for want of a prior

    def distribution(self) -> dict[str, float]:
        """Each outcome's probability; unresolved weight counts at its lower bound."""
        out = dict.fromkeys(OUTCOMES, 0.0)
        for leaf in self.leaves:
            out[leaf.lower] += leaf.weight
        return out

    @property
    def unresolved(self) -> float:
        return sum(leaf.weight for leaf in self.leaves if not leaf.is_resolved)

    @property
    def facts(self) -> tuple[str, ...]:
        """Every fact the expansion branched on, in the order first met."""
        return tuple(dict.fromkeys(p for leaf in self.leaves for p, _ in leaf.assignment))

    def post_probabilities(self, count: int) -> tuple[float, ...]:
        """For each post, the probability that a policy rule holds on it."""
        totals = [0.0] * count
        for leaf in self.leaves:
            for index, state in enumerate(leaf.posts[:count]):
                if state is True:
                    totals[index] += leaf.weight
        return tuple(totals)

    def likelihood(self) -> float:
        return sum(leaf.weight * leaf.likelihood for leaf in self.leaves)


# Where a read value sits in the evidence

def label_of(pointer: str) -> str:
    """The vocabulary path of a JSON pointer: /target/posts/2/context/academic ->
    post.context.academic."""
    parts = pointer.strip("/").split("/")
    if parts[0] == "target" and len(parts) > 2 and parts[1] == "posts":
        return "post." + ".".join(parts[3:])
    if parts[0] == "target":
        return "page." + ".".join(parts[1:])
    return ".".join(parts)


@functools.lru_cache(maxsize=4096)
def pointer_suffix(names: tuple[str, ...]) -> str:
    """The pointer of a path below its root: ("p", "signals", "price") -> /signals/price."""
    return "".join("/" + name for name in names[1:])


def field_type(pointer: str):
    """The vocabulary type of the field at a JSON pointer, or None."""
    return label_type(label_of(pointer))


def label_type(label: str):
    """The vocabulary type of a field named by its path (post.posted), or None."""
    names = label.split(".")
    record = {"post": "post", "page": "page", "request": "request"}.get(names[0])
    typ = None
    for name in names[1:]:
        if record is None:
            return None
        typ = rules.vocabulary.field_type(record, name)
        if typ is None:
            return None
        record = typ.name if typ.kind == "record" else None
    return typ


def is_weighable(typ) -> bool:
    """Whether facts of this vocabulary type can be weighed: yes/no fields, dates,
    counts and lists."""
    return typ is not None and (typ.kind in ("bool", "date", "list")
                                or typ.kind == "number" and typ.unit == "count")


def values_of(pointer: str, day: datetime.date) -> tuple[Any, Any]:
    """The values a fact is weighed at: (if true, if false); for a date, recent or old;
    for a count, one or none; for a list, one unknown item or none."""
    typ = field_type(pointer)
    if typ is not None and typ.kind == "date":
        return day, day - OLD
    if typ is not None and typ.kind == "list":
        return [None], []
    if typ is not None and typ.kind == "number":
        return 1, 0
    return True, False


def patched(record: Mapping, assignments: Iterable[tuple[str, Any]]) -> dict:
    """A copy of `record` (the target or the request) with values set at JSON pointers
    below it. Only the containers on each pointer's path are copied; the rest is shared."""
    root = dict(record)
    copied = {id(root)}
    for pointer, value in assignments:
        parts = pointer.strip("/").split("/")[1:]  # below /target or /request
        node: Any = root
        for part in parts[:-1]:
            key: Any = int(part) if isinstance(node, list) else part
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


def is_absent(record: Mapping, pointer: str) -> bool:
    """Whether the field at `pointer` (under /target or /request) is unknown in `record`,
    the runtime target or request (where "none" already reads as every flag false)."""
    node: Any = record
    for part in pointer.strip("/").split("/")[1:]:
        if isinstance(node, list):
            index = int(part)
            if index >= len(node):
                return True
            node = node[index]
        elif isinstance(node, Mapping):
            if part not in node:
                return True
            node = node[part]
        else:
            return True
    return node is None


# Which unknown facts a rule waits on

class _UnknownReads:
    """A tracer that keeps the evidence paths a condition read as unknown, except those
    only asked whether they are known (`x is known` is about the evidence, and is
    never unknown itself)."""

    __slots__ = ("asked_if_known", "reads")

    def __init__(self, asked_if_known: frozenset[int]):
        self.asked_if_known = asked_if_known
        self.reads: list[tuple[n.Path, dict]] = []

    def value(self, node, value, env) -> None:
        if value is None and type(node) is n.Path and len(node.names) > 1 \
                and id(node) not in self.asked_if_known:
            self.reads.append((node, dict(env)))


# Caches by object identity; each entry keeps its object alive, so that an id is never
# reused for another object while its entry stands.
_ASKED_IF_KNOWN: dict[int, tuple[n.Node, frozenset[int]]] = {}


def _asked_if_known(condition: n.Node) -> frozenset[int]:
    entry = _ASKED_IF_KNOWN.get(id(condition))
    if entry is None or entry[0] is not condition:
        entry = _ASKED_IF_KNOWN[id(condition)] = (condition, frozenset(
            id(node.operand) for node in n.walk(condition) if isinstance(node, n.IsKnown)))
    return entry[1]


def unknown_reads(condition: n.Node | None, env: Mapping, params, verdicts,
                  lexicons) -> list[tuple[n.Path, dict]]:
    """The paths `condition` read as unknown, each with the variables then bound."""
    if condition is None:
        return []
    tracer = _UnknownReads(_asked_if_known(condition))
    rules.evaluate(condition, env, params, verdicts, lexicons, tracer)
    return tracer.reads


def condition_facts(runs, facts: Iterable[str], posts: int) -> list[str]:
    """The JSON pointers of the evidence fields that the conditions of the priors of
    `facts` can read (`given:`), whatever their values: establishing one may change which
    prior applies, and so the probabilities, without any rule reading it. A walk of the
    conditions rather than a trace, so that fields past a short-circuit (`x is known and
    x and y is known and y`) count too. Policy results are left out: they follow from
    facts the rules read."""
    out: dict[str, None] = {}
    for fact in facts:
        label = label_of(fact)
        post = fact.split("/")[3] if fact.startswith("/target/posts/") else None
        for _, prior in _priors_of(runs, label):
            if prior.given is None:
                continue
            for root, names in _condition_paths(prior.given, {}):
                if "policy" in names or not names:
                    continue
                rest = "".join("/" + name for name in names)
                if root == "page":
                    pointers = ["/target" + rest]
                elif root == "request":
                    pointers = ["/request" + rest]
                elif root == "post":
                    pointers = [f"/target/posts/{post}{rest}"] if post is not None else []
                else:  # every post, through a quantifier over page.posts
                    pointers = [f"/target/posts/{i}{rest}" for i in range(posts)]
                for pointer in pointers:
                    if is_weighable(field_type(pointer)):
                        out[pointer] = None
    return list(out)


def labels_read(condition: n.Node | None) -> frozenset[str]:
    """The labels of the fields a condition can read (`post.signals.paid_promotion`),
    whatever its values: a field of a variable bound to each of the page's posts is read
    as the post's."""
    if condition is None:
        return frozenset()
    entry = _LABELS_READ.get(id(condition))
    if entry is None or entry[0] is not condition:
        if len(_LABELS_READ) >= 8192:  # rule sets loaded over and over: start again
            _LABELS_READ.clear()
        labels = frozenset(".".join(("post" if root == "posts" else root,) + names)
                           for root, names in _condition_paths(condition, {}) if names)
        entry = _LABELS_READ[id(condition)] = (condition, labels)
    return entry[1]


# labels_read by a condition's identity; each entry keeps its condition alive so that an
# id is never reused while its entry stands.
_LABELS_READ: dict[int, tuple[n.Node, frozenset[str]]] = {}


def _condition_paths(node: n.Node, bound: Mapping[str, bool]):
    """(root, names) of each field a condition reads: root is `page`, `request`, `post`
    or `posts` (a variable bound to each of the page's posts); fields of other bound
    variables (an item of a list) are not single facts and are passed over."""
    if isinstance(node, n.Quantifier):
        yield from _condition_paths(node.collection, bound)
        collection = node.collection
        over_posts = isinstance(collection, n.Path) and tuple(collection.names) == ("page", "posts")
        if node.condition is not None:
            yield from _condition_paths(node.condition, {**bound, node.var: over_posts})
        return
    if isinstance(node, n.Path):
        root, names = node.names[0], tuple(node.names[1:])
        if root in bound:
            if bound[root]:
                yield "posts", names
        elif root in ("page", "request", "post") and names[:1] != ("posts",):
            yield root, names
        return
    for child in n.children(node):
        yield from _condition_paths(child, bound)


class _Node:
    """The records of one branch: the patched target and request, and its runs.

    `restage` is set when the runs were evaluated without some of the branch's facts
    (`Evaluations`): then the runs' own staged target lacks them, and priors'
    conditions read `staged`, the branch's target with the policy results filled in,
    made when first asked for."""

    __slots__ = ("target", "request", "runs", "assignment", "key", "restage", "staged")

    def __init__(self, target, request, runs, assignment, key=None):
        self.target, self.request, self.runs, self.assignment = target, request, runs, assignment
        self.key = key
        self.restage = False
        self.staged: Mapping | None = None

    def extended(self, fact: tuple[str, Any]) -> tuple[dict, dict]:
        """This branch's target and request with one fact more: only the containers on
        its path are copied, not those of every fact the branch assumed before."""
        if fact[0].startswith("/target/"):
            return patched(self.target, [fact]), self.request
        return self.target, patched(self.request, [fact])

    def pointer(self, path: n.Path, env: Mapping) -> str | None:
        """The JSON pointer of the field `path` reads, with `env` bound."""
        record = env.get(path.root)
        if path.root == "request":
            base = "/request"
        elif path.root == "page":
            base = "/target"
        else:  # `post`, or a variable bound to a post by a quantifier
            found = self._post_pointer(record)
            if found is None:
                return None
            base = found
        return base + pointer_suffix(path.names)

    def _post_pointer(self, record) -> str | None:
        posts = self.target.get("posts") or ()
        for index, post in enumerate(posts):
            if post is record:
                return f"/target/posts/{index}"
        if self.staged is not None:
            for index, post in enumerate(self.staged.get("posts") or ()):
                if post is record:
                    return f"/target/posts/{index}"
        for run in self.runs:  # enforcement and legal runs read copies with policy results
            for index, post in enumerate(run.posts):
                if post is record:
                    return f"/target/posts/{index}"
        return None

    def post_index(self, record) -> int | None:
        pointer = self._post_pointer(record)
        return int(pointer.split("/")[3]) if pointer else None

    def record_for(self, pointer: str) -> Mapping:
        return self.request if pointer.startswith("/request") else self.target


class Evaluations:
    """The evaluations of one request under sets of assumed facts, kept for every
    weighing of its explanation: each what-if weighs a tree most of whose branches the
    others have evaluated already.

    A branch's rule results depend only on the facts some rule of the rule sets in force
    reads. The others (facts only priors' conditions read) change which prior applies,
    never a rule result: a branch is evaluated without them, and the weighing reads them
    from the branch's own records. Whether a rule reads a field is decided from the
    conditions' text, whatever the values, so the reuse is exact: a field counts as read
    if any rule names it, a record holding it, or a field inside it."""

    # Branches kept at most; past this, further ones are evaluated but not kept.
    LIMIT = 4096

    def __init__(self, engine, evidence, day: datetime.date, platform: str, runs):
        self.engine, self.evidence, self.day, self.platform = engine, evidence, day, platform
        self._read = _fields_read(runs)
        self._is_read: dict[str, bool] = {}
        self._runs: dict[frozenset, list] = {frozenset(): runs}
        self.candidates: dict[tuple[frozenset, str], str | None] = {}
        self.bounds: dict[frozenset, tuple[str, str]] = {}
        self.leaves: dict[frozenset, tuple[tuple[bool | None, ...], float]] = {}

    def is_read(self, pointer: str) -> bool:
        """Whether a rule may read the field at `pointer` (or a record holding it)."""
        found = self._is_read.get(pointer)
        if found is None:
            names = tuple(label_of(pointer).split("."))
            found = self._is_read[pointer] = any(
                names[:len(read)] == read or read[:len(names)] == names for read in self._read)
        return found

    def key(self, assignment) -> frozenset | None:
        """The facts of `assignment` that rules read, as a key; None when a fact is
        assigned twice (then the order matters, and the branch is not kept)."""
        read = [(p, tuple(v) if isinstance(v, list) else v) for p, v in assignment
                if self.is_read(p)]
        key = frozenset(read)
        return key if len(key) == len(read) else None

    def runs(self, key: frozenset | None, assignment) -> list:
        """The runs of the branch `assignment`, whose key is `key`."""
        found = self._runs.get(key) if key is not None else None
        if found is None:
            read = [a for a in assignment if self.is_read(a[0])]
            found, _, _ = self.engine.run(
                self.evidence, self.day, self.platform,
                target=patched(self.evidence.target, [a for a in read
                                                      if a[0].startswith("/target/")]),
                request=patched(self.evidence.request, [a for a in read
                                                        if a[0].startswith("/request/")]))
            if key is not None and len(self._runs) < self.LIMIT:
                self._runs[key] = found
        return found


def _fields_read(runs) -> set[tuple[str, ...]]:
    """The fields the rules of `runs` name, each as its record (`page`, `post` or
    `request`) and the names below it: (post, context, academic); a record named whole
    has no names below it, and holds every field of it. Items of other lists (a post's
    contacts) are not facts: their list is named where it is quantified over. The
    subject of `violates` names no field: what it reads is another rule's result,
    whose own condition is walked too."""
    out: set[tuple[str, ...]] = set()
    for run in runs:
        out.update(_ruleset_fields(run.ruleset))
    return out


# The fields each rule set's rules name, by the rule set's identity (each entry keeps its
# rule set alive, so that an id is never reused while it stands): walking every condition
# again for every explanation cost as much as a tenth of it.
_RULESET_FIELDS: dict[int, tuple[rules.RuleSet, frozenset[tuple[str, ...]]]] = {}


def _ruleset_fields(ruleset: rules.RuleSet) -> frozenset[tuple[str, ...]]:
    entry = _RULESET_FIELDS.get(id(ruleset))
    if entry is None or entry[0] is not ruleset:
        if len(_RULESET_FIELDS) >= 1024:  # rule sets loaded over and over: start again
            _RULESET_FIELDS.clear()
        entry = _RULESET_FIELDS[id(ruleset)] = (ruleset, frozenset(
            field for rule in ruleset.all_rules() if rule.condition is not None
            for field in _named_fields(rule.condition, {})))
    return entry[1]


def _named_fields(node: n.Node, bound: Mapping[str, bool]):
    if isinstance(node, n.Violates) and isinstance(node.subject, n.Path) \
            and len(node.subject.names) == 1:
        return
    if isinstance(node, n.Quantifier):
        yield from _named_fields(node.collection, bound)
        collection = node.collection
        over_posts = isinstance(collection, n.Path) and tuple(collection.names) == ("page", "posts")
        if node.condition is not None:
            yield from _named_fields(node.condition, {**bound, node.var: over_posts})
        return
    if isinstance(node, n.Path):
        root, names = node.names[0], tuple(node.names[1:])
        if root in bound:
            if bound[root]:
                yield ("post", *names)
        else:
            yield (root, *names)
        return
    for child in n.children(node):
        yield from _named_fields(child, bound)


class Expansion:
    def __init__(self, engine, evidence, day: datetime.date, platform: str,
                 evaluations: Evaluations | None = None):
        self.engine, self.evidence, self.day, self.platform = engine, evidence, day, platform
        self.evaluations = 0
        self.priors_used: dict[tuple[str, str, str], None] = {}
        self.unpriored: dict[str, None] = {}
        self.kept = evaluations

    def node(self, assignment: tuple[tuple[str, bool], ...], runs=None,
             parent: _Node | None = None) -> _Node:
        """The branch `assignment`; `parent`, the branch it extends by its last fact."""
        kept = self.kept
        if kept is not None and parent is not None and parent.key is not None:
            return self._child(parent, assignment)
        if parent is not None:
            target, request = parent.extended(assignment[-1])
        else:
            target = patched(self.evidence.target,
                             [a for a in assignment if a[0].startswith("/target/")])
            request = patched(self.evidence.request,
                              [a for a in assignment if a[0].startswith("/request/")])
        if runs is not None:
            return _Node(target, request, runs, assignment)
        self.evaluations += 1  # counted whether kept or not: the budget stays the same
        if kept is None:
            runs, _, _ = self.engine.run(self.evidence, self.day, self.platform,
                                         target=target, request=request)
            return _Node(target, request, runs, assignment)
        key = kept.key(assignment)
        node = _Node(target, request, kept.runs(key, assignment), assignment, key)
        # Evaluated without some facts: the staged target is made from the branch's own.
        node.restage = key is None or len(key) < len(assignment)
        return node

    def _child(self, parent: _Node, assignment) -> _Node:
        """A kept branch one fact below `parent`, a kept branch too: its records are
        the parent's with the fact set (the fact is open there, so set nowhere else)."""
        assert self.kept is not None
        self.evaluations += 1
        fact = assignment[-1]
        target, request = parent.extended(fact)
        key = parent.key
        if self.kept.is_read(fact[0]):
            key = key | {(fact[0], tuple(fact[1]) if isinstance(fact[1], list) else fact[1])}
        node = _Node(target, request, self.kept.runs(key, assignment), assignment, key)
        node.restage = len(key) < len(assignment)
        return node

    def bounds(self, node: _Node) -> tuple[str, str]:
        """The sure and the most outcome on this branch (rule results alone say)."""
        if node.key is None or self.kept is None:
            return bounds_of(node.runs)
        memo = self.kept.bounds
        found = memo.get(node.key)
        if found is None:
            found = memo[node.key] = bounds_of(node.runs)
        return found

    def leaf(self, node: _Node) -> tuple[tuple[bool | None, ...], float]:
        """Each post's policy violation on this branch, and the likelihood there."""
        if node.key is None or self.kept is None:
            return _post_states(node.runs, len(self.evidence.posts)), leaf_likelihood(node.runs)
        memo = self.kept.leaves
        found = memo.get(node.key)
        if found is None:
            found = memo[node.key] = (_post_states(node.runs, len(self.evidence.posts)),
                                      leaf_likelihood(node.runs))
        return found

    # Choosing the next fact

    def candidate(self, node: _Node, lower: str) -> str | None:
        """A fact, unknown on this branch, that a rule that matters waits on. Rules that
        fire and wait only on their exceptions come first: settling them most often
        settles their subject, and then the other rules on it stop mattering."""
        if node.key is None or self.kept is None:
            return self._candidate(node, lower)
        # The candidate is a fact rules read: it depends on the read facts alone.
        memo = self.kept.candidates
        entry = (node.key, lower)
        if entry not in memo:
            memo[entry] = self._candidate(node, lower)
        return memo[entry]

    def _candidate(self, node: _Node, lower: str) -> str | None:
        sure_posts = _violating_posts(node.runs)
        waiting = [(run, result) for run in node.runs for result in run.evaluation.results
                   if result.holds is None and _matters(run, result, lower, sure_posts)]
        waiting.sort(key=lambda item: item[1].fires is not True)  # stable: run order kept
        for run, result in waiting:
            found = self._from_result(node, run, _rules_by_id(run.ruleset), result)
            if found is not None:
                return found
        return None

    def _from_result(self, node: _Node, run, by_id, result) -> str | None:
        rule = by_id[result.rule]
        post = run.posts[result.post] if result.post is not None else None
        env = {"page": run.target, "request": run.request}
        if post is not None:
            env["post"] = post
        conditions = [rule]
        if result.fires is not False:
            conditions += [by_id[e] for e, applies in result.exceptions if applies is None]
        for r in conditions:
            reads = unknown_reads(r.condition, env, run.params, run.evaluation.verdicts,
                                  run.ruleset.lexicons)
            found = self._from_reads(node, reads)
            if found is not None:
                return found
        return None

    def _from_reads(self, node: _Node, reads) -> str | None:
        for path, env in reads:
            if path.names[-1] in ("violates", "severe", "rules") and "policy" in path.names:
                found = self._from_policy(node, env.get(path.root), path)
            else:
                pointer = node.pointer(path, env)
                found = pointer if pointer is not None and self._is_open(node, pointer) else None
            if found is not None:
                return found
        return None

    def _from_policy(self, node: _Node, record, path: n.Path) -> str | None:
        """A fact behind an unknown policy result that an enforcement rule, a legal rule
        or a prior's condition reads (`p.policy.violates`)."""
        index = node.post_index(record) if path.names[1] == "policy" else None
        for run in node.runs:
            if run.ruleset.kind != "policy":
                continue
            by_id = _rules_by_id(run.ruleset)
            for result in run.evaluation.results:
                if result.holds is not None or run.compiled.verdicts[result.rule] != "violates":
                    continue
                if result.post != index:
                    continue
                found = self._from_result(node, run, by_id, result)
                if found is not None:
                    return found
        return None

    def _is_open(self, node: _Node, pointer: str) -> bool:
        # The posts themselves are what the evidence is about, never a fact to weigh.
        return (is_weighable(field_type(pointer)) and "/policy/" not in pointer
                and pointer != "/target/posts" and is_absent(node.record_for(pointer), pointer))

    # Priors

    def probability_of(self, node: _Node, pointer: str) -> float:
        """The probability that the fact at `pointer` is true on this branch, from the
        first prior whose condition holds (conditions still unknown are passed over)."""
        label = label_of(pointer)
        env = self._prior_env(node, pointer)
        for ruleset, prior in _priors_of(node.runs, label):
            probability = prior.probability_on(self.day)
            if probability is None:
                continue
            if prior.given is None or rules.evaluate(
                    prior.given, env, ruleset.parameter_values(self.day), {},
                    ruleset.lexicons) is True:
                return probability
        return DEFAULT_PRIOR

    def _prior_env(self, node: _Node, pointer: str) -> dict[str, Any]:
        staged = _staged(node)
        env: dict[str, Any] = {"page": staged, "request": node.request}
        if pointer.startswith("/target/posts/"):
            env["post"] = staged["posts"][int(pointer.split("/")[3])]
        return env

    def prior(self, node: _Node, pointer: str, depth: int = 0) -> tuple[str, float]:
        """The fact to branch on and the probability it is true: `pointer` itself, or,
        when the prior that would apply waits on another unknown fact, that fact."""
        label = label_of(pointer)
        env = self._prior_env(node, pointer)
        for ruleset, prior in _priors_of(node.runs, label):
            probability = prior.probability_on(self.day)
            if probability is None:
                continue
            if prior.given is not None:
                params = ruleset.parameter_values(self.day)
                holds = rules.evaluate(prior.given, env, params, {}, ruleset.lexicons)
                if holds is None and depth < _MAX_CONDITION_DEPTH:
                    reads = unknown_reads(prior.given, env, params, {}, ruleset.lexicons)
                    first = self._from_reads(node, reads)
                    if first is not None and first != pointer:
                        return self.prior(node, first, depth + 1)
                if holds is not True:
                    continue
            self.priors_used[(ruleset.id, prior.id, prior.fact)] = None
            return pointer, probability
        self.unpriored[label] = None
        return pointer, DEFAULT_PRIOR


def weigh(engine, evidence, day: datetime.date, platform: str, runs=None,
          assumed: Iterable[tuple[str, bool]] = (),
          budget: int = MAX_EVALUATIONS, evaluations: Evaluations | None = None) -> Weighing:
    """Weigh the outcomes of a request over the unknown facts that matter.

    `runs` are the evaluation of the evidence as it is (saves one evaluation);
    `assumed` are facts taken as given first (what-ifs), as (JSON pointer, value);
    `evaluations`, the branches other weighings of the request evaluated.
    """
    expansion = Expansion(engine, evidence, day, platform, evaluations)
    assumed = tuple((p, _value(p, v, day)) for p, v in assumed)
    root = expansion.node(assumed, None if assumed else runs)
    # Heaviest branch first: when the budget runs out, what is left unresolved is the
    # least likely part of the tree.
    frontier: list[tuple[float, int, _Node]] = [(-1.0, 0, root)]
    order = itertools.count(1)
    leaves: list[Leaf] = []
    while frontier:
        weight, _, node = heapq.heappop(frontier)
        weight = -weight
        lower, upper = expansion.bounds(node)
        fact = None
        if lower != upper and expansion.evaluations + 2 <= budget:
            fact = expansion.candidate(node, lower)
        if fact is None:
            leaves.append(Leaf(node.assignment[len(assumed):], weight, lower, upper,
                               *expansion.leaf(node)))
            continue
        fact, probability = expansion.prior(node, fact)
        if_true, if_false = values_of(fact, day)
        for value, share in ((if_true, probability), (if_false, 1.0 - probability)):
            if share > 0.0:
                child = expansion.node(node.assignment + ((fact, value),), parent=node)
                heapq.heappush(frontier, (-weight * share, next(order), child))
    return Weighing(tuple(leaves), expansion.evaluations, tuple(expansion.priors_used),
                    tuple(expansion.unpriored))


def _value(pointer: str, value: Any, day: datetime.date) -> Any:
    """A what-if's value as evidence holds it: true and false for a date mean recent
    and old."""
    if isinstance(value, bool):
        return values_of(pointer, day)[0 if value else 1]
    return value


# Conditioning: what the weighing says if some facts are taken as established

def truths(engine, evidence, day: datetime.date, platform: str, weighing: Weighing,
           pointers: Iterable[str],
           evaluations: Evaluations | None = None) -> list[dict[str, float]]:
    """For each leaf of `weighing`, the probability that each fact at `pointers` is
    true (recent, some) on it: 1 or 0 where the branch assumed it, its prior there
    otherwise. A leaf that did not assume a fact is settled without it, so the fact
    bears on that leaf only through how likely the leaf's own assumptions make it."""
    pointers = list(pointers)
    expansion = Expansion(engine, evidence, day, platform, evaluations)
    out = []
    for leaf in weighing.leaves:
        assumed = dict(leaf.assignment)
        row: dict[str, float] = {}
        node = None
        for pointer in pointers:
            if pointer in assumed:
                row[pointer] = 1.0 if assumed[pointer] == values_of(pointer, day)[0] else 0.0
                continue
            if node is None:
                node = expansion.node(leaf.assignment)
            row[pointer] = expansion.probability_of(node, pointer)
        out.append(row)
    return out


def conditioned(weighing: Weighing, rows: list[dict[str, float]],
                assumed: Iterable[tuple[str, bool]]) -> tuple[dict[str, float], float, bool]:
    """The distribution over outcomes given that the facts `assumed` have the values
    given (true: recent, some), from the leaves and their `truths` rows: (distribution,
    the probability of the assumption, whether every leaf left is settled on one
    outcome). The distribution is empty when the assumption has no probability."""
    assumed = list(assumed)
    out = dict.fromkeys(OUTCOMES, 0.0)
    total = 0.0
    outcomes: set[str] = set()
    resolved = True
    for leaf, row in zip(weighing.leaves, rows, strict=True):
        weight = leaf.weight
        for pointer, value in assumed:
            weight *= row[pointer] if value else 1.0 - row[pointer]
        if weight <= 0.0:
            continue
        total += weight
        out[leaf.lower] += weight
        outcomes.add(leaf.lower)
        resolved = resolved and leaf.is_resolved
    if total <= 0.0:
        return {}, 0.0, False
    return {o: p / total for o, p in out.items()}, total, resolved and len(outcomes) == 1


# What matters on a branch

def _rules_by_id(ruleset: rules.RuleSet) -> dict[str, rules.Rule]:
    entry = _BY_ID.get(id(ruleset))
    if entry is None or entry[0] is not ruleset:
        entry = _BY_ID[id(ruleset)] = (ruleset, {r.id: r for r in ruleset.all_rules()})
    return entry[1]


_BY_ID: dict[int, tuple[rules.RuleSet, dict[str, rules.Rule]]] = {}


def _violating_posts(runs) -> set[int]:
    return {result.post for run in runs if run.ruleset.kind == "policy"
            for result in run.evaluation.results
            if result.holds is True and result.post is not None
            and run.compiled.verdicts[result.rule] == "violates"}


def _matters(run, result, lower: str, sure_posts: set[int]) -> bool:
    """Whether an unknown rule result can change the outcome: it could raise the lower
    bound, or later stages read it (a policy result on a post not yet sure to violate)."""
    verdicts = [run.compiled.verdicts[result.rule]] + [
        run.compiled.verdicts[e] for e, _ in result.exceptions
        if run.compiled.verdicts[e] != "allowed"]
    if any(rank(outcome_of({(v, result.applies_to)})) > rank(lower) for v in verdicts):
        return True
    return (run.ruleset.kind == "policy" and verdicts[0] == "violates"
            and (result.post is None or result.post not in sure_posts))


def _post_states(runs, count: int) -> tuple[bool | None, ...]:
    states: list[bool | None] = [False] * count
    for run in runs:
        if run.ruleset.kind != "policy":
            continue
        for result in run.evaluation.results:
            if result.post is None or run.compiled.verdicts[result.rule] != "violates":
                continue
            if result.holds is True:
                states[result.post] = True
            elif result.holds is None and states[result.post] is not True:
                states[result.post] = None
    return tuple(states)


def _staged(node: _Node) -> Mapping:
    """The target with the policy results filled in, as priors' conditions read it."""
    if node.restage:
        if node.staged is None:
            policy = list(itertools.takewhile(lambda run: run.ruleset.kind == "policy",
                                              node.runs))
            if len(policy) == len(node.runs):
                node.restage = False  # no stage reads policy results: as below
                return _staged(node)
            if node.key is not None:
                # The runs' staged target with the facts they were evaluated without.
                read = {pointer for pointer, _ in node.key}
                node.staged = patched(node.runs[len(policy)].target,
                                      [a for a in node.assignment if a[0] not in read
                                       and a[0].startswith("/target/")])
            else:
                node.staged = with_policy_results(node.target, policy)
        return node.staged
    for run in node.runs:
        if run.ruleset.kind != "policy":
            return run.target
    return with_policy_results(node.target, node.runs)


def _priors(runs) -> list[tuple[rules.RuleSet, rules.Prior]]:
    """The priors of the rule sets in force: those of platform rule sets first, in the
    order the rule sets run, then those of rule sets of kind `priors`."""
    ordered = sorted((run.ruleset for run in runs), key=lambda r: r.kind == "priors")
    return [(ruleset, prior) for ruleset in ordered for prior in ruleset.priors]


def _priors_of(runs, label: str) -> list[tuple[rules.RuleSet, rules.Prior]]:
    """The priors of the fact `label` among `_priors(runs)`, in the same order: asked
    for on every branch of every weighing, so worked out once per set of rule sets."""
    rulesets = tuple(run.ruleset for run in runs)
    key = tuple(id(r) for r in rulesets)
    entry = _PRIORS.get(key)
    if entry is None:  # a live rule set's id is its own: the entry keeps them alive
        if len(_PRIORS) >= 1024:  # rule sets loaded over and over: start again
            _PRIORS.clear()
        by_label: dict[str, list[tuple[rules.RuleSet, rules.Prior]]] = {}
        for ruleset, prior in _priors(runs):
            by_label.setdefault(prior.fact, []).append((ruleset, prior))
        entry = _PRIORS[key] = (rulesets, by_label)
    return entry[1].get(label, [])


# By the identities of the rule sets; each entry keeps them alive, so that an id is
# never reused for another rule set while its entry stands.
_PRIORS: dict[tuple[int, ...], tuple[tuple[rules.RuleSet, ...],
                                     dict[str, list[tuple[rules.RuleSet, rules.Prior]]]]] = {}
