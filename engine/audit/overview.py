"""The report over many cases, as JSON: what the platforms did with our requests, how
that compares with what we predicted, and which clauses their rejections ignore.

It reads the decisions as recorded (the predictions as they were made, under the rule
sets in force on each submission date) and each case's latest response; it needs no
rule sets, though the breakdown of rejections names more rules when given their replay
(`engine.audit.rejections`). Wording and charts belong to `engine.audit.reports`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence

from engine.audit.calibration import Calibration, deciding_rule, observe
from engine.audit.consistency import STATUSES, assess, leads_to
from engine.audit.records import ACTED, PENDING, Case, Dispute, Response, latest
from engine.audit.rejections import breakdown
from engine.decision import ACTION_VERDICTS, rank

__all__ = ["PERIODS", "ACTUAL", "PREDICTED", "FAMILIES", "platforms_named", "overview",
           "period_of", "choose_period"]

PERIODS = ("month", "quarter", "year")
# The confusion table: what we predicted (rows) against what the platform did (columns).
PREDICTED = ("page_removed", "posts_removed", "geo_blocked", "no_action", "undetermined")
ACTUAL = ("page_removed", "posts_removed", "geo_blocked", "no_action", PENDING)
# A platform's name in a filter covers its surfaces.
FAMILIES = {"meta": ("meta", "facebook", "instagram", "threads"), "x": ("x", "twitter")}
MAX_PERIODS = 12


def platforms_named(name: str | None) -> tuple[str, ...]:
    if not name:
        return ()
    return FAMILIES.get(name.lower(), (name.lower(),))


def period_of(day: str, period: str) -> str:
    date = datetime.date.fromisoformat(day)
    if period == "month":
        return f"{date.year}-{date.month:02d}"
    if period == "quarter":
        return f"{date.year}-Q{(date.month - 1) // 3 + 1}"
    return str(date.year)


def choose_period(days: Iterable[str]) -> str:
    """The finest period that splits the dates into no more than MAX_PERIODS."""
    days = sorted(days)
    if not days:
        return "quarter"
    return next((p for p in PERIODS if _span(days[0], days[-1], p) <= MAX_PERIODS), "year")


def _span(first: str, last: str, period: str) -> int:
    a, b = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    months = (b.year - a.year) * 12 + b.month - a.month + 1
    return {"month": months, "quarter": (b.year * 4 + (b.month - 1) // 3)
            - (a.year * 4 + (a.month - 1) // 3) + 1, "year": b.year - a.year + 1}[period]


def _counts(rows: Sequence[dict]) -> dict:
    out = {"flagged": len(rows), "closed": 0, **dict.fromkeys(ACTUAL, 0)}
    for row in rows:
        out[row["actual"]] += 1
        if row["actual"] != PENDING:
            out["closed"] += 1
    out["accepted"] = out["closed"] - out["no_action"]
    return out


def _grouped(rows: Sequence[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return dict(sorted(out.items()))


def _case_row(case: Case, responses: Sequence[Response], period: str) -> dict:
    response = latest(responses)
    finding = assess(case.decision, case.asks, response)
    rule = deciding_rule(case.decision)
    unmet = []
    if finding.status == "inconsistent" and finding.direction == "short":
        for reason in case.decision.get("reasons", []):
            if reason["verdict"] in ACTION_VERDICTS and \
                    rank(leads_to(reason["verdict"])) > rank(finding.actual):
                unmet.append(reason)
    return {"id": case.id, "request_id": case.request_id, "platform": case.platform,
            "submitted": case.submitted, "period": period_of(case.submitted, period),
            "predicted": case.outcome, "likelihood": case.likelihood,
            "actual": finding.actual or PENDING,
            "responded": response.date if response else None,
            "reason": response.reason if response else "",
            "status": finding.status, "direction": finding.direction,
            "deciding_rule": rule[0] if rule else None,
            "unmet": unmet}


def _clauses(rows: Sequence[dict]) -> list[dict]:
    """The clauses behind inconsistent rejections: each rule that holds but whose
    outcome the platform did not grant, counted once per case."""
    found: dict[str, dict] = {}
    for row in rows:
        for reason in {f"{r['ruleset']}/{r['rule']}": r for r in row["unmet"]}.values():
            key = f"{reason['ruleset']}/{reason['rule']}"
            citation = reason["citations"][0] if reason["citations"] else {}
            entry = found.setdefault(key, {
                "key": key, "title": reason["title"], "leads_to": leads_to(reason["verdict"]),
                "citation": {k: citation.get(k, "") for k in ("title", "section", "says", "url")},
                "cases": 0, "case_ids": [], "platforms": []})
            entry["cases"] += 1
            entry["case_ids"].append(row["id"])
            if row["platform"] not in entry["platforms"]:
                entry["platforms"].append(row["platform"])
    return sorted(found.values(), key=lambda e: (-e["cases"], e["key"]))


def _disputed(disputes: Mapping[str, Sequence[Dispute]], rows: Sequence[dict]) -> list[dict]:
    """The clauses disputes name, most disputed first; a dispute that names none is
    counted against the clauses its case's response left unmet."""
    unmet = {row["id"]: [f"{r['ruleset']}/{r['rule']}" for r in row["unmet"]] for row in rows}
    found: dict[str, dict] = {}
    for case_id, items in disputes.items():
        if case_id not in unmet:
            continue
        for dispute in items:
            for key in dict.fromkeys(dispute.clauses or unmet[case_id] or ["(no clause named)"]):
                entry = found.setdefault(key, {"key": key, "disputes": 0, "case_ids": []})
                entry["disputes"] += 1
                if case_id not in entry["case_ids"]:
                    entry["case_ids"].append(case_id)
    return sorted(found.values(), key=lambda e: (-e["disputes"], e["key"]))


def _confusion(rows: Sequence[dict]) -> dict:
    counts = [[0] * len(ACTUAL) for _ in PREDICTED]
    for row in rows:
        counts[PREDICTED.index(row["predicted"])][ACTUAL.index(row["actual"])] += 1
    closed = [r for r in rows if r["actual"] != PENDING]
    settled = [r for r in closed if r["predicted"] != "undetermined"]
    return {"predicted": list(PREDICTED), "actual": list(ACTUAL), "counts": counts,
            "closed": len(closed), "settled": len(settled),
            "exact": sum(r["predicted"] == r["actual"] for r in settled),
            "acted_as_predicted": sum((r["predicted"] in ACTED) == (r["actual"] in ACTED)
                                      for r in settled)}


def _acceptance(rows: Sequence[dict]) -> list[dict]:
    out = []
    for period, group in _grouped(rows, "period").items():
        closed = [r for r in group if r["actual"] != PENDING]
        accepted = sum(r["actual"] in ACTED for r in closed)
        out.append({"period": period, "flagged": len(group), "closed": len(closed),
                    "accepted": accepted,
                    "rate": round(accepted / len(closed), 4) if closed else None,
                    "predicted": round(sum(r["likelihood"] for r in closed) / len(closed), 4)
                    if closed else None})
    return out


def overview(cases: Sequence[Case], responses: Mapping[str, Sequence[Response]],
             disputes: Mapping[str, Sequence[Dispute]], *, platform: str | None = None,
             since: str | None = None, until: str | None = None, period: str = "auto",
             prepared: str | None = None,
             rule_states: Mapping[str, Mapping | None] | None = None) -> dict:
    """Everything the report over many cases says, as JSON. `cases` are those the
    filters (`platform`, `since`, `until`, shown in the report) selected; `rule_states`
    (case id -> `engine.audit.rejections.rule_states`) names, for each rejection, the
    rules that did not hold as well as those that did."""
    period = choose_period(c.submitted for c in cases) if period == "auto" else period
    rows = [_case_row(c, responses.get(c.id, []), period) for c in cases]
    calibration = Calibration(observe(cases, responses))
    statuses = {status: sum(r["status"] == status for r in rows) for status in STATUSES}
    for row in rows:
        row["unmet_clauses"] = list(dict.fromkeys(f"{r['ruleset']}/{r['rule']}"
                                                  for r in row["unmet"]))
    clauses = _clauses(rows)
    disputed = _disputed(disputes, rows)
    for row in rows:
        del row["unmet"]
    return {
        "kind": "takedown.audit.overview",
        "prepared": prepared,
        "filters": {"platform": platform, "from": since, "to": until, "period": period},
        "totals": _counts(rows),
        "consistency": statuses,
        "by_platform": [{"platform": p, **_counts(g),
                         **{s: sum(r["status"] == s for r in g) for s in STATUSES}}
                        for p, g in _grouped(rows, "platform").items()],
        "by_period": [{"period": p, **_counts(g)} for p, g in _grouped(rows, "period").items()],
        "confusion": _confusion(rows),
        "clauses": clauses,
        "disputed": disputed,
        "rejections": breakdown(cases, responses, rule_states),
        "acceptance": _acceptance(rows),
        "calibration": {
            "prior_strength": calibration.strength, "cases": len(calibration.observations),
            "brier": calibration.brier(), "brier_calibrated": calibration.brier_calibrated(),
            "reliability": calibration.reliability(),
            "rules": [e.as_json() for e in calibration.rule_estimates()],
            "platforms": [e.as_json() for e in calibration.platform_estimates()]},
        "cases": rows,
    }
