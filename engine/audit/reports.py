"""The wording of the audit reports: the consistency letter for one case and the
report over many cases, as blocks (`engine.audit.blocks`) built from the JSON that
`engine.audit.consistency` and `engine.audit.overview` produce.

The letter is written for an auditor to attach to an escalation: plain sentences
first, then each claim with the clause it rests on and the evidence quoted.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence

from engine.audit import charts
from engine.audit.blocks import (
    Block,
    BulletList,
    Callout,
    Code,
    Figure,
    Heading,
    Link,
    Mark,
    Paragraph,
    Quote,
    Run,
    Strong,
    Table,
)
from engine.audit.consistency import STATUSES
from engine.audit.overview import ACTUAL

__all__ = ["case_blocks", "case_title", "overview_blocks", "overview_title", "platform_name",
           "day"]

_PLATFORMS = {"meta": "Meta", "facebook": "Facebook", "instagram": "Instagram",
              "threads": "Threads", "youtube": "YouTube", "tiktok": "TikTok", "x": "X",
              "twitter": "Twitter", "telegram": "Telegram"}
# What a platform did, as a verb phrase.
_DID = {"page_removed": "removed the {kind}", "posts_removed": "removed the posts but kept "
        "the {kind}", "geo_blocked": "withheld the content in the requesting country only",
        "no_action": "rejected the request", "pending": "acknowledged the request and has not "
        "decided yet"}
# What a policy calls for, as a noun phrase.
_CALLS_FOR = {"page_removed": "removal of the {kind}", "posts_removed": "removal of the "
              "violating posts", "geo_blocked": "withholding in the requesting country",
              "no_action": "no action", "undetermined": "an outcome the evidence does not settle"}
_ASKS = {"remove_page": "to remove the {kind}", "remove_posts": "to remove posts on the {kind}",
         "geo_block": "to withhold the {kind} in its country", "review": "to review the {kind}"}
_STATUS_TITLES = {
    ("inconsistent", "short"): "{platform}'s response falls short of its own published policy",
    ("inconsistent", "beyond"): "{platform}'s response goes beyond its published policy",
    ("consistent", None): "{platform}'s response is consistent with its published policy",
    ("undetermined", None): "the evidence does not settle whether {platform}'s response is "
                            "consistent with its policy",
    ("pending", None): "awaiting {platform}'s decision"}
# Column and row names: what platforms did, and what we predicted.
_OUTCOME_HEADINGS = {"page_removed": "page removed", "posts_removed": "posts only",
                     "geo_blocked": "withheld", "no_action": "rejected", "pending": "pending",
                     "undetermined": "undetermined"}
_PREDICTED_HEADINGS = {**_OUTCOME_HEADINGS, "no_action": "no action"}


def platform_name(platform: str) -> str:
    return _PLATFORMS.get(platform, platform)


def day(text: str | None) -> str:
    """12 April 2023."""
    if not text:
        return "an unknown date"
    date = datetime.date.fromisoformat(text[:10])
    return f"{date.day} {date:%B %Y}"


def _percent(x: float | None) -> str:
    return "–" if x is None else f"{round(x * 100)}%"


def _value(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "unknown"
    if isinstance(value, dict) and {"amount", "currency"} <= set(value):
        return f"{value['amount']:,} {value['currency']}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _kind(model: Mapping) -> str:
    return model["request"]["target"].get("kind") or "page"


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _plural(n: int, word: str, plural: str | None = None) -> str:
    """`3 clauses`, in words up to ten as a letter would write them."""
    number = _NUMBERS[n] if 0 <= n < len(_NUMBERS) else f"{n:,}"
    return f"{number} {word if n == 1 else plural or word + 's'}"


def _sentence(text: str) -> str:
    """Close a quotation with a full stop unless it has its own."""
    return text if text.rstrip().endswith((".", "!", "?", "…")) else text + "."


# The letter for one case

def case_title(model: Mapping) -> str:
    finding = model["finding"]
    platform = platform_name(model["case"]["platform"])
    headline = _STATUS_TITLES[(finding["status"], finding["direction"])].format(platform=platform)
    return f"Request {model['case']['request_id']} to {platform}: {headline}"


def _summary(model: Mapping) -> list[Block]:
    case, request, finding = model["case"], model["request"], model["finding"]
    platform = platform_name(case["platform"])
    kind = _kind(model)
    referrer = request["referrer"]
    who = referrer.get("name") or "the referrer"
    about = ", ".join(x for x in (referrer.get("kind", "").replace("_", " "),
                                  referrer.get("jurisdiction")) if x)
    target = request["target"]
    named = f" “{target['name']}”" if target.get("name") else ""
    asks = ("to remove the post" if kind == "post" and case["asks"] == "remove_posts" else
            _ASKS.get(case["asks"] or "", "to act on the {kind}").format(kind=kind))
    runs: list[Run] = [f"On {day(case['submitted'])}, {who}{f' ({about})' if about else ''} "
                       f"asked {platform} {asks}{named}"]
    if target.get("url"):
        runs += [" (", Link(target["url"], target["url"]), ")"]
    grounds = request.get("grounds") or []
    runs.append(f", on the grounds of {_join(grounds)}." if grounds else ".")
    out: list[Block] = [Paragraph(tuple(runs))]
    response = model["response"]
    if response is None:
        out.append(Paragraph((f"{platform} has not answered yet.",)))
    else:
        did = ("removed the post" if kind == "post" and response["outcome"] == "posts_removed"
               else _DID[response["outcome"]].format(kind=kind))
        said = [f"On {day(response['date'])}, {platform} {did}"]
        said.append(f", saying: “{_sentence(response['reason'])}”" if response["reason"]
                    else ".")
        out.append(Paragraph(tuple(said)))
    out.append(Paragraph(tuple(_policy_sentence(model, platform, kind))))
    out.append(Callout(finding["status"], tuple(_finding_sentence(model, platform, kind))))
    return out


def _policy_sentence(model: Mapping, platform: str, kind: str) -> list[Run]:
    case, finding, prediction = model["case"], model["finding"], model["prediction"]
    unmet = [c for c in model["clauses"] if c["honoured"] is False]
    shown = unmet or model["clauses"]
    runs: list[Run] = [f"Under the policy {platform} had in force on {day(case['submitted'])}, "]
    if shown:
        titles = [f"“{_clause_name(c)}”" for c in shown]
        more = (f" that call{'s' if len(shown) == 1 else ''} for more than that"
                if unmet else "")
        runs.append(f"the evidence satisfies {_plural(len(shown), 'clause')}{more}: "
                    f"{_join(titles)}. ")
    else:
        runs.append("the evidence satisfies no clause that calls for action. ")
    owed = _CALLS_FOR[finding["owed"]].format(kind=kind)
    ceiling = _CALLS_FOR[finding["ceiling"]].format(kind=kind)
    if finding["owed"] == "no_action":
        runs.append("By that policy, no action was surely called for"
                    + (f"; {ceiling} would be if the facts still unknown are confirmed"
                       if finding["ceiling"] != "no_action" else ""))
    else:
        runs.append(f"By that policy, {owed} was called for at the least"
                    + (f", and {ceiling} if the facts still unknown are confirmed"
                       if finding["ceiling"] != finding["owed"] else ""))
    runs.append(f". We predicted {_CALLS_FOR[prediction['outcome']].format(kind=kind)}, "
                f"with a likelihood of acceptance of {_percent(prediction['likelihood'])}")
    calibrated = prediction.get("calibrated")
    if calibrated:
        basis = calibrated["basis"]
        runs.append(f" ({_percent(calibrated['likelihood'])} once calibrated on the "
                    f"{_plural(basis['cases'], 'response')} recorded for other requests that "
                    + ("rest on the same rule)" if basis["kind"] == "rule"
                       else f"went to {platform})"))
    runs.append(".")
    return runs


def _finding_sentence(model: Mapping, platform: str, kind: str) -> list[Run]:
    finding = model["finding"]
    status = finding["status"]
    if status == "pending":
        text = f"There is no final response from {platform} to compare yet."
        if finding["owed"] != "no_action":
            text += (f" When it comes, its policy calls for "
                     f"{_CALLS_FOR[finding['owed']].format(kind=kind)} at the least.")
        elif finding["ceiling"] != "no_action":
            text += (f" Its policy would call for {_CALLS_FOR[finding['ceiling']].format(kind=kind)}"
                     " if the facts still unknown are confirmed.")
        return [text]
    if status == "consistent":
        return [f"{platform} did what its own published policy calls for, within what was "
                "asked."]
    if status == "undetermined":
        facts = [m["fact"] for m in model["missing"]]
        runs: list[Run] = [f"{platform} did what its policy surely requires, but the policy "
                           "could require more depending on facts the evidence leaves unknown"]
        if facts:
            runs.append(": ")
            for i, fact in enumerate(facts[:6]):
                runs += [", " if i else "", Code(fact)]
        runs.append(". Establishing them would settle the question (see below).")
        return runs
    if finding["direction"] == "beyond":
        return [f"{platform} went further than any clause of its published policy supports on "
                f"this evidence (at most {_CALLS_FOR[finding['supported']].format(kind=kind)}). "
                "It may have acted on facts or rules the evidence does not show."]
    unmet = [c for c in model["clauses"] if c["honoured"] is False]
    return [f"{platform} did less than its own published policy requires: the evidence "
            f"satisfies {_plural(len(unmet), 'clause')} that call"
            f"{'s' if len(unmet) == 1 else ''} for "
            f"{_CALLS_FOR[finding['owed']].format(kind=kind)}, and the response does not give "
            "effect to "
            f"{'it' if len(unmet) == 1 else 'them'}. "
            f"{'It is' if len(unmet) == 1 else 'Each is'} quoted below with the evidence that "
            "satisfies it."]


def _citation_name(citation: Mapping) -> str:
    """A policy and its section, the section left out when it only repeats the title."""
    title, section = citation.get("title", ""), citation.get("section", "")
    if not section or section == title:
        return title or section
    return f"{title}, {section}" if title else section


def _clause_name(clause: Mapping) -> str:
    return _citation_name(clause["citations"][0]) if clause["citations"] else clause["title"]


def _highlighted(text: str, highlights: Sequence[Mapping]) -> list[Run]:
    runs: list[Run] = []
    at = 0
    for mark in highlights:
        start, end = max(mark["start"], at), mark["end"]
        if end <= start:
            continue
        runs.append(text[at:start])
        note = mark["label"] + (f", marked by {mark['by']}" if mark.get("by") else "")
        runs.append(Mark(text[start:end], note))
        at = end
    runs.append(text[at:])
    return [r for r in runs if r != ""]


def _subject_blocks(subject: Mapping) -> list[Block]:
    out: list[Block] = []
    if subject["post"] is not None:
        runs: list[Run] = [Strong(f"Post {subject['post']}")]
        if subject.get("posted"):
            runs.append(f", posted {day(subject['posted'])}")
        if subject.get("url"):
            runs += [" (", Link(subject["url"], subject["url"]), ")"]
        out.append(Paragraph((*runs, ":")))
    else:
        out.append(Paragraph((Strong(f"The {subject['subject']}"), ":")))
    for quote in subject["quotes"]:
        out.append(Quote(tuple(_highlighted(quote["text"], quote["highlights"])),
                         (quote["label"], " ", Code(quote["pointer"]))))
        notes = list(dict.fromkeys(
            f"“{quote['text'][m['start']:m['end']]}”: {m['label']}"
            + (f" (marked by {m['by']})" if m.get("by") else "") for m in quote["highlights"]))
        if notes:
            out.append(Paragraph(("Highlighted: " + "; ".join(notes) + ".",), small=True))
    if subject["evidence"]:
        out.append(BulletList(tuple(
            (f"{item['label']}: ", Strong(_value(item["value"])), " ", Code(item["pointer"]))
            for item in subject["evidence"])))
    return out


def _clause_blocks(number: int, clause: Mapping, kind: str, platform: str) -> list[Block]:
    out: list[Block] = [Heading(3, f"{number}. {_clause_name(clause)}")]
    for citation in clause["citations"]:
        source: list[Run] = [_citation_name(citation)]
        if citation.get("url"):
            source += [" (", Link(citation["url"], citation["url"]), ")"]
        out.append(Quote((citation["says"],), tuple(source)))
    state = {True: f" {platform}'s response gives effect to it.",
             False: f" {platform}'s response does not give effect to it.",
             None: ""}[clause["honoured"]]
    out.append(Paragraph((
        "Our rule ", Code(clause["key"]), f" (version {clause['version']}) paraphrases this "
        f"clause: “{clause['message'] or clause['title']}”. When it holds it calls for "
        f"{_CALLS_FOR[clause['leads_to']].format(kind=kind)}; declared confidence "
        f"{_percent(clause['confidence'])}.{state} It holds on "
        f"{_join([s['post'] and 'post ' + s['post'] or 'the ' + s['subject'] for s in clause['subjects']])}:",
    )))
    for subject in clause["subjects"]:
        out += _subject_blocks(subject)
    return out


def _threshold_rows(thresholds: Sequence[Mapping]) -> Table:
    rows = []
    for t in thresholds:
        observed = t["observed"]
        if isinstance(observed, list):
            observed = f"{observed[0]} to {observed[1] if observed[1] is not None else '∞'}"
        state = {True: "met", False: "not met", None: "unknown"}[t["met"]]
        rows.append((Code(t["rule"]), (Code(t["parameter"]), " (an estimate)" if t["estimated"]
                                       else ""),
                     f"{t['comparison']} {_value(t['required'])}",
                     _value(observed) + (f" of {t['out_of']}" if t.get("out_of") is not None
                                         else ""),
                     state, t["margin"]))
    return Table(("rule", "parameter", "required", "observed", "", "margin"), tuple(rows))


def _replay_blocks(model: Mapping) -> list[Block]:
    replay, case = model["replay"], model["case"]
    out: list[Block] = [Heading(2, "The policy as it stood then, and since")]
    if replay["is_replayed"]:
        out.append(Paragraph((f"The stored evidence was evaluated again under the rule sets in "
                              f"force on {day(case['submitted'])}, the day the request was "
                              "submitted:",)))
    rows = [(Code(r["id"]), r["version"], r["kind"], Code(r["sha256"][:16]),
             "yes" if r["sha256"] == r["recorded_sha256"] else
             "no: not used then" if r["recorded_sha256"] is None else
             ("no: recorded ", Code(r["recorded_sha256"][:16])))
            for r in replay["rulesets"]]
    out.append(Table(("rule set", "version", "kind", "sha256", "as recorded"), tuple(rows)))
    if replay["reproduces"]:
        out.append(Paragraph((f"The replay reproduces the decision recorded on "
                              f"{day(case['recorded_at'])}: same outcome, bounds and likelihood.",)))
    for note in replay["notes"]:
        out.append(Paragraph((note[0].upper() + note[1:] + ".",)))
    later = replay["later"]
    if not later:
        out.append(Paragraph(("No later version of these rule sets has come into force.",)))
        return out
    differing = [c for c in later if c["differs"]]
    last = later[-1]
    if differing:
        out.append(Paragraph(("Newer versions, applied to the same evidence, ",
                              Strong("would decide differently"), ":")))
        out.append(BulletList(tuple(
            (f"from {day(c['from'])} ({_versions(c)}): ", Code(c["outcome"]),
             f", likelihood {_percent(c['likelihood'])}") for c in differing)))
    same = len(later) - len(differing)
    if same:
        out.append(Paragraph((
            f"{_plural(same, 'later change').capitalize()} of version "
            f"{'leads' if same == 1 else 'lead'} to the same outcome"
            + ("" if last["differs"] else
               f", up to the versions in force since {day(last['from'])} ({_versions(last)}): ")
            , *(() if last["differs"] else (Code(last["outcome"]),
                                            f", likelihood {_percent(last['likelihood'])}")),
            ".")))
    return out


def _versions(change: Mapping) -> str:
    return ", ".join(f"{r['id']} {r['version']}" for r in change["rulesets"])


def _request_blocks(model: Mapping) -> list[Block]:
    case, request, redactions = model["case"], model["request"], model["redactions"]
    referrer = request["referrer"]
    rows = [("request id", case["request_id"]),
            ("referrer", ", ".join(str(referrer[k]).replace("_", " ") for k in
                                   ("name", "kind", "jurisdiction") if referrer.get(k)) or "–"),
            ("grounds", "; ".join(request["grounds"]) or "–"),
            ("asks", (Code(case["asks"]),) if case["asks"] else "–"),
            ("target", f"{request['target'].get('kind') or ''} on "
                       f"{platform_name(case['platform'])}, {_plural(request['posts'], 'post')}"),
            ("submitted", day(case["submitted"])),
            ("evidence file", case["source"]),
            ("evidence sha256, as submitted", (Code(case["evidence_digest"]),)),
            ("evidence sha256, as stored", (Code(case["stored_digest"]),)),
            ("recorded", f"{case['recorded_at']} by takedown "
                         f"{case['engine'].get('version', '')}")]
    out: list[Block] = [Heading(2, "The request as submitted"),
                        Table(("", ""), tuple(rows))]
    if redactions["count"]:
        kinds = ", ".join(f"{_plural(n, 'match', 'matches')} of rule {rule}"
                          for rule, n in redactions["by_rule"].items())
        out.append(Paragraph((f"Personal data was masked before storage ({kinds}); the "
                              "quotations above show it masked, with their lengths kept. "
                              "Masked places:",)))
        out.append(BulletList(tuple((Code(f"{p['pointer']}[{p['start']}:{p['end']}]"),
                                     f" ({p['rule']})") for p in redactions["places"])))
    else:
        out.append(Paragraph(("Nothing was redacted before storage.",)))
    return out


def case_blocks(model: Mapping) -> list[Block]:
    case, finding = model["case"], model["finding"]
    platform = platform_name(case["platform"])
    kind = _kind(model)
    out: list[Block] = [Heading(1, case_title(model)), Paragraph((
        f"Case {case['id']}, record {case['record']} of the tamper-evident case store"
        + (f"; report prepared {day(model['prepared'])}" if model.get("prepared") else "")
        + ".",), small=True)]
    out += _summary(model)
    clauses = sorted(model["clauses"], key=lambda c: c["honoured"] is not False)
    if clauses:
        heading = ("The clauses the evidence satisfies" if finding["status"] != "inconsistent"
                   or finding["direction"] != "short"
                   else "The clauses the evidence satisfies and the response does not honour")
        out.append(Heading(2, heading))
        for number, clause in enumerate(clauses, start=1):
            out += _clause_blocks(number, clause, kind, platform)
    if model["thresholds"]:
        out.append(Heading(2, "Thresholds"))
        out.append(Paragraph(("Where a clause depends on a number (posts counted, strikes), "
                              "the figures are these:",)))
        out.append(_threshold_rows(model["thresholds"]))
    if model["missing"]:
        out.append(Heading(2, "What the evidence does not settle"))
        out.append(BulletList(tuple((Code(m["fact"]), ": ", m["text"])
                                    for m in model["missing"])))
    if model["exceptions"]:
        out.append(Heading(2, "Allowances the policy makes that applied"))
        out.append(BulletList(tuple(
            (Code(e["exception"]), f" set aside {e['overrides']} on "
             f"{'post ' + e['post'] if e.get('post') else 'the ' + e['subject']}: ",
             "; ".join(f"{_citation_name(c)}: “{c['says']}”" for c in e["citations"]))
            for e in model["exceptions"])))
    if model["deficiencies"]:
        out.append(Heading(2, "Problems with the request itself"))
        out.append(Paragraph((f"{platform} may rely on these to reject the notice; they lower "
                              "the likelihood of acceptance, not the outcome the content calls "
                              "for.",)))
        for number, clause in enumerate(model["deficiencies"], start=1):
            out += _clause_blocks(number, clause, kind, platform)[:2]
    if model["errors"]:
        out.append(Heading(2, "Rules that could not be evaluated"))
        out.append(BulletList(tuple((Code(f"{e['ruleset']}/{e['rule']}"), f": {e['error']}")
                                    for e in model["errors"])))
    out += _replay_blocks(model)
    out.append(Heading(2, f"{platform}'s responses"))
    if model["responses"]:
        out.append(Table(("date", "outcome", "reason given", "notes", "from"), tuple(
            (r["date"], Code(r["outcome"]), r["reason"] or "–", r["notes"] or "–", r["source"])
            for r in model["responses"])))
    else:
        out.append(Paragraph(("None recorded.",)))
    if model["disputes"]:
        out.append(Heading(2, "Disputes raised"))
        out.append(BulletList(tuple(
            (f"{day(d['date'])}: {d['text'] or 'disputed'}",
             *((" (clauses: ", *_codes(d["clauses"]), ")") if d["clauses"] else ()))
            for d in model["disputes"])))
    out += _request_blocks(model)
    out += _integrity_blocks(model)
    return out


def _codes(keys: Sequence[str]) -> list[Run]:
    out: list[Run] = []
    for i, key in enumerate(keys):
        out += [", " if i else "", Code(key)]
    return out


def _integrity_blocks(model: Mapping) -> list[Block]:
    integrity = model["integrity"]
    head = integrity["head"]
    runs: list[Run] = [f"This case is record {integrity['record']} of the case store's hash "
                       "chain"]
    if integrity.get("hash"):
        runs += [", with sha256 ", Code(integrity["hash"])]
    runs.append(". When this report was prepared the chain held "
                f"{_plural(integrity['records'], 'record')}")
    if head:
        runs += [f", the last (record {head['record']}) with sha256 ", Code(head["hash"])]
    if integrity["intact"]:
        runs.append("; recomputing every hash found no break. Keep the last hash: a store "
                    "that later gives another one for that record has been altered.")
    else:
        runs += ["; recomputing the hashes found a break: ", Strong(integrity["problem"]),
                 ". The contents of this report may not be what was recorded."]
    return [Heading(2, "Integrity of this record"), Paragraph(tuple(runs))]


# The report over many cases

def overview_title(model: Mapping) -> str:
    platform = model["filters"]["platform"]
    return ("Takedown requests and platform responses"
            + (f": {platform_name(platform)}" if platform else ""))


def _counts_row(row: Mapping) -> tuple:
    return (f"{row['flagged']:,}", f"{row['closed']:,}", f"{row['page_removed']:,}",
            f"{row['posts_removed']:,}", f"{row['geo_blocked']:,}", f"{row['no_action']:,}",
            f"{row['pending']:,}")


_COUNT_HEADER = ("flagged", "closed", "page removed", "posts only", "withheld", "rejected",
                 "pending")


def _outcome_series(rows: Sequence[Mapping]) -> list[tuple[str, str, list[int]]]:
    return [(_OUTCOME_HEADINGS[o], charts.COLOURS[o], [r[o] for r in rows]) for o in ACTUAL]


def overview_blocks(model: Mapping) -> list[Block]:
    totals, filters = model["totals"], model["filters"]
    scope = []
    if filters["platform"]:
        scope.append(f"platform {platform_name(filters['platform'])}")
    if filters["from"] or filters["to"]:
        scope.append(f"requests submitted {('from ' + day(filters['from'])) if filters['from'] else ''}"
                     f"{' ' if filters['from'] and filters['to'] else ''}"
                     f"{('to ' + day(filters['to'])) if filters['to'] else ''}")
    out: list[Block] = [Heading(1, overview_title(model)), Paragraph((
        ("; ".join(scope) or "all recorded requests").capitalize()
        + f"; periods by {filters['period']}"
        + (f"; prepared {day(model['prepared'])}" if model.get("prepared") else "") + ".",),
        small=True)]
    out.append(Paragraph((Strong(f"{totals['flagged']:,} flagged, {totals['closed']:,} closed, "
                                 f"{totals['no_action']:,} rejected."),
                          f" Of the closed requests, {totals['page_removed']:,} led to the removal "
                          f"of the page, {totals['posts_removed']:,} of posts only, and "
                          f"{totals['geo_blocked']:,} to withholding in one country; "
                          f"{totals['pending']:,} are pending or unanswered.")))
    if not model["cases"]:
        out.append(Paragraph(("No case matches.",)))
        return out
    by_platform = model["by_platform"]
    out.append(Heading(2, "By platform"))
    out.append(Figure(charts.stacked_bars([platform_name(r["platform"]) for r in by_platform],
                                          _outcome_series(by_platform),
                                          "Requests by platform and response"),
                      "Requests by platform, split by the platform's latest response."))
    out.append(Table(("platform", *_COUNT_HEADER),
                     tuple((platform_name(r["platform"]), *_counts_row(r)) for r in by_platform),
                     numeric=tuple(range(1, 8))))
    out.append(Heading(2, f"By {filters['period']} of submission"))
    out.append(Table((filters["period"], *_COUNT_HEADER),
                     tuple((r["period"], *_counts_row(r)) for r in model["by_period"]),
                     numeric=tuple(range(1, 8))))
    out += _confusion_blocks(model["confusion"])
    out += _consistency_blocks(model)
    out += _rejection_blocks(model["rejections"])
    out += _acceptance_blocks(model["acceptance"])
    out += _calibration_blocks(model["calibration"])
    out.append(Heading(2, "Cases"))
    out.append(Table(("case", "request", "platform", "submitted", "predicted", "likelihood",
                      "response", "on", "consistency"),
                     tuple((r["id"], r["request_id"], platform_name(r["platform"]), r["submitted"],
                            Code(r["predicted"]), _percent(r["likelihood"]), Code(r["actual"]),
                            r["responded"] or "–",
                            r["status"] + (f" ({r['direction']})" if r["direction"] else ""))
                           for r in model["cases"]), numeric=(5,)))
    return out


def _confusion_blocks(confusion: Mapping) -> list[Block]:
    counts = confusion["counts"]
    largest = max((max(row) for row in counts), default=1) or 1
    rows, shades = [], []
    for name, row in zip(confusion["predicted"], counts, strict=True):
        rows.append((_PREDICTED_HEADINGS[name], *(f"{n:,}" for n in row), f"{sum(row):,}"))
        shades.append((0.0, *(n / largest for n in row), 0.0))
    settled = confusion["settled"]
    sentence = (f"Of {_plural(settled, 'closed request')} whose prediction was settled, the "
                f"level was predicted exactly for {confusion['exact']:,} "
                f"({_percent(confusion['exact'] / settled)}), and whether the platform would act "
                f"at all for {confusion['acted_as_predicted']:,} "
                f"({_percent(confusion['acted_as_predicted'] / settled)})."
                if settled else "No closed request has a settled prediction yet.")
    return [Heading(2, "Predicted and actual"), Paragraph((sentence,)),
            Table(("predicted ↓ actual →", *(_OUTCOME_HEADINGS[a] for a in confusion["actual"]),
                   "total"), tuple(rows), numeric=tuple(range(1, len(confusion["actual"]) + 2)),
                  caption="Rows: what we predicted. Columns: the platform's latest response.",
                  shades=tuple(shades))]


def _consistency_blocks(model: Mapping) -> list[Block]:
    statuses = model["consistency"]
    beyond = sum(r["direction"] == "beyond" for r in model["cases"])
    split = (f" ({statuses['inconsistent'] - beyond:,} fall short of it, {beyond:,} go beyond it)"
             if beyond else "")
    out: list[Block] = [Heading(2, "Consistency with the platforms' own policies"), Paragraph((
        f"{statuses['consistent']:,} responses are consistent with the policy in force on the "
        f"day of the request, {statuses['inconsistent']:,} are not{split}, "
        f"{statuses['undetermined']:,} cannot be settled on the evidence, and "
        f"{statuses['pending']:,} are pending.",)),
        Table(("platform", "consistent", "inconsistent", "undetermined", "pending"),
              tuple((platform_name(r["platform"]), *(f"{r[s]:,}" for s in STATUSES))
                    for r in model["by_platform"]), numeric=(1, 2, 3, 4))]
    clauses = model["clauses"]
    out.append(Heading(3, "Clauses most often behind inconsistent rejections"))
    if not clauses:
        out.append(Paragraph(("No response falls short of a clause the evidence satisfies.",)))
    else:
        top = clauses[:10]
        out.append(Figure(charts.bars([f"{c['title']} ({c['key'].split('/')[0]})" for c in top],
                                      [c["cases"] for c in top],
                                      "Clauses the responses did not honour, by cases"),
                          "Clauses that the evidence satisfies but the platform's response "
                          "does not honour, by number of cases."))
        out.append(Table(("clause", "calls for", "cases", "platforms"), tuple(
            ((Strong(_citation_name(c["citation"]) or c["title"]),
              *((": “" + c["citation"]["says"] + "” ",) if c["citation"]["says"] else (" ",)),
              Code(c["key"])),
             _OUTCOME_HEADINGS.get(c["leads_to"], c["leads_to"]),
             f"{c['cases']:,}", ", ".join(platform_name(p) for p in c["platforms"]))
            for c in clauses), numeric=(2,)))
    if model["disputed"]:
        out.append(Heading(3, "Clauses most disputed"))
        out.append(Table(("clause", "disputes", "cases"), tuple(
            (Code(d["key"]), f"{d['disputes']:,}", ", ".join(d["case_ids"]))
            for d in model["disputed"]), numeric=(1,)))
    return out


# What a rule did in a rejection, as a clause: "held in 7", "did not hold in 5".
_STATE_PHRASES = (("held", "held"), ("not held", "did not hold"), ("unknown", "unknown"),
                  ("set aside", "set aside"))


def _figures(figure: Mapping) -> str:
    """A threshold's figures over many cases: `page_violation_limit >= 5 (an estimate):
    not met in 6, met in 1; observed 1 to 5`."""
    counts = ", ".join(f"{word} in {figure[key]:,}" for key, word in
                       (("not_met", "not met"), ("met", "met"), ("unknown", "unknown"))
                       if figure[key])
    required = " or ".join(_value(r) for r in figure["required"])
    observed = figure["observed"]
    seen = ("" if observed is None else
            f"; observed {_value(observed[0])}" if observed[0] == observed[1] else
            f"; observed {_value(observed[0])} to "
            f"{'more' if observed[1] is None else _value(observed[1])}")
    estimate = ", an estimate" if figure["estimated"] else ""
    return f"{figure['parameter']} {figure['comparison']} {required}{estimate}: {counts}{seen}"


def _rule_summary(rule: Mapping) -> list[Run]:
    """One rule across the rejections of a kind: what it did, and its thresholds' figures."""
    states = ", ".join(f"{phrase} in {rule['states'][state]:,}"
                       for state, phrase in _STATE_PHRASES if rule["states"][state])
    if rule["allowances"]:
        states += f" (by {', '.join(rule['allowances'])})"
    runs: list[Run] = [Code(rule["key"]), f": {states}"]
    for figure in rule["thresholds"]:
        runs.append(f"; {_figures(figure)}")
    return runs


def _subjects(item: Mapping) -> str:
    """` on post p1 and post p2`, ` on the page`."""
    named = [s if s.startswith("post ") else f"the {s}" for s in item["subjects"]]
    return f" on {_join(named)}" if named else ""


def _threshold_figure(figure: Mapping) -> str:
    """One case's threshold: `2 of 4 posts counted, page_violation_limit needs >= 5 (an
    estimate): 3 short`."""
    observed = figure["observed"]
    if isinstance(observed, list):
        observed = (f"between {_value(observed[0])} and "
                    f"{'more' if observed[1] is None else _value(observed[1])}")
    seen = ("not known" if observed is None else
            f"{_value(observed)} of {figure['out_of']} posts counted"
            if figure.get("out_of") is not None else f"{_value(observed)} counted")
    estimate = " (an estimate)" if figure["estimated"] else ""
    margin = figure["margin"] if figure["margin"] not in ("", "unknown") else None
    return (f"{seen}, {figure['parameter']} needs {figure['comparison']} "
            f"{_value(figure['required'])}{estimate}" + (f": {margin}" if margin else ""))


def _item_runs(item: Mapping) -> list[Run]:
    """What one rule did in one rejection, in words."""
    runs: list[Run] = [Code(item["rule"])]
    if item["thresholds"]:
        runs.append(": " + "; ".join(_threshold_figure(t) for t in item["thresholds"]))
        if item["state"] == "held":
            runs.append(f", and it holds{_subjects(item)}")
        return runs
    if item["state"] == "set aside":
        return runs + [f" set aside by {', '.join(item['allowances'])}{_subjects(item)}"]
    return runs + [{"held": f" holds{_subjects(item)}", "not held": " did not hold",
                    "unknown": f" may hold{_subjects(item)}"}[item["state"]]]


def _explanation_runs(rejection: Mapping) -> list[Run]:
    """The rules behind one rejection: those that bear out the platform's refusal, those
    that call for more than it did, and those the evidence leaves open."""
    groups = ((True, "Bears it out: "), (False, "Against it: "), (None, "Open: "))
    runs: list[Run] = []
    for supports, label in groups:
        items = [i for i in rejection["rules"] if i["supports"] is supports]
        if not items:
            continue
        runs.append((" " if runs else "") + label)
        plain = [i for i in items if i["state"] == "not held" and not i["thresholds"]]
        for n, item in enumerate(i for i in items if i not in plain):
            runs += ["; " if n else "", *_item_runs(item)]
        if plain:
            if len(plain) < len(items):
                runs.append("; ")
            for n, item in enumerate(plain):
                runs += [", " if n else "", Code(item["rule"])]
            runs.append(" did not hold")
        runs.append(".")
    if rejection["missing"]:
        runs += [" Unknown: ", *_codes([m["fact"] for m in rejection["missing"][:4]]), "."]
    return runs or ["No rule of the policy in force names it."]


def _rejection_blocks(rejections: Mapping) -> list[Block]:
    out: list[Block] = [Heading(2, "Rejections, as the platforms explained them")]
    if not rejections["rejected"]:
        out.append(Paragraph(("No platform refused a request, in whole or in part.",)))
        return out
    out.append(Paragraph((
        f"Of {_plural(rejections['flagged'], 'request')}, {rejections['rejected']:,} were "
        "refused in whole or in part: the platform's latest response did less than was "
        "asked. Here they are by the reason the platform gave, each with what the rules of "
        "its own policy in force on the day did on the evidence. A rule's result ",
        Strong("bears out"), " the response when it does not hold, an allowance set it "
        "aside, its threshold is not met, or the response gives it effect; it is ",
        Strong("against"), " the response when it calls for more than the platform did; "
        "it is ", Strong("open"), " when the evidence leaves it unknown.")))
    out.append(Table(
        ("reason given", "requests", "consistent", "inconsistent", "undetermined",
         "the rules behind it"),
        tuple((f"“{k['title']}”", f"{k['count']:,}",
               *(f"{k['statuses'][s]:,}" for s in ("consistent", "inconsistent",
                                                   "undetermined")),
               tuple(_codes(list(dict.fromkeys(r["rule"] for r in k["rules"])))) or "–")
              for k in rejections["kinds"]),
        numeric=(1, 2, 3, 4),
        caption="Consistency: whether the response is what the platform's own policy calls "
                "for, within what was asked (see above)."))
    cases = {c["id"]: c for c in rejections["cases"]}
    for kind in rejections["kinds"]:
        if not kind["count"]:
            continue
        out.append(Heading(3, f"“{kind['title'].capitalize()}”: "
                              f"{_plural(kind['count'], 'request')}"))
        words = [f"“{_sentence(w['reason'])}”" + (f" ({w['count']:,})" if w["count"] > 1 else "")
                 for w in kind["wordings"] if w["reason"]]
        if words:
            out.append(Paragraph(("In the platforms' words: " + "; ".join(words),)))
        if kind["rules"]:
            out.append(Paragraph(("The rules behind it, over these requests:",)))
            out.append(BulletList(tuple(tuple(_rule_summary(rule)) for rule in kind["rules"])))
        out.append(Table(
            ("case", "request", "platform", "target", "response", "consistency",
             "the rules behind it"),
            tuple((c["id"], c["request_id"], platform_name(c["platform"]), c["target"],
                   (f"{_OUTCOME_HEADINGS[c['response']['outcome']]}, {c['response']['date']}"),
                   c["status"] + (f" ({c['direction']})" if c["direction"] else ""),
                   tuple(_explanation_runs(c)))
                  for c in (cases[i] for i in kind["case_ids"]))))
    return out


def _acceptance_blocks(acceptance: Sequence[Mapping]) -> list[Block]:
    out: list[Block] = [Heading(2, "Acceptance over time")]
    if len([a for a in acceptance if a["rate"] is not None]) > 1:
        out.append(Figure(charts.lines(
            [a["period"] for a in acceptance],
            [("acted on", charts.COLOURS["observed"], [a["rate"] for a in acceptance]),
             ("likelihood we gave (mean)", charts.COLOURS["predicted"],
              [a["predicted"] for a in acceptance])],
            "Share of closed requests the platforms acted on, by period of submission"),
            "Share of closed requests on which the platform took any action, against the mean "
            "likelihood we gave them."))
    out.append(Table(("period", "flagged", "closed", "acted on", "share", "likelihood given"),
                     tuple((a["period"], f"{a['flagged']:,}", f"{a['closed']:,}",
                            f"{a['accepted']:,}", _percent(a["rate"]), _percent(a["predicted"]))
                           for a in acceptance), numeric=(1, 2, 3, 4, 5)))
    return out


def _estimate_rows(estimates: Sequence[Mapping], name) -> tuple:
    return tuple((name(e["group"]), f"{e['cases']:,}", f"{e['accepted']:,}",
                  _percent(e["prior_mean"]), _percent(e["posterior_mean"]),
                  f"{_percent(e['low'])} to {_percent(e['high'])}") for e in estimates)


def _calibration_blocks(calibration: Mapping) -> list[Block]:
    out: list[Block] = [Heading(2, "Calibration of the likelihoods")]
    if not calibration["cases"]:
        out.append(Paragraph(("No closed request yet: nothing to calibrate against.",)))
        return out
    out.append(Paragraph((
        f"On {_plural(calibration['cases'], 'closed request')}, the Brier score of the "
        f"likelihoods we gave is {calibration['brier']:.3f} (0 is perfect; always saying 50% "
        f"scores 0.25). Calibrated on the other requests' outcomes (leave-one-out), it is "
        f"{calibration['brier_calibrated']:.3f}. A request counts as accepted when the platform "
        "took any action.",)))
    out.append(Figure(charts.reliability(calibration["reliability"],
                                         "Reliability of the likelihoods"),
                      "Each dot: the requests given a likelihood in one tenth of the scale; "
                      "across, the mean likelihood given; up, the share acted on. Dots on the "
                      "dashed diagonal are well calibrated."))
    out.append(Table(("likelihood given", "requests", "mean given", "acted on"), tuple(
        (f"{_percent(r['low'])} to {_percent(r['high'])}", f"{r['cases']:,}",
         _percent(r["predicted"]), _percent(r["observed"])) for r in calibration["reliability"]),
        numeric=(1, 2, 3), caption="Reliability table"))
    header = ("requests", "acted on", "prior", "estimate", "90% interval")
    out.append(Paragraph((
        f"Acceptance estimated by a Beta-Binomial update: the prior is centred on the rule's "
        f"declared confidence (for a platform, on the mean likelihood we gave) and worth "
        f"{calibration['prior_strength']:g} requests; see docs/audit.md.",)))
    out.append(Table(("deciding rule", *header), _estimate_rows(calibration["rules"], Code),
                     numeric=(1, 2, 3, 4), caption="By deciding rule"))
    out.append(Table(("platform", *header),
                     _estimate_rows(calibration["platforms"], platform_name),
                     numeric=(1, 2, 3, 4), caption="By platform"))
    return out
