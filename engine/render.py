"""Render decisions for people: plain text for a terminal, Markdown for a report.
JSON is `Decision.as_json()`, the same shape the HTTP service returns."""

from __future__ import annotations

import json

from engine.decision import Decision

__all__ = ["render_decision", "render_trace", "render_table"]

_OUTCOME_WORDS = {
    "page_removed": "the page is removed",
    "posts_removed": "the violating posts are removed, the page stays",
    "geo_blocked": "withheld in the requesting country only (local law, not policy)",
    "no_action": "no action: the request is rejected",
    "undetermined": "undetermined: the evidence does not settle it",
}


# The text forms list this many missing facts, the most decisive first; JSON has them all.
MAX_MISSING_SHOWN = 8


def _percent(x: float) -> str:
    return f"{round(x * 100)}%"


def render_decision(decision: Decision, markdown: bool = False) -> str:
    h = (lambda s: f"### {s}") if markdown else (lambda s: s.upper())
    bullet = "- " if markdown else "  - "
    out = []
    title = f"{decision.request} on {decision.platform}, as of {decision.as_of}"
    out.append(f"## {title}" if markdown else title)
    out.append("")
    lower, upper = decision.bounds
    sure = lower == upper
    chance = "" if sure else f", {_percent(decision.probability)}"
    out.append(f"{'**Outcome**' if markdown else 'Outcome'}: {decision.outcome} "
               f"({_OUTCOME_WORDS[decision.outcome]}{chance})")
    if decision.scope == "posts":
        out.append("The request is about posts: the answer is at most posts_removed.")
    if not sure:
        out.append(f"Sure at least: {lower}; at most: {upper}")
        out.append("Probabilities: " + ", ".join(
            f"{o} {_percent(p)}" for o, p in decision.distribution.items() if p > 0)
            + (f" ({_percent(decision.unresolved)} unresolved, counted at its lower bound)"
               if decision.unresolved >= 0.005 else ""))
    if decision.escalation is not None:
        out.append(f"Escalation: {decision.escalation.text}")
    out.append(f"{'**Likelihood of acceptance**' if markdown else 'Likelihood of acceptance'}: "
               f"{_percent(decision.likelihood)}")
    out.append("Rule sets: " + "; ".join(
        f"{r.id} {r.version} ({r.kind}{'' if r.kind == 'priors' else ': ' + r.outcome}, "
        f"sha256 {r.sha256[:12]})" for r in decision.rulesets))
    if decision.before_history:
        out.append(f"Before the encoded history: no version encoded for {decision.platform} is "
                   f"older than {decision.before_history}; the versions of that day were "
                   f"applied to {decision.as_of}, as an estimate of the policy then "
                   "(--strict-dates to refuse)")
    if decision.posts:
        out += ["", h("Posts")]
        for post in decision.posts:
            rules = f" [{', '.join(post.rules)}]" if post.rules else ""
            chance = "" if post.sure else f" ({_percent(post.probability)} that a rule holds)"
            out.append(f"{bullet}{post.id}: {post.outcome}{chance}{rules}")
    if decision.reasons:
        out += ["", h("Why")]
        for reason in decision.reasons:
            where = f"post {reason.post}" if reason.post else reason.subject
            cite = "; ".join(f"{c.title}, {c.section}: {c.says} <{c.url}>" for c in reason.citations)
            out.append(f"{bullet}{reason.rule} ({reason.verdict}, {where}): "
                       f"{reason.message or reason.title}")
            out.append(f"    cites {cite}")
            for item in reason.evidence[:6]:
                out.append(f"    evidence {item['pointer']} = {json.dumps(item['value'], ensure_ascii=False)}")
            for span in reason.spans[:6]:
                by = f" (marked by {span.by})" if span.by else ""
                out.append(f"    text {span.pointer}[{span.start}:{span.end}] "
                           f"{json.dumps(span.text, ensure_ascii=False)}: {span.label}{by}")
    if decision.thresholds:
        out += ["", h("Thresholds")]
        for t in decision.thresholds:
            state = {True: "met", False: "not met", None: "unknown"}[t.met]
            out.append(f"{bullet}{t.text}: {state} ({t.margin})")
    if decision.exceptions:
        out += ["", h("Exceptions that applied")]
        for e in decision.exceptions:
            where = f"post {e.post}" if e.post else e.subject
            cite = "; ".join(f"{c.section}: {c.says}" for c in e.citations)
            out.append(f"{bullet}{e.exception} overrides {e.overrides} on {where} "
                       f"({e.verdict}): {cite}")
    if decision.deficiencies:
        out += ["", h("Problems with the request itself")]
        for d in decision.deficiencies:
            out.append(f"{bullet}{d.rule}: {d.message or d.title}")
    if decision.missing:
        out += ["", h("Missing evidence that would change the outcome")]
        for m in decision.missing[:MAX_MISSING_SHOWN]:
            out.append(f"{bullet}{m.fact}: {m.text}")
        if len(decision.missing) > MAX_MISSING_SHOWN:
            out.append(f"{bullet}and {len(decision.missing) - MAX_MISSING_SHOWN} more that "
                       "move it less (all of them in --format json)")
    if decision.escalation is not None and decision.escalation.missing:
        out += ["", h("What would settle the escalation")]
        for m in decision.escalation.missing[:MAX_MISSING_SHOWN]:
            out.append(f"{bullet}{m.fact}: {m.text}")
    if decision.extracted:
        out += ["", h("Signals read from the text by the extractor, not by an analyst")]
        for signal in decision.extracted:
            spans = ", ".join(f"{span['pointer']}[{span['start']}:{span['end']}] "
                              f"{json.dumps(span['text'], ensure_ascii=False)}"
                              for span in signal.get("spans", ())[:2]
                              if span["end"] - span["start"] <= 80)
            out.append(f"{bullet}{signal['pointer']} = "
                       f"{json.dumps(signal['value'], ensure_ascii=False)} "
                       f"(confidence {signal['confidence']:.2f}, {signal.get('method', '')})"
                       + (f" from {spans}" if spans else ""))
    if decision.errors:
        out += ["", h("Rules that failed")]
        for failed in decision.errors:
            on_post = f" on post {failed.post}" if failed.post else ""
            out.append(f"{bullet}{failed.ruleset} {failed.rule}{on_post}: {failed.error}")
    if decision.evidence.get("read_as"):
        out += ["", h("Evidence read as")]
        for r in decision.evidence["read_as"]:
            given = "(left out)" if r["given"] is None else json.dumps(r["given"],
                                                                         ensure_ascii=False)
            out.append(f"{bullet}{r['pointer']}: {given} as "
                       f"{json.dumps(r['read_as'], ensure_ascii=False)} ({r['why']})")
    out.append("")
    out.append(f"evidence sha256 {decision.evidence.get('digest', '')[:16]}, "
               f"{decision.engine.get('name')} {decision.engine.get('version')}")
    return "\n".join(out) + "\n"


def render_trace(lines) -> str:
    out = []
    current = None
    for line in lines:
        head = (line.ruleset, line.rule, line.subject)
        if head != current:
            current = head
            out.append(f"\n{line.ruleset} / {line.rule} on {line.subject}")
        value = json.dumps(line.value, ensure_ascii=False, default=str)
        bound = f"   [{line.bindings}]" if line.bindings else ""
        out.append(f"  {'  ' * line.depth}{value:<10} {line.expression}{bound}")
    return "\n".join(out).lstrip("\n") + "\n"


def render_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
