"""`takedown diff`: what changed between two versions of a rule set, and which decisions
the change turns.

Two parts, each usable alone:

- `compare_rulesets` lists the changes in what the files say: rules and exceptions
  added, removed or changed; conditions compared as trees (so a change of layout is no
  change), with the canonical text of the parts that differ; verdicts, confidences,
  citations, parameters and their dated values, lexicons, sources and embedded tests.
- `compare_corpus` judges every request of a corpus twice, with two engines whose rule
  sets are the same except for this one: in one the OLD file stands in for every version
  of it, in the other the NEW file. It lists the decisions whose outcome, bounds, posts,
  reasons or likelihood differ, both decisions in full.

The date a request is judged on is the same for both versions, so that nothing else
(other rule sets, the dated values of parameters) differs between the two judgements:
the request's submission date (or the date given), moved into the period in which both
versions apply as stand-ins: not before the later of their start dates, and before the
earlier of the ends they declare. Without declared ends that is simply "the submission
date, or the day the later version starts if the request is older". Two versions that
declare ends that never overlap are each judged on the date moved into its own period.

Nothing here prints: `takedown diff` is engine/cli/diff.py.
"""

from __future__ import annotations

import datetime
import json
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import rules
from engine.api import Engine
from engine.decision import Decision
from engine.evaluation import NoRulesetInForce
from engine.evidence import Evidence, load_evidence

__all__ = ["Change", "DecisionChange", "CorpusComparison", "compare_rulesets",
           "compare_corpus", "corpus_evidence", "stand_in", "judgement_days", "decision_changes",
           "dates_rule", "render_json", "render_changes_text", "render_changes_markdown",
           "render_decision_text", "render_decision_markdown"]

SECTIONS = ("rule set", "sources", "parameters", "lexicons", "rules", "tests")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions of a rule set.

    `item` names what changed within its section (a rule id, `rule unless exception`, a
    parameter, a source key); `field` says which part of it, empty when the whole item
    was added or removed. Conditions are given in canonical text; `parts` pairs the
    smallest sub-expressions that differ (None where one side has nothing)."""

    section: str
    item: str
    field: str
    kind: str  # added, removed, changed
    old: str | None = None
    new: str | None = None
    note: str = ""
    parts: tuple[tuple[str | None, str | None], ...] = ()

    def as_json(self) -> dict:
        out = asdict(self)
        out["parts"] = [{"old": a, "new": b} for a, b in self.parts]
        return out


# What the files say

def compare_rulesets(old: rules.RuleSet, new: rules.RuleSet) -> list[Change]:
    """Every difference between two versions of a rule set, section by section."""
    out: list[Change] = []
    out += _fields("rule set", "", _ruleset_fields(old), _ruleset_fields(new))
    out += _keyed("sources", old.sources, new.sources, _source_fields, _source_summary)
    out += _keyed("parameters", old.parameters, new.parameters, _parameter_fields,
                  _parameter_summary)
    out += _lexicons(old.lexicons, new.lexicons)
    out += _rules(old, new)
    old_tests = [t.name for t in old.tests]
    new_tests = [t.name for t in new.tests]
    out += [Change("tests", name, "", "removed") for name in old_tests if name not in new_tests]
    out += [Change("tests", name, "", "added") for name in new_tests if name not in old_tests]
    return out


def _show(value) -> str:
    if value is None or value == "" or value == ():
        return "(none)"
    if isinstance(value, datetime.timedelta):
        return f"{value.days} day{'s' if value.days != 1 else ''}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ", ".join(map(_show, value))
    return str(value)


def _fields(section: str, item: str, old: dict, new: dict) -> list[Change]:
    """A change for each field whose shown value differs; fields are shown as text."""
    out = []
    for name in dict.fromkeys([*old, *new]):
        a, b = old.get(name), new.get(name)
        if a != b:
            kind = "added" if a is None else "removed" if b is None else "changed"
            out.append(Change(section, item, name, kind, a, b))
    return out


def _keyed(section: str, old: dict, new: dict, fields, summary) -> list[Change]:
    out = []
    for key in old:
        if key not in new:
            out.append(Change(section, key, "", "removed", old=summary(old[key])))
    for key in new:
        if key not in old:
            out.append(Change(section, key, "", "added", new=summary(new[key])))
        else:
            out += _fields(section, key, fields(old[key]), fields(new[key]))
    return out


def _ruleset_fields(r: rules.RuleSet) -> dict:
    return {"ruleset": r.id, "title": r.title, "platform": r.platform,
            "surfaces": _show(r.surfaces), "kind": r.kind, "version": r.version,
            "effective from": _show(r.effective_from),
            "effective until": _show(r.effective_until), "language": str(r.language),
            "description": _show(r.description)}


def _source_fields(s: rules.Source) -> dict:
    return {"title": s.title, "url": s.url, "retrieved": _show(s.retrieved),
            "publisher": _show(s.publisher), "section": _show(s.section),
            "published": _show(s.published), "note": _show(s.note)}


def _source_summary(s: rules.Source) -> str:
    return f"{s.title} <{s.url}>, retrieved {_show(s.retrieved)}"


def _parameter_fields(p: rules.Parameter) -> dict:
    out = {"unit": p.unit, "estimated": _show(p.estimated), "source": _show(p.source),
           "note": _show(p.note)}
    for day, value in p.values:
        out[f"value from {day.isoformat()}"] = _show(value)
    return out


def _parameter_summary(p: rules.Parameter) -> str:
    values = "; ".join(f"{_show(v)} from {d.isoformat()}" for d, v in p.values)
    return f"{p.unit}: {values}" + (" (estimated)" if p.estimated else "")


def _lexicons(old: dict, new: dict) -> list[Change]:
    """Lexicons added or removed whole, and each word added or removed in a language."""
    out = []
    for name in dict.fromkeys([*old, *new]):
        if name not in new:
            out.append(Change("lexicons", name, "", "removed", old=_lexicon_summary(old[name])))
        elif name not in old:
            out.append(Change("lexicons", name, "", "added", new=_lexicon_summary(new[name])))
        else:
            before, after = dict(old[name].entries), dict(new[name].entries)
            for language in dict.fromkeys([*before, *after]):
                was, now = before.get(language, ()), after.get(language, ())
                out += [Change("lexicons", name, language, "removed", old=word)
                        for word in was if word not in now]
                out += [Change("lexicons", name, language, "added", new=word)
                        for word in now if word not in was]
    return out


def _lexicon_summary(lexicon) -> str:
    return "; ".join(f"{language}: {_show(words)}" for language, words in lexicon.entries)


def _rule_fields(rule: rules.Rule) -> dict:
    return {"title": _show(rule.title), "applies_to": rule.applies_to,
            "verdict": rule.verdict, "confidence": _show(rule.confidence),
            "severity": _show(rule.severity), "priority": _show(rule.priority),
            "message": _show(rule.message)}


def _citation(c: rules.Citation) -> str:
    return f"{c.source}, {c.section}: {c.says}" + (f" <{c.url}>" if c.url else "")


def _condition(rule: rules.Rule) -> str:
    return rules.unparse(rule.condition) if rule.condition is not None else rule.when.strip()


def _rule_summary(rule: rules.Rule) -> str:
    if rule.is_exception:
        return rule.verdict + (f", priority {rule.priority}" if rule.priority else "")
    return f"{rule.verdict}, {rule.applies_to} rule, confidence {_show(rule.confidence)}"


def _rules(old: rules.RuleSet, new: rules.RuleSet) -> list[Change]:
    out = []
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    for rule_id, rule in old_rules.items():
        if rule_id not in new_rules:
            out += _whole(rule, "removed")
    for rule_id, rule in new_rules.items():
        if rule_id not in old_rules:
            out += _whole(rule, "added")
            continue
        before = old_rules[rule_id]
        out += _rule_changes(before, rule, rule_id)
        old_exceptions = {e.id: e for e in before.exceptions}
        new_exceptions = {e.id: e for e in rule.exceptions}
        for exc_id, exception in old_exceptions.items():
            if exc_id not in new_exceptions:
                out += _whole(exception, "removed", rule_id)
        for exc_id, exception in new_exceptions.items():
            item = f"{rule_id} unless {exc_id}"
            if exc_id not in old_exceptions:
                out += _whole(exception, "added", rule_id)
            else:
                out += _rule_changes(old_exceptions[exc_id], exception, item)
    return out


def _whole(rule: rules.Rule, kind: str, parent: str = "") -> list[Change]:
    """A rule (with its exceptions) or an exception that only one version has."""
    item = f"{parent} unless {rule.id}" if parent else rule.id
    text = _condition(rule)
    change = Change("rules", item, "", kind, old=text if kind == "removed" else None,
                    new=text if kind == "added" else None, note=_rule_summary(rule))
    return [change] + [c for e in rule.exceptions for c in _whole(e, kind, rule.id)]


def _rule_changes(old: rules.Rule, new: rules.Rule, item: str) -> list[Change]:
    out = _fields("rules", item, _rule_fields(old), _rule_fields(new))
    if old.condition != new.condition:
        parts = ()
        if old.condition is not None and new.condition is not None:
            parts = tuple(rules.changed_parts(old.condition, new.condition))
        out.append(Change("rules", item, "when", "changed", _condition(old), _condition(new),
                          parts=parts))
    old_cites = [_citation(c) for c in old.cites]
    new_cites = [_citation(c) for c in new.cites]
    out += [Change("rules", item, "cites", "removed", old=c) for c in old_cites
            if c not in new_cites]
    out += [Change("rules", item, "cites", "added", new=c) for c in new_cites
            if c not in old_cites]
    return out


# Which decisions the change turns

@dataclass(frozen=True, slots=True)
class DecisionChange:
    """One request whose decision differs between the two versions."""

    evidence: str
    as_of: tuple[str, str]  # the dates judged on, old and new (the same unless stated)
    changes: tuple[str, ...]  # among: outcome, bounds, posts, reasons, likelihood
    old: Decision
    new: Decision

    @property
    def is_flip(self) -> bool:
        return "outcome" in self.changes

    def as_json(self) -> dict:
        return {"evidence": self.evidence, "as_of": {"old": self.as_of[0], "new": self.as_of[1]},
                "changes": list(self.changes), "old": self.old.as_json(),
                "new": self.new.as_json()}


@dataclass(frozen=True, slots=True)
class CorpusComparison:
    """The decisions on a corpus that differ between two versions, and what was left out."""

    checked: int  # requests judged under both versions
    changed: tuple[DecisionChange, ...]
    not_covered: tuple[str, ...] = ()  # requests about platforms neither version covers
    problems: tuple[rules.Diagnostic, ...] = ()  # invalid evidence, no rule set in force

    @property
    def flips(self) -> tuple[DecisionChange, ...]:
        return tuple(c for c in self.changed if c.is_flip)


def stand_in(registry: rules.Registry, ruleset: rules.RuleSet, ids: Iterable[str]) -> rules.Registry:
    """The registry with every version of the rule sets `ids` replaced by `ruleset` alone."""
    ids = set(ids)
    return rules.Registry([r for r in registry if r.id not in ids] + [ruleset])


def judgement_days(day: datetime.date, old: rules.RuleSet,
                   new: rules.RuleSet) -> tuple[datetime.date, datetime.date]:
    """The dates a request of `day` is judged on under each version (see the module's
    docstring); the same date unless the versions declare ends that never overlap."""
    start = max(old.effective_from, new.effective_from)
    ends = [r.effective_until for r in (old, new) if r.effective_until is not None]
    end = min(ends) if ends else None
    if end is None or start < end:
        return (_clamp(day, start, end),) * 2
    return (_clamp(day, old.effective_from, old.effective_until),
            _clamp(day, new.effective_from, new.effective_until))


def _clamp(day: datetime.date, start: datetime.date, end: datetime.date | None) -> datetime.date:
    day = max(day, start)
    return min(day, end - datetime.timedelta(days=1)) if end is not None else day


def decision_changes(old: Decision, new: Decision, old_held: frozenset | None = None,
                     new_held: frozenset | None = None) -> tuple[str, ...]:
    """How two decisions on one request differ: outcome, bounds, posts (which posts go,
    and under which rules), reasons (rules that hold and exceptions that apply, where),
    likelihood. The reasons are read from the decisions' explanations unless what held
    is given (`_held`, from the fast path)."""
    out = []
    if old.outcome != new.outcome:
        out.append("outcome")
    if old.bounds != new.bounds:
        out.append("bounds")
    if old.posts != new.posts:
        out.append("posts")
    if (old_held, new_held) == (None, None):
        old_held, new_held = _grounds(old), _grounds(new)
    if old_held != new_held:
        out.append("reasons")
    if old.likelihood != new.likelihood:
        out.append("likelihood")
    return tuple(out)


def _grounds(decision: Decision) -> frozenset:
    held = {("holds", r.ruleset, r.rule, r.subject, r.post)
            for r in decision.reasons + decision.deficiencies}
    applied = {("applies", e.ruleset, e.exception, e.subject, e.post) for e in decision.exceptions}
    return frozenset(held | applied)


def _held(engine: Engine, evidence: Evidence, day: datetime.date) -> frozenset:
    """What `_grounds` reads from an explanation, from one run of the fast path."""
    runs, _, _ = engine.run(evidence, day)
    out = set()
    for run in runs:
        for result in run.evaluation.results:
            post = evidence.post_id(result.post) if result.post is not None else None
            if result.holds is True:
                out.add(("holds", run.ruleset.id, result.rule, result.applies_to, post))
            if result.overridden_by:
                out.add(("applies", run.ruleset.id, result.overridden_by, result.applies_to, post))
    return frozenset(out)


def compare_corpus(old: rules.RuleSet, new: rules.RuleSet, registry: rules.Registry,
                   evidence: Iterable[tuple[str, Evidence | None, list]],
                   as_of: datetime.date | None = None) -> CorpusComparison:
    """Judge each request under both versions and keep the decisions that differ.

    Args:
        old, new: the two versions.
        registry: every other rule set, as it is (its versions of `old` and `new` are
            replaced).
        evidence: (name, evidence or None, problems) for each request, as loaded.
        as_of: the date to start from instead of each request's submission date.
    """
    ids = {old.id, new.id}
    old_engine = Engine(stand_in(registry, old, ids))
    new_engine = Engine(stand_in(registry, new, ids))
    checked = 0
    changed: list[DecisionChange] = []
    not_covered: list[str] = []
    problems: list[rules.Diagnostic] = []
    for name, item, found in evidence:
        if item is None:
            problems += found
            continue
        if not (old.covers(item.platform) or new.covers(item.platform)):
            not_covered.append(name)
            continue
        old_day, new_day = judgement_days(as_of or item.submitted, old, new)
        try:
            # The fast path first, explanations only for the decisions that differ: on a
            # corpus most do not, and explaining is what costs.
            before = old_engine.check(item, old_day, explain=False)
            after = new_engine.check(item, new_day, explain=False)
            differences = decision_changes(before, after, _held(old_engine, item, old_day),
                                           _held(new_engine, item, new_day))
            if differences:  # explained for the reader, without the missing-facts search
                before = old_engine.check(item, old_day, missing=False)
                after = new_engine.check(item, new_day, missing=False)
        except NoRulesetInForce as error:
            problems.append(rules.Diagnostic("V007", str(error), rules.Location(name)))
            continue
        checked += 1
        if differences:
            changed.append(DecisionChange(name, (old_day.isoformat(), new_day.isoformat()),
                                          differences, before, after))
    changed.sort(key=lambda c: (not c.is_flip, c.evidence))
    return CorpusComparison(checked, tuple(changed), tuple(not_covered), tuple(problems))


def corpus_evidence(directory: Path, track: Callable[[Sequence], Iterable] = iter,
                    ) -> Iterable[tuple[str, Evidence | None, list]]:
    """Each evidence file of a corpus (`*.json`, searched recursively; or one file),
    named by its path inside the corpus; `track` wraps the list of files (to show
    progress)."""
    files = sorted(directory.rglob("*.json")) if directory.is_dir() else [directory]
    for path in track(files):
        name = str(path.relative_to(directory)) if directory.is_dir() else str(path)
        evidence, problems = load_evidence(path)
        yield name, evidence, problems


# Rendering

_KIND_MARKS = {"added": "+", "removed": "-", "changed": "~"}
_SECTION_TITLES = {"rule set": "Rule set", "sources": "Sources", "parameters": "Parameters",
                   "lexicons": "Lexicons", "rules": "Rules and exceptions",
                   "tests": "Embedded tests"}


def _label(change: Change) -> str:
    item = change.item
    if change.section == "tests":
        return f"test {json.dumps(item, ensure_ascii=False)}"
    if change.section == "rule set":
        return change.field
    if change.section == "rules":
        rule, _, exception = item.partition(" unless ")
        item = f"exception {exception} of {rule}" if exception else f"rule {rule}"
    else:
        item = f"{change.section[:-1]} {item}"
    return f"{item}, {change.field}" if change.field else item


def _pretty(condition: str, width: int) -> list[str]:
    tree, _ = rules.parse(condition)
    return (rules.unparse_pretty(tree, width) if tree is not None else condition).split("\n")


def render_changes_text(changes: list[Change], width: int = 88) -> list[str]:
    out = []
    for section in SECTIONS:
        found = [c for c in changes if c.section == section]
        if not found:
            continue
        out += ["", _SECTION_TITLES[section]]
        for change in found:
            mark = _KIND_MARKS[change.kind]
            label = _label(change)
            is_condition = change.field == "when" or (change.section == "rules" and not change.field)
            old, new = change.old, change.new
            short = all(v is None or (len(v) <= 40 and "\n" not in v) for v in (old, new))
            if short and not is_condition and (old is not None or new is not None):
                shown = f"{old} -> {new}" if change.kind == "changed" else old or new
                out.append(f"  {mark} {label}: {shown}")
                continue
            out.append(f"  {mark} {label}" + (f" ({change.note})" if change.note else ""))
            for word, value in (("was", old), ("now", new)):
                if value is None:
                    continue
                if is_condition:
                    lines = _pretty(value, width - 11)
                else:
                    lines = textwrap.wrap(value, width - 11) or [""]
                out.append(f"      {word}: {lines[0]}")
                out += [f"           {line}" for line in lines[1:]]
            for a, b in change.parts:
                if a is not None and b is not None and len(a) + len(b) <= width - 21:
                    out.append(f"      differs: {a}  ->  {b}")
                    continue
                for word, part in (("differs:" if b is not None else "dropped:", a),
                                   ("->" if a is not None else "added:", b)):
                    if part is not None:
                        lines = _pretty(part, width - 15)
                        out.append(f"      {word:>8} {lines[0]}")
                        out += [f"               {line}" for line in lines[1:]]
    return out


def render_changes_markdown(changes: list[Change]) -> list[str]:
    out = []
    for section in SECTIONS:
        found = [c for c in changes if c.section == section]
        if not found:
            continue
        out += ["", f"### {_SECTION_TITLES[section]}", ""]
        for change in found:
            label = _label(change)
            note = f" ({change.note})" if change.note else ""
            is_condition = change.field == "when" or (change.section == "rules" and not change.field)
            out.append(f"- **{change.kind}** {label}{note}")
            for word, value in (("was", change.old), ("now", change.new)):
                if value is None:
                    continue
                if is_condition:
                    out += [f"  - {word}:", "", "    ```"]
                    out += [f"    {line}" for line in _pretty(value, 80)]
                    out += ["    ```", ""]
                else:
                    out.append(f"  - {word}: {value}")
            for a, b in change.parts:
                if a is not None and b is not None:
                    out.append(f"  - differs: `{a}` → `{b}`")
                elif a is not None:
                    out.append(f"  - dropped: `{a}`")
                else:
                    out.append(f"  - added: `{b}`")
    return out


def _rows(decision: Decision, compared: set[str]) -> dict[str, list[str]]:
    """What a decision says, row by row, for showing two of them side by side."""
    def where(subject: str, post: str | None) -> str:
        return f"post {post}" if post else f"the {subject}"

    def rule(ruleset: str, name: str) -> str:
        return name if ruleset in compared else f"{ruleset}: {name}"

    lower, upper = decision.bounds
    return {
        "outcome": [decision.outcome],
        "likelihood": [f"{round(decision.likelihood * 100)}%"],
        "bounds": [lower if lower == upper else f"{lower} .. {upper}"],
        # The compared rule set's version heads the column; the others are the same
        # versions on both sides, shown only when they call for some action.
        "rule sets": [f"{r.id}{'' if r.id in compared else ' ' + r.version}: {r.outcome}"
                      for r in decision.rulesets if r.id in compared or r.outcome != "no_action"],
        "posts": [f"{p.id} {p.outcome}" + (f" [{', '.join(p.rules)}]" if p.rules else "")
                  for p in decision.posts],
        "holds": [f"{rule(r.ruleset, r.rule)} on {where(r.subject, r.post)}"
                  for r in decision.reasons + decision.deficiencies],
        "exceptions": [f"{rule(e.ruleset, e.exception)} overrides {e.overrides} on "
                       f"{where(e.subject, e.post)}" for e in decision.exceptions],
        "missing": [m.fact for m in decision.missing],
    }


def render_decision_text(change: DecisionChange, titles: tuple[str, str], compared: set[str],
                         column: int = 40) -> list[str]:
    old_day, new_day = change.as_of
    day = old_day if old_day == new_day else f"{old_day} / {new_day}"
    out = [f"{change.evidence}, as of {day}", f"  differs in {', '.join(change.changes)}:"]
    left, right = _rows(change.old, compared), _rows(change.new, compared)
    out.append(f"  {'':<12} {titles[0]:<{column}}  {titles[1]}")
    for name in left:
        a, b = left[name], right[name]
        if not a and not b:
            continue
        mark = "*" if a != b else " "
        a_lines = [x for item in a for x in _wrap(item, column)] or ["-"]
        b_lines = [x for item in b for x in _wrap(item, column)] or ["-"]
        for index in range(max(len(a_lines), len(b_lines))):
            label = f"{mark} {name}" if index == 0 else ""
            la = a_lines[index] if index < len(a_lines) else ""
            lb = b_lines[index] if index < len(b_lines) else ""
            out.append(f"  {label:<12} {la:<{column}}  {lb}".rstrip())
    return out


def _wrap(text: str, width: int) -> list[str]:
    lines = textwrap.wrap(text, width, subsequent_indent="  ", break_on_hyphens=False,
                          break_long_words=False)
    return lines or [""]


def render_decision_markdown(change: DecisionChange, titles: tuple[str, str],
                             compared: set[str]) -> list[str]:
    old_day, new_day = change.as_of
    day = old_day if old_day == new_day else f"{old_day} / {new_day}"
    out = [f"#### `{change.evidence}`", "",
           f"As of {day}; differs in {', '.join(change.changes)}.", "",
           f"| | {titles[0]} | {titles[1]} |", "|---|---|---|"]
    left, right = _rows(change.old, compared), _rows(change.new, compared)

    def cell(items: list[str]) -> str:
        return "<br>".join(x.replace("|", "\\|") for x in items) or "–"

    for name in left:
        if left[name] or right[name]:
            label = f"**{name}**" if left[name] != right[name] else name
            out.append(f"| {label} | {cell(left[name])} | {cell(right[name])} |")
    return out


def _identity(ruleset: rules.RuleSet) -> dict:
    out = ruleset.identity()
    out["path"] = ruleset.path
    return out


def render_json(old: rules.RuleSet, new: rules.RuleSet, changes: list[Change],
                corpus: CorpusComparison | None, dates: str) -> str:
    document: dict = {"old": _identity(old), "new": _identity(new),
                      "changes": [c.as_json() for c in changes]}
    if corpus is not None:
        document["decisions"] = {
            "dates": dates, "checked": corpus.checked,
            "changed": [c.as_json() for c in corpus.changed],
            "flips": [c.evidence for c in corpus.flips],
            "not_covered": list(corpus.not_covered),
            "problems": [d.as_json() for d in corpus.problems]}
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


def dates_rule(old: rules.RuleSet, new: rules.RuleSet, as_of: datetime.date | None) -> str:
    """The date rule in words, for the report."""
    start = as_of.isoformat() if as_of else "its submission date"
    first = max(old.effective_from, new.effective_from)
    ends = [r.effective_until for r in (old, new) if r.effective_until is not None]
    end = min(ends) if ends else None
    if end is not None and first >= end:
        return (f"each request is judged on {start}, moved into each version's own period "
                "(the two versions never apply on the same day)")
    text = f"each request is judged on {start}, moved to {first.isoformat()} if earlier"
    if end is not None:
        text += f" or to {(end - datetime.timedelta(days=1)).isoformat()} if later"
    return text + ", under both versions, with every other rule set the same"
