"""How much the compiled fast path costs against the same rules written by hand.

Loads Meta's human-exploitation rule set (version 2022-12-07) from `platform_policies/`,
compiles it, and times `rules.evaluation.run_rules` over a generated corpus against
`handwritten_verdicts`, a plain Python function of the same logic that uses the same
`Lexicon` objects. Before timing anything it checks that both reach the same verdict on
every page and every post, and exits with an error if they do not: a benchmark of two
functions that disagree measures nothing.

The time for lexicon matching is common to both sides (the same `Lexicon.matches`,
with its token cache), so the ratio measures what the engine adds around it.

    .venv/bin/python benchmarks/compiled_vs_handwritten.py [--pages N] [--repeat R]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import math
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

import corpus  # benchmarks/ is the script's directory, so it is on sys.path

import rules
from rules.evaluation import run_rules

RULE_SET_DIRECTORY = Path(__file__).resolve().parent.parent / "platform_policies" / "meta"
RULE_SET_ID = "meta.human-exploitation"
RULE_SET_VERSION = "2022-12-07"
AS_OF = datetime.date(2025, 1, 1)  # the day whose parameter values are used
TARGET_RATIO = 2.0


# The rule set written by hand: what an engineer would write without the engine.
# Unknown is None, and logic is Kleene's, as in the rules.

def _or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _not(a):
    return None if a is None else not a


def offers_smuggling(post, crossing):
    """Rule smuggling-offer, with its exception condemnation-or-awareness."""
    signals = post.get("signals") or {}
    fires = signals.get("offers_crossing")
    if fires is not True:
        mentioned = crossing.matches(post.get("text"))
        if mentioned is not True:
            mentioned = _or(mentioned, crossing.matches(post.get("translation")))
        if mentioned is not False:
            if signals.get("price") is not None:
                reachable = True
            else:
                contacts = signals.get("contacts")
                reachable = None if contacts is None else len(contacts) > 0
            fires = _or(fires, _and(mentioned, reachable))
        else:
            fires = _or(fires, False)
    if fires is False:
        return False
    context = post.get("context") or {}
    excused = _or(context.get("condemnation"), context.get("awareness"))
    return _and(fires, _not(excused))


def asks_for_smuggler(post):
    """Rule smuggling-request, with its exception safety-or-asylum-information."""
    fires = (post.get("signals") or {}).get("solicits_smuggling")
    if fires is False:
        return False
    context = post.get("context") or {}
    excused = context.get("safety_info")
    if excused is not True:
        excused = _or(excused, context.get("asylum_info"))
    if excused is not True:
        excused = _or(excused, context.get("humanitarian_info"))
    return _and(fires, _not(excused))


def page_for_smuggling(page, request, violations, window, limit):
    """Rule page-for-smuggling; `violations` holds each post's verdict, in order."""
    signals = page.get("signals") or {}
    verdict = _or(signals.get("advertises_smuggling"), signals.get("dedicated"))
    if verdict is True:
        return True
    posts = page.get("posts")
    if posts is None:
        sure, possible = 0, math.inf
    else:
        sure = possible = 0
        submitted = request.get("submitted")
        for post, violates in zip(posts, violations, strict=True):
            if violates is False:
                continue
            posted = post.get("posted")
            if posted is None or window is None or submitted is None:
                recent = None
            else:
                recent = submitted - window <= posted <= submitted
            counts = _and(violates, recent)
            if counts is not False:
                possible += 1
                sure += counts is True
    if limit is None:
        reached = None
    elif sure >= limit:
        reached = True
    elif possible < limit:
        reached = False
    else:
        reached = None
    return _or(verdict, reached)


def handwritten_verdicts(page, request, params, crossing):
    """(page verdict, offer verdict per post, request verdict per post)."""
    posts = page.get("posts") or ()
    offers = [offers_smuggling(post, crossing) for post in posts]
    asks = [asks_for_smuggler(post) for post in posts]
    violations = [_or(offer, ask) for offer, ask in zip(offers, asks, strict=True)]
    verdict = page_for_smuggling(page, request, violations, params["counting_window"],
                                 params["page_violation_limit"])
    return verdict, offers, asks


# The benchmark

def load_compiled() -> rules.CompiledRuleSet:
    registry, diagnostics = rules.load_registry([RULE_SET_DIRECTORY])
    if rules.has_errors(diagnostics):
        sys.exit(rules.render_text(diagnostics))
    ruleset = registry.get(RULE_SET_ID, RULE_SET_VERSION)
    if ruleset is None:
        sys.exit(f"error: {RULE_SET_ID} {RULE_SET_VERSION} not found under {RULE_SET_DIRECTORY}")
    return rules.compile_ruleset(ruleset)


def check_same_verdicts(compiled, cases, params, crossing) -> Counter:
    """Exit unless both sides agree on every page and post; returns the page verdicts."""
    page_verdicts: Counter = Counter()
    for page, request in cases:
        evaluation = run_rules(compiled, page, request, params)
        failed = [r for r in evaluation.results if r.error]
        if failed:
            sys.exit(f"error: run_rules failed on {page['name']!r}: {failed[0]}")
        table = evaluation.verdicts
        verdict, offers, asks = handwritten_verdicts(page, request, params, crossing)
        expected = (table["page-for-smuggling"][id(page)],
                    [table["smuggling-offer"][id(post)] for post in page["posts"]],
                    [table["smuggling-request"][id(post)] for post in page["posts"]])
        if not _identical(expected, (verdict, offers, asks)):
            sys.exit(f"error: verdicts differ on page {page['name']!r}\n"
                     f"  run_rules:   {expected}\n  handwritten: {(verdict, offers, asks)}")
        page_verdicts[verdict] += 1
    return page_verdicts


def _identical(a, b) -> bool:
    """Equal, with True, False and None told apart from 1, 0 and each other."""
    if isinstance(a, list | tuple):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_identical(x, y) for x, y in zip(a, b, strict=True)))
    return a is b


def time_compiled(compiled, cases, params, crossing) -> float:
    start = time.perf_counter()
    for page, request in cases:
        run_rules(compiled, page, request, params)
    return time.perf_counter() - start


def time_handwritten(compiled, cases, params, crossing) -> float:
    start = time.perf_counter()
    for page, request in cases:
        handwritten_verdicts(page, request, params, crossing)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages in the corpus")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs; the best counts")
    parser.add_argument("--seed", type=int, default=20221207, help="corpus seed")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one compiled run and print where the time goes")
    args = parser.parse_args(argv)

    compiled = load_compiled()
    params = compiled.ruleset.parameter_values(AS_OF)
    crossing = compiled.ruleset.lexicons["crossing"]
    cases = corpus.generate(args.pages, seed=args.seed)
    n_posts = sum(len(page["posts"]) for page, _ in cases)

    page_verdicts = check_same_verdicts(compiled, cases, params, crossing)
    print(f"rule set     {RULE_SET_ID} {RULE_SET_VERSION}, parameters on {AS_OF}: "
          + ", ".join(f"{name}={value}" for name, value in params.items()))
    print(f"corpus       {len(cases)} pages, {n_posts} posts (seed {args.seed})")
    print(f"verdicts     identical on every page and post; pages: "
          f"{page_verdicts[True]} remove, {page_verdicts[False]} keep, "
          f"{page_verdicts[None]} unknown")

    best = {"compiled": math.inf, "handwritten": math.inf}
    for _ in range(max(1, args.repeat)):  # alternate, so that drift hits both sides
        best["compiled"] = min(best["compiled"], time_compiled(compiled, cases, params, crossing))
        best["handwritten"] = min(best["handwritten"],
                                  time_handwritten(compiled, cases, params, crossing))

    print(f"\n{'':12} {'seconds':>9} {'pages/s':>10} {'posts/s':>10}   (best of {args.repeat})")
    for name, seconds in best.items():
        print(f"{name:12} {seconds:9.3f} {len(cases) / seconds:10.0f} {n_posts / seconds:10.0f}")
    ratio = best["compiled"] / best["handwritten"]
    print(f"\nratio compiled/handwritten = {ratio:.2f}x"
          + ("" if ratio <= TARGET_RATIO else f"  (above the {TARGET_RATIO:.0f}x aim)"))

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(time_compiled, compiled, cases, params, crossing)
        print()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
