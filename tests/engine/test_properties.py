"""The laws of decisions, checked through the engine on generated evidence under the
bundled rule sets (every rule set in force for facebook on the drawn date):

- confirming one more violating post never lowers the outcome;
- resolving an unknown never changes a settled outcome, and only ever narrows the
  bounds (the lower bound does not fall, the upper bound does not rise);
- the decision's JSON always follows engine/decision.schema.json;
- the lower bound never exceeds the upper bound.

`is known` and `is unknown` ask about the evidence, not the world, so they are not
monotonic by design (docs/decisions.md): a field that any rule set tests with them is
never resolved here.
"""

import copy
import datetime
import json

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from engine import Engine, parse_evidence
from engine.decision import rank
from rules import nodes as n
from rules import vocabulary
from tests.engine.support import RULES, decision_schema_errors

# Each example runs the engine once or twice; these counts keep the file to a few seconds.
LAWS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXPLAINED = settings(LAWS, max_examples=25)

ENGINE = Engine.from_paths([RULES])


def _booleans(record: str) -> list[str]:
    return [name for name, t in vocabulary.RECORDS[record].items() if t.kind == "bool"]


POST_SIGNALS = _booleans("signals")
PAGE_SIGNALS = _booleans("page_signals")
CONTEXT_FLAGS = _booleans("context")


def _tested_for_knowledge() -> set[str]:
    """The names of the fields that some rule tests with `is known` or `is unknown`, and
    of the fields inside a record so tested; by name alone, wherever the field is."""
    names = set()
    for ruleset in ENGINE.registry:
        for rule in ruleset.all_rules():
            tests = [node.operand for node in n.walk(rule.condition)
                     if isinstance(node, n.IsKnown)] if rule.condition is not None else []
            for path in (p for test in tests for p in n.walk(test) if isinstance(p, n.Path)):
                names.add(path.names[-1])
                for fields in vocabulary.RECORDS.values():
                    t = fields.get(path.names[-1])
                    if t is not None and t.kind == "record":
                        names.update(vocabulary.RECORDS[t.name])
    return names


NOT_RESOLVED = _tested_for_knowledge()

# (language, text, translation or None): adverts in several languages, and posts that
# are nothing of the kind; lexicon words decide whether `mentions` holds.
TEXTS = [
    ("en", "Boat crossing to England tonight, 100% safe. WhatsApp us.", None),
    ("en", "Photos from our holiday in Paris.", None),
    ("fr", "Passage en bateau ce soir, payez à l'arrivée.", "Boat passage tonight, pay on arrival."),
    ("ar", "رحلة إلى بريطانيا بالقارب كل يوم", "Trip to Britain by boat every day"),
    ("ar", "رحلة إلى بريطانيا بالقارب كل يوم", None),
    ("sq", "Kalim me varkë çdo natë.", "Crossing by boat every night."),
]

PRICE = {"amount": 2500, "currency": "GBP"}
CONTACTS = [{"kind": "whatsapp", "value": "+447700900123"}]


def _flags(names: list[str], one_in: int = 4) -> st.SearchStrategy[dict]:
    """Either every flag assessed, or each flag true, false or absent (not assessed): a
    decision can only be settled when most of what the rules read is known. A flag is
    true one time in `one_in`, as most signals are false: otherwise nearly every page
    would be removed."""
    flag = st.sampled_from([False] * (one_in - 1) + [True])
    return st.one_of(st.fixed_dictionaries({name: flag for name in names}),
                     st.fixed_dictionaries({}, optional={name: flag for name in names}))


contexts = st.one_of(st.none(), st.just("none"), _flags(CONTEXT_FLAGS))


@st.composite
def post_documents(draw, submitted: datetime.date, number: int) -> dict:
    language, text, translation = draw(st.sampled_from(TEXTS))
    post: dict = {"id": f"p{number}",
                  "posted": (submitted - datetime.timedelta(
                      days=draw(st.integers(0, 120)))).isoformat()}
    if draw(st.booleans()):
        post.update(language=language, text=text)
        if translation:
            post["translation"] = translation
    signals = draw(_flags(POST_SIGNALS))
    if draw(st.booleans()):
        signals["price"] = PRICE
    if draw(st.booleans()):
        signals["contacts"] = draw(st.sampled_from([CONTACTS, []]))
    if signals or draw(st.booleans()):
        post["signals"] = signals
    context = draw(contexts)
    if context is not None:
        post["context"] = context
    by_admin = draw(st.sampled_from([True, False, None]))
    if by_admin is not None:
        post["by_admin"] = by_admin
    return post


@st.composite
def evidence_documents(draw) -> dict:
    """A facebook page (or group, or account) with 0-8 posts posted within 120 days
    before the request, whose signals and context are each true, false or absent."""
    submitted = draw(st.dates(datetime.date(2019, 10, 1), datetime.date(2026, 6, 30)))
    count = draw(st.integers(0, 8))
    target: dict = {
        "platform": "facebook",
        "kind": draw(st.sampled_from(["page", "page", "group", "account"])),
        "posts": [draw(post_documents(submitted, i)) for i in range(count)],
    }
    signals = draw(_flags(PAGE_SIGNALS, one_in=8))
    if draw(st.booleans()):
        signals["prior_strikes"] = draw(st.integers(0, 6))
    if signals:
        target["signals"] = signals
    context = draw(contexts)
    if context is not None:
        target["context"] = context
    request = {"id": "REQ", "submitted": submitted.isoformat(),
               "referrer": {"kind": "law_enforcement", "jurisdiction": "GB"}}
    return {"request": request, "target": target}


def decide(document: dict, explain: bool = False):
    evidence, problems = parse_evidence(json.dumps(document))
    assert evidence is not None, [f"{d.code} {d.pointer} {d.message}" for d in problems]
    return ENGINE.check(evidence, explain=explain)


def _with_violating_post(document: dict, index: int, days_before: int) -> dict:
    """`document` with post `index` confirmed to offer a crossing with no allowance, or,
    when `index` is past the last post, with such a post added."""
    out = copy.deepcopy(document)
    posts = out["target"]["posts"]
    if index < len(posts):
        post = posts[index]
        post.setdefault("signals", {})["offers_crossing"] = True
        post["context"] = "none"
    else:
        submitted = datetime.date.fromisoformat(out["request"]["submitted"])
        posts.append({"id": "added",
                      "posted": (submitted - datetime.timedelta(days=days_before)).isoformat(),
                      "signals": {"offers_crossing": True}, "context": "none"})
    return out


def _unknowns(document: dict) -> list[tuple]:
    """Where an absent boolean could be filled in: (path to its record, field)."""
    out = []
    target = document["target"]
    records = [(("target",), target, {"signals": PAGE_SIGNALS, "context": CONTEXT_FLAGS})]
    for i, post in enumerate(target["posts"]):
        records.append((("target", "posts", i), post,
                        {"signals": POST_SIGNALS, "context": CONTEXT_FLAGS}))
        if "by_admin" not in post and "by_admin" not in NOT_RESOLVED:
            out.append((("target", "posts", i), "by_admin"))
    for path, record, parts in records:
        for part, names in parts.items():
            assessed = record.get(part, {})
            if assessed == "none":
                continue
            out.extend(((*path, part), name) for name in names
                       if name not in assessed and name not in NOT_RESOLVED)
    return out


def _resolved(document: dict, where: tuple, value: bool) -> dict:
    out = copy.deepcopy(document)
    path, name = where
    node = out
    for part in path:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[name] = value
    return out


def _bounds(decision) -> tuple[int, int]:
    return rank(decision.bounds[0]), rank(decision.bounds[1])


@LAWS
@given(document=evidence_documents(), data=st.data())
def test_confirming_a_violating_post_never_lowers_the_outcome(document: dict, data):
    index = data.draw(st.integers(0, len(document["target"]["posts"])), label="post")
    days = data.draw(st.integers(0, 120), label="days before")
    before = decide(document)
    after = decide(_with_violating_post(document, index, days))
    note(f"{before.outcome} {before.bounds} -> {after.outcome} {after.bounds}")
    assert rank(after.outcome) >= rank(before.outcome)
    assert _bounds(after)[0] >= _bounds(before)[0]


@LAWS
@given(document=evidence_documents(), data=st.data())
def test_resolving_an_unknown_never_changes_a_settled_outcome(document: dict, data):
    candidates = _unknowns(document)
    if not candidates:
        return
    where = data.draw(st.sampled_from(candidates), label="unknown")
    value = data.draw(st.booleans(), label="value")
    before = decide(document)
    after = decide(_resolved(document, where, value))
    note(f"{before.outcome} {before.bounds} -> {after.outcome} {after.bounds}")
    if before.bounds[0] == before.bounds[1]:
        assert after.outcome == before.outcome
        assert after.bounds == before.bounds
    # Knowing more only narrows what may happen.
    (lo, hi), (lo2, hi2) = _bounds(before), _bounds(after)
    assert lo <= lo2 <= hi2 <= hi


@EXPLAINED
@given(document=evidence_documents())
def test_the_decision_json_follows_the_schema(document: dict):
    decision = decide(document, explain=True)
    assert decision_schema_errors(json.loads(json.dumps(decision.as_json()))) == []


@LAWS
@given(document=evidence_documents())
def test_the_lower_bound_never_exceeds_the_upper_bound(document: dict):
    lower, upper = _bounds(decide(document))
    assert lower <= upper
