"""Rejections as the platforms explained them: which requests a platform refused in whole or
in part, the kind of reason it gave, and the rules and thresholds of its own policy that
explain or contradict that reason.

The kinds, and the wordings that belong to each, are data (`rejection_reasons.yaml`), so
that a new wording is added without touching code. `rejection_kind` says whether a
response refused what was asked and of which kind; `rule_states` replays a case's stored
evidence on the fast path for the three-valued result of every rule that leads to an
action; `breakdown` ties each rejection to the rules and thresholds behind it, as JSON.
Wording belongs to `engine.audit.reports`; nothing here renders.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from engine.api import Engine
from engine.audit.consistency import ASKED, assess, leads_to
from engine.audit.records import Case, Response, latest
from engine.decision import ACTION_VERDICTS, rank
from engine.evaluation import NoRulesetInForce
from engine.evidence import parse_evidence

__all__ = ["ReasonKind", "reason_kinds", "classify", "rejection_kind", "rule_states",
           "breakdown", "kind_order", "OTHER", "PAGE_KEPT", "HELD", "NOT_HELD", "UNKNOWN",
           "SET_ASIDE", "REASONS_FILE"]

REASONS_FILE = Path(__file__).with_name("rejection_reasons.yaml")
PAGE_KEPT = "posts_removed_page_kept"
# A rejection whose reason is of no kind in the file, or that gave none.
OTHER = "other"
OTHER_TITLE = "another reason, or none given"

# What a rule did on a case's evidence.
HELD, NOT_HELD, UNKNOWN, SET_ASIDE = "held", "not held", "unknown", "set aside"


@dataclass(frozen=True, slots=True)
class ReasonKind:
    """One kind of stated reason, with the patterns that recognise its wordings."""

    kind: str
    title: str
    description: str
    precedence: int  # kinds are tried lowest first
    patterns: tuple[re.Pattern, ...]
    unless: tuple[re.Pattern, ...]
    examples: tuple[str, ...]

    def matches(self, normalized_reason: str) -> bool:
        return (any(p.search(normalized_reason) for p in self.patterns)
                and not any(p.search(normalized_reason) for p in self.unless))


@cache
def reason_kinds(path: Path = REASONS_FILE) -> tuple[ReasonKind, ...]:
    """The kinds in `path`, in the order reports show them."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(ReasonKind(entry["kind"], entry["title"], entry.get("description", ""),
                            int(entry.get("precedence", 0)),
                            tuple(re.compile(p) for p in entry.get("patterns", ())),
                            tuple(re.compile(p) for p in entry.get("unless", ())),
                            tuple(entry.get("examples", ())))
                 for entry in document["kinds"])


def kind_order() -> tuple[str, ...]:
    """The kinds in the order reports show them, ending with the other reasons."""
    return (*(k.kind for k in reason_kinds()), OTHER)


def _titles() -> dict[str, str]:
    return {**{k.kind: k.title for k in reason_kinds()}, OTHER: OTHER_TITLE}


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _normalized(reason: str) -> str:
    return " ".join(reason.translate(_QUOTES).lower().split())


def classify(reason: str, kinds: Sequence[ReasonKind] | None = None) -> str | None:
    """The kind of a platform's stated reason, by its wording; None if it is of no kind."""
    text = _normalized(reason or "")
    if not text:
        return None
    tried = sorted(kinds or reason_kinds(), key=lambda k: k.precedence)
    return next((k.kind for k in tried if k.matches(text)), None)


def rejection_kind(response: Response | None, asks: str | None) -> str | None:
    """The kind of rejection a response is, or None when it is none: no final response
    yet, or the platform did what was asked.

    A response that removed posts when the page was asked for is "posts removed but page
    kept" whatever its words; one that did nothing takes the kind its words say."""
    if response is None or not response.is_final:
        return None
    asked = ASKED.get(asks or "")
    if response.outcome != "no_action" and (asked is None or rank(response.outcome) >= rank(asked)):
        return None
    if response.outcome == "posts_removed":
        return PAGE_KEPT
    return classify(response.reason) or OTHER


# What each rule did, replayed

def rule_states(engine: Engine, case: Case) -> dict[str, dict] | None:
    """Every rule that leads to an action, in the rule sets in force on the submission
    date, with what it did on the stored evidence: held, not held, unknown, or set aside
    by an allowance, and on which subjects. None when the stored evidence cannot be
    evaluated again (no rule set in force, or no longer valid)."""
    evidence, _ = parse_evidence(case.evidence, case.source)
    if evidence is None:
        return None
    try:
        runs, _, _ = engine.run(evidence, datetime.date.fromisoformat(case.submitted),
                                case.platform)
    except NoRulesetInForce:
        return None
    out = {}
    for run in runs:
        ruleset = run.ruleset
        by_rule: dict[str, list] = {}
        for result in run.evaluation.results:
            by_rule.setdefault(result.rule, []).append(result)
        for rule in ruleset.rules:
            if rule.verdict not in ACTION_VERDICTS:
                continue
            results = by_rule.get(rule.id, [])
            held = [_subject(run, r) for r in results if r.holds is True]
            unknown = [_subject(run, r) for r in results if r.holds is None]
            aside = [(_subject(run, r), r.overridden_by) for r in results
                     if r.holds is False and r.fires is True and r.overridden_by]
            state = (HELD if held else UNKNOWN if unknown else SET_ASIDE if aside else NOT_HELD)
            key = f"{ruleset.id}/{rule.id}"
            out[key] = {"key": key, "ruleset": ruleset.id, "version": ruleset.version,
                        "stage": ruleset.kind, "rule": rule.id, "title": rule.title,
                        "applies_to": rule.applies_to, "leads_to": leads_to(rule.verdict),
                        "state": state,
                        "subjects": held or unknown or [s for s, _ in aside],
                        "allowances": list(dict.fromkeys(e for _, e in aside))}
    return out


def _subject(run, result) -> str:
    if result.post is None:
        return result.applies_to
    post = run.posts[result.post] if result.post < len(run.posts) else {}
    return f"post {post.get('id', result.post)}"


# The breakdown

def _recorded_states(decision: Mapping) -> dict[str, dict]:
    """What the recorded decision says without a replay: the rules that held, and the
    allowances that set a rule aside."""
    out: dict[str, dict] = {}
    for reason in decision.get("reasons", []):
        if reason["verdict"] not in ACTION_VERDICTS:
            continue
        key = f"{reason['ruleset']}/{reason['rule']}"
        entry = out.setdefault(key, {
            "key": key, "ruleset": reason["ruleset"], "version": None, "stage": None,
            "rule": reason["rule"], "title": reason["title"],
            "applies_to": reason["subject"], "leads_to": leads_to(reason["verdict"]),
            "state": HELD, "subjects": [], "allowances": []})
        subject = f"post {reason['post']}" if reason.get("post") is not None else reason["subject"]
        entry["subjects"].append(subject)
    for exception in decision.get("exceptions", []):
        key = f"{exception['ruleset']}/{exception['overrides']}"
        if key in out:
            continue
        entry = out.setdefault(key, {
            "key": key, "ruleset": exception["ruleset"], "version": None, "stage": None,
            "rule": exception["overrides"], "title": exception["overrides"],
            "applies_to": exception["subject"], "leads_to": None, "state": SET_ASIDE,
            "subjects": [], "allowances": []})
        subject = (f"post {exception['post']}" if exception.get("post") is not None
                   else exception["subject"])
        entry["subjects"].append(subject)
        if exception["exception"] not in entry["allowances"]:
            entry["allowances"].append(exception["exception"])
    return out


def _usable(states: Mapping[str, dict] | None, recorded: Mapping[str, dict]) -> bool:
    """A replay explains the recorded decision only if the same rules hold in both."""
    if states is None:
        return False
    held = {k for k, s in states.items() if s["state"] == HELD}
    return held == {k for k, s in recorded.items() if s["state"] == HELD}


def _selected(kind: str, states: Mapping[str, dict], page_asked: bool,
              thresholds: Mapping[str, list]) -> list[dict]:
    """The rules that bear on a rejection of this kind: for a page kept (or under a
    threshold when the page was asked for), every rule that takes the page down and every
    threshold; for content said not to break the policy (or a post under the threshold
    for a breach), the policy's own rules. Then whatever else holds."""
    if kind == PAGE_KEPT or (kind != "not_contravening" and page_asked):
        chosen = [s for s in states.values()
                  if s["leads_to"] == "page_removed" or s["key"] in thresholds]
    else:
        chosen = [s for s in states.values() if s["stage"] in ("policy", None)
                  and s["leads_to"] != "page_removed"]
    return chosen + [s for s in states.values() if s["state"] == HELD and s not in chosen]


def _supports(kind: str, item: dict, actual: str) -> bool | None:
    """Whether a rule's result bears out the reason the platform gave (True), contradicts
    it (False), or does not settle it (None).

    A rule that holds contradicts the response when it calls for more than the platform
    did, and bears it out when the response gives it effect (the posts it removes were
    removed); one that does not hold, or that an allowance set aside, bears it out. Under
    a "threshold" reason, a threshold not met bears it out and one met contradicts it."""
    figures = item["thresholds"]
    if figures and kind in ("below_threshold", PAGE_KEPT):
        met = [t["met"] for t in figures]
        if all(m is False for m in met):
            return True
        if True not in met or item["state"] != HELD:
            return None
    if item["state"] == HELD:
        return None if item["leads_to"] is None else rank(item["leads_to"]) <= rank(actual)
    return {NOT_HELD: True, SET_ASIDE: True, UNKNOWN: None}[item["state"]]


def _explain(kind: str, case: Case, response: Response, states: Mapping | None) -> dict:
    decision = case.decision
    recorded = _recorded_states(decision)
    is_replayed = _usable(states, recorded)
    known = dict(states) if is_replayed else recorded
    thresholds: dict[str, list] = {}
    for t in decision.get("thresholds", []):
        thresholds.setdefault(f"{t['ruleset']}/{t['rule']}", []).append(
            {k: t.get(k) for k in ("parameter", "estimated", "comparison", "required",
                                   "observed", "out_of", "met", "margin", "text")})
    for key, figures in thresholds.items():  # a threshold of a rule the replay did not list
        if key not in known:
            ruleset, rule = key.split("/", 1)
            known[key] = {"key": key, "ruleset": ruleset, "version": None, "stage": None,
                          "rule": rule, "title": rule, "applies_to": "page",
                          "leads_to": None,
                          "state": NOT_HELD if all(f["met"] is False for f in figures)
                          else UNKNOWN, "subjects": [], "allowances": []}
    page_asked = ASKED.get(case.asks or "") == "page_removed"
    items = []
    for state in _selected(kind, known, page_asked, thresholds):
        item = {k: state[k] for k in ("key", "ruleset", "rule", "title", "applies_to",
                                      "leads_to", "state", "subjects", "allowances")}
        item["thresholds"] = thresholds.get(state["key"], [])
        item["supports"] = _supports(kind, item, response.outcome)
        items.append(item)
    items.sort(key=lambda i: ({False: 0, True: 1, None: 2}[i["supports"]],
                              not i["thresholds"], i["key"]))
    finding = assess(decision, case.asks, response)
    asked = ASKED.get(case.asks or "")
    # the facts that could show the platform owed more, within what was asked
    missing = [m for m in decision.get("missing", [])
               if m["if_true"] and rank(m["if_true"]) > rank(response.outcome)
               and (asked is None or rank(m["if_true"]) <= rank(asked))]
    return {"id": case.id, "request_id": case.request_id, "platform": case.platform,
            "target": (case.evidence.get("target") or {}).get("kind") or "page",
            "submitted": case.submitted, "asks": case.asks, "kind": kind,
            "response": {"date": response.date, "outcome": response.outcome,
                         "reason": response.reason},
            "predicted": decision["outcome"],
            "bounds": decision["bounds"],
            "status": finding.status, "direction": finding.direction,
            "is_replayed": is_replayed,
            "rules": items,
            "missing": [{"fact": m["fact"], "if_true": m["if_true"], "text": m["text"]}
                        for m in missing]}


def _rule_totals(rejections: Sequence[dict]) -> list[dict]:
    """Per rule: in how many of these rejections it held, did not, stayed unknown or was
    set aside, and the figures of its thresholds."""
    found: dict[str, dict] = {}
    for rejection in rejections:
        for item in rejection["rules"]:
            entry = found.setdefault(item["key"], {
                "key": item["key"], "ruleset": item["ruleset"], "rule": item["rule"],
                "title": item["title"], "leads_to": item["leads_to"], "cases": 0,
                "states": {HELD: 0, NOT_HELD: 0, UNKNOWN: 0, SET_ASIDE: 0},
                "supports": {"yes": 0, "no": 0, "open": 0},
                "allowances": [], "thresholds": {}})
            entry["cases"] += 1
            entry["states"][item["state"]] += 1
            entry["supports"][{True: "yes", False: "no", None: "open"}[item["supports"]]] += 1
            for allowance in item["allowances"]:
                if allowance not in entry["allowances"]:
                    entry["allowances"].append(allowance)
            for figure in item["thresholds"]:
                _add_figure(entry["thresholds"], figure)
    out = []
    for entry in found.values():
        entry["thresholds"] = list(entry["thresholds"].values())
        out.append(entry)
    return sorted(out, key=lambda e: (not e["thresholds"],
                                      -e["supports"]["yes"] - e["supports"]["no"], e["key"]))


def _add_figure(totals: dict, figure: Mapping) -> None:
    """Gather a threshold's figures over cases: how often met, not met or unknown, the
    values required and the range observed."""
    entry = totals.setdefault(figure["parameter"], {
        "parameter": figure["parameter"], "estimated": figure["estimated"],
        "comparison": figure["comparison"], "required": [], "observed": None,
        "met": 0, "not_met": 0, "unknown": 0})
    entry[{True: "met", False: "not_met", None: "unknown"}[figure["met"]]] += 1
    if figure["required"] not in entry["required"]:
        entry["required"].append(figure["required"])
    observed = figure["observed"]
    low, high = (observed if isinstance(observed, list) else (observed, observed))
    if low is None or not isinstance(low, int | float):
        return
    high = high if isinstance(high, int | float) else None
    if entry["observed"] is None:
        entry["observed"] = [low, high]
    else:
        entry["observed"][0] = min(entry["observed"][0], low)
        if entry["observed"][1] is not None:
            entry["observed"][1] = None if high is None else max(entry["observed"][1], high)


def breakdown(cases: Iterable[Case], responses: Mapping[str, Sequence[Response]],
              states: Mapping[str, Mapping | None] | None = None) -> dict:
    """The rejections among `cases`, by kind of stated reason, each tied to the rules and
    thresholds behind it. `states` (case id -> `rule_states`) lets every rule be named,
    including those that did not hold; without it, only what the recorded decisions name
    (the rules that held, the thresholds, the allowances) is."""
    states = states or {}
    rejections = []
    flagged = 0
    for case in cases:
        flagged += 1
        response = latest(responses.get(case.id, []))
        kind = rejection_kind(response, case.asks)
        if kind is not None:
            rejections.append(_explain(kind, case, response, states.get(case.id)))
    titles = _titles()
    kinds = []
    for kind in kind_order():
        group = [r for r in rejections if r["kind"] == kind]
        if not group and kind == OTHER:
            continue
        wordings: dict[str, int] = {}
        for r in group:
            wordings[r["response"]["reason"]] = wordings.get(r["response"]["reason"], 0) + 1
        kinds.append({"kind": kind, "title": titles[kind], "count": len(group),
                      "statuses": {s: sum(r["status"] == s for r in group)
                                   for s in ("consistent", "inconsistent", "undetermined")},
                      "wordings": [{"reason": w, "count": n} for w, n in
                                   sorted(wordings.items(), key=lambda x: (-x[1], x[0]))],
                      "rules": _rule_totals(group),
                      "case_ids": [r["id"] for r in group]})
    return {"flagged": flagged, "rejected": len(rejections), "kinds": kinds,
            "cases": rejections}
