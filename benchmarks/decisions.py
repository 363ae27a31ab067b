"""Decisions per second: the engine against a hand-written baseline of the same logic.

Generates a corpus of pages (1 to 50 posts each, see corpus.py), evaluates every request
with `engine.Engine` under the frozen rule sets in benchmarks/rulesets/ (a policy rule set
and an enforcement rule set that reads its results), and compares with `decide`, the same
decision written by hand: rules, exceptions, three-valued logic, the page threshold, the
outcome bounds and the likelihood.

Where the evidence settles the outcome (the sure bounds agree), the engine's decision is
the bounds' outcome and the noisy-OR likelihood, which `decide` gives too. Where it
leaves the outcome open, the engine weighs the outcomes over the unknown facts
(engine.probability, up to MAX_EVALUATIONS evaluations of the whole page), which no
hand-written baseline here reproduces: there, both must give the same sure bounds. It
first checks every request, then times on the settled ones:

- the fast path (`Engine.check(explain=False)`) on evidence already read, against the
  hand-written `decide` on the same records;
- the whole way from JSON text (schema validation included);
- full decisions with explanations, on a sample;

and, apart, the fast path on a sample of the open ones (the weighing).

Run: .venv/bin/python benchmarks/decisions.py [--pages 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
from compiled_vs_handwritten import asks_for_smuggler, offers_smuggling  # noqa: E402

from engine import Engine, parse_evidence  # noqa: E402
from engine.decision import LEAK, UNKNOWN_WEIGHT  # noqa: E402
from engine.evaluation import bounds_of  # noqa: E402

RULESETS = HERE / "rulesets"


# The baseline, by hand

def _any3(values):
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


def decide(page, request, crossing, window, limit):
    """The sure bounds, and the outcome and likelihood the engine gives when they agree,
    for one request (about the whole page, as every request of the corpus is)."""
    posts = page.get("posts") or ()
    offers = [offers_smuggling(p, crossing) for p in posts]
    asks = [asks_for_smuggler(p, ) for p in posts]
    submitted = request.get("submitted")
    violating = [_any3((o, a)) for o, a in zip(offers, asks, strict=True)]
    # The page rule: face, purpose, or repeated violations within the window.
    signals = page.get("signals") or {}
    known = unknown = 0
    for post, v in zip(posts, violating, strict=True):
        posted = post.get("posted")
        if v is False:
            continue
        if posted is None or submitted is None:
            in_window = None
        else:
            in_window = submitted - window <= posted <= submitted
        if in_window is False:
            continue
        if v is True and in_window is True:
            known += 1
        else:
            unknown += 1
    if known >= limit:
        repeated = True
    elif known + unknown < limit:
        repeated = False
    else:
        repeated = None
    page_rule = _any3((signals.get("advertises_smuggling"), signals.get("dedicated"), repeated))
    post_results = offers + asks
    lower = ("page_removed" if page_rule is True
             else "posts_removed" if any(r is True for r in post_results) else "no_action")
    upper = ("page_removed" if page_rule is not False
             else "posts_removed" if any(r is not False for r in post_results) else "no_action")
    keep = 1.0 - LEAK
    for results, confidence in ((offers, 0.9), (asks, 0.75), ([page_rule], 0.7)):
        w = 1.0 if True in results else UNKNOWN_WEIGHT if None in results else 0.0
        keep *= 1.0 - w * confidence
    return lower, upper, round(min(max(1.0 - keep, 0.0), 1.0), 4)


# The corpus as evidence documents

def _json_value(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "currency"):
        return {"amount": value.amount, "currency": value.currency}
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def documents(n_pages: int) -> list[str]:
    out = []
    for page, request in corpus.generate(n_pages):
        request = dict(request)
        request.setdefault("submitted", datetime.date(2024, 1, 1))
        target = dict(page, platform=page.get("surface", "facebook"))
        target.pop("surface", None)
        out.append(json.dumps({"request": _json_value(request), "target": _json_value(target)},
                              ensure_ascii=False))
    return out


def best_of(repeat: int, work) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explained", type=int, default=1_000,
                        help="how many settled requests to time with full explanations")
    parser.add_argument("--weighed", type=int, default=50,
                        help="how many open requests to time on the fast path (the weighing)")
    args = parser.parse_args(argv)

    engine = Engine.from_paths([RULESETS])
    texts = documents(args.pages)
    evidences = []
    for text in texts:
        evidence, problems = parse_evidence(text)
        if evidence is None:
            print("generated evidence is invalid:", problems[0].pointer, problems[0].message)
            return 1
        evidences.append(evidence)
    policy = next(r for r in engine.registry if r.id == "bench.policy")
    crossing = policy.lexicons["crossing"]
    day = datetime.date(2024, 1, 1)
    params = next(r for r in engine.registry if r.id == "bench.enforcement").parameter_values(day)
    window, limit = params["counting_window"], params["page_violation_limit"]

    # Same answers first: outcome and likelihood where the evidence settles the outcome,
    # the sure bounds everywhere.
    outcomes: dict[str, int] = {}
    settled, open_ = [], []
    for evidence in evidences:
        lower, upper, likelihood = decide(evidence.target, evidence.request, crossing, window,
                                          limit)
        mine = (lower, likelihood) if lower == upper else None
        if mine is None:  # open: the bounds only, without the weighing (seconds a page)
            bounds = bounds_of(engine.run(evidence)[0])
            outcome, engine_likelihood = "undetermined", likelihood
        else:
            decision = engine.check(evidence, explain=False)
            bounds, outcome, engine_likelihood = (decision.bounds, decision.outcome,
                                                  decision.likelihood)
        if bounds != (lower, upper) or mine is not None and (
                (outcome, engine_likelihood) != mine):
            print(f"MISMATCH on {evidence.request['id']}: engine {bounds} {outcome} "
                  f"{engine_likelihood}, hand-written {(lower, upper)} {likelihood}")
            return 1
        (settled if mine is not None else open_).append(evidence)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    settled_ids = {id(e) for e in settled}

    def fast_path(sample):
        fresh = Engine(engine.registry)  # compiled anew: no answers remembered from before
        fresh.check(sample[0], explain=False)
        started = time.process_time()
        for e in sample:
            fresh.check(e, explain=False)
        return time.process_time() - started

    fast = min(fast_path(settled) for _ in range(args.repeat))
    def by_hand():
        for e in settled:
            decide(e.target, e.request, crossing, window, limit)

    hand = best_of(args.repeat, by_hand)
    settled_texts = [texts[i] for i, e in enumerate(evidences) if id(e) in settled_ids]
    # Every row of the engine is timed as the fast path is: best of --repeat, each with
    # an engine compiled anew, decisions not kept (a list of them all would time the
    # garbage collector walking it too).
    def from_text():
        fresh = Engine(engine.registry)
        fresh.check(settled[0], explain=False)
        started = time.process_time()
        for text in settled_texts:
            fresh.check(parse_evidence(text)[0], explain=False)
        return time.process_time() - started

    def explained():
        fresh = Engine(engine.registry)
        fresh.check(sample[0])
        started = time.process_time()
        for e in sample:
            fresh.check(e)
        return time.process_time() - started

    sample = settled[: args.explained]
    whole = min(from_text() for _ in range(args.repeat))
    full = min(explained() for _ in range(args.repeat))
    open_sample = open_[: args.weighed]
    weighed = fast_path(open_sample) if open_sample else 0.0

    n, posts = len(settled), sum(len(e.posts) for e in settled)
    print(f"{len(evidences)} requests, {len(settled)} settled by the evidence, {len(open_)} "
          f"left open (their bounds compared); outcomes {dict(sorted(outcomes.items()))}")
    print(f"settled requests: {n}, {posts} posts")
    print(f"{'':32} {'seconds':>8} {'decisions/s':>12} {'posts/s':>10}")
    print(f"{'engine, fast path':32} {fast:8.2f} {n / fast:12,.0f} {posts / fast:10,.0f}")
    print(f"{'hand-written':32} {hand:8.2f} {n / hand:12,.0f} {posts / hand:10,.0f}")
    print(f"{'engine, from JSON text':32} {whole:8.2f} {n / whole:12,.0f} {posts / whole:10,.0f}")
    print(f"{'engine, with explanations':32} {full:8.2f} {len(sample) / full:12,.0f}"
          f" {'':>10}  (first {len(sample)})")
    print(f"ratio engine fast path / hand-written = {fast / hand:.2f}x")
    print(f"ratio from JSON text / fast path = {whole / fast:.2f}x")
    print(f"ratio explanations / fast path = "
          f"{(full / len(sample)) / (fast / n):.2f}x" if sample else "")
    if open_sample:
        print(f"open requests, fast path with the weighing: {weighed / len(open_sample) * 1e3:.1f} ms "
              f"a request (first {len(open_sample)} of {len(open_)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
