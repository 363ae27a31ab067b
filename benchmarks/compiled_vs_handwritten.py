"""How much the compiled fast path costs against the same rules written by hand.

Loads Meta's human-exploitation rule set (version 2022-12-07) from `platform_policies/`,
compiles it, and times `rules.evaluation.run_rules` over a generated corpus against
`handwritten_verdicts`, plain Python of the same logic that uses the same `Lexicon`.
Before timing anything it checks that both reach the same verdict, rule by rule, on every
post, and exits with an error if they do not: a benchmark of two functions that
disagree measures nothing. The rule set holds post rules only; what happens to the page
is decided by meta.enforcement, which needs the engine to fill in `post.policy` and is
not measured here.

Times are CPU time, the best of several alternating runs, so other processes on the
machine count for little. Lexicon matching is the same work on both sides and most of
the hand-written side's time, so the ratio is smaller than the engine's overhead on the
rest of the logic; `--profile` shows where the compiled side's time goes.

    .venv/bin/python benchmarks/compiled_vs_handwritten.py [--pages N] [--repeat R] [--profile]
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
AS_OF = datetime.date(2023, 6, 1)  # the day whose parameter values are used
TARGET_RATIO = 2.0

# Each rule written by hand below, with its exceptions in the order they are tried.
HANDWRITTEN_RULES = {
    "smuggling-offer": ("condemnation-or-awareness", "sharing-safety-or-asylum-information"),
    "smuggling-request": ("safety-or-asylum-information",),
}


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
    """smuggling-offer, unless condemnation-or-awareness or
    sharing-safety-or-asylum-information applies."""
    signals = post.get("signals") or {}
    offers = signals.get("offers_crossing")
    fires = offers
    if fires is not True:
        mentioned = crossing.matches(post.get("text"))
        if mentioned is not True:
            mentioned = _or(mentioned, crossing.matches(post.get("translation")))
        if mentioned is False:
            reachable = False  # not looked at: false and anything is false
        elif signals.get("price") is not None:
            reachable = True
        else:
            contacts = signals.get("contacts")
            reachable = None if contacts is None else len(contacts) > 0
        fires = _or(fires, _and(mentioned, reachable))
    if fires is False:
        return False
    context = post.get("context") or {}
    excused = _or(context.get("condemnation"), context.get("awareness"))
    if excused is not True:
        informs = _or(_or(context.get("safety_info"), context.get("asylum_info")),
                      context.get("humanitarian_info"))
        excused = _or(excused, _and(informs, _not(offers)))
    return _and(fires, _not(excused))


def asks_for_smuggler(post):
    """smuggling-request, unless safety-or-asylum-information applies."""
    fires = (post.get("signals") or {}).get("solicits_smuggling")
    if fires is False:
        return False
    context = post.get("context") or {}
    excused = _or(_or(context.get("safety_info"), context.get("asylum_info")),
                  context.get("humanitarian_info"))
    return _and(fires, _not(excused))


def handwritten_verdicts(page, crossing):
    """The verdict of each rule on each post: (offers, asks), one list each."""
    posts = page.get("posts") or ()
    return ([offers_smuggling(post, crossing) for post in posts],
            [asks_for_smuggler(post) for post in posts])


# The benchmark

def load_compiled() -> rules.CompiledRuleSet:
    """The rule set, compiled; exits if it does not load or no longer has the rules and
    exceptions written by hand above."""
    registry, diagnostics = rules.load_registry([RULE_SET_DIRECTORY])
    if rules.has_errors(diagnostics):
        sys.exit(rules.render_text(diagnostics))
    ruleset = registry.get(RULE_SET_ID, RULE_SET_VERSION)
    if ruleset is None:
        sys.exit(f"error: {RULE_SET_ID} {RULE_SET_VERSION} not found under {RULE_SET_DIRECTORY}")
    shape = {rule.id: tuple(e.id for e in rule.exceptions) for rule in ruleset.rules}
    if shape != HANDWRITTEN_RULES:
        sys.exit(f"error: {RULE_SET_ID} {RULE_SET_VERSION} now has the rules {shape}, the "
                 f"hand-written version has {HANDWRITTEN_RULES}: update it to match")
    return rules.compile_ruleset(ruleset)


def check_same_verdicts(compiled, cases, params, crossing) -> Counter:
    """Exit unless both sides reach the same verdict on every post; returns how many
    posts each verdict was reached on, by rule."""
    counts: Counter = Counter()
    for page, request in cases:
        evaluation = run_rules(compiled, page, request, params)
        failed = [r for r in evaluation.results if r.error]
        if failed:
            sys.exit(f"error: run_rules failed on page {page['name']!r}: {failed[0]}")
        handwritten = dict(zip(HANDWRITTEN_RULES, handwritten_verdicts(page, crossing),
                               strict=True))
        for rule_id, verdicts in handwritten.items():
            table = evaluation.verdicts[rule_id]
            expected = [table[id(post)] for post in page["posts"]]
            if not all(a is b for a, b in zip(expected, verdicts, strict=True)):
                sys.exit(f"error: {rule_id} differs on page {page['name']!r}\n"
                         f"  run_rules:   {expected}\n  handwritten: {verdicts}")
            counts.update((rule_id, verdict) for verdict in verdicts)
    return counts


def time_compiled(cases, compiled, params, crossing) -> float:
    # A fresh compilation for every timed run: the compiled lexicon tests remember their
    # answers per text, and a cache warmed by the previous run would flatter the engine.
    compiled = rules.compile_ruleset(compiled.ruleset)
    start = time.process_time()
    for page, request in cases:
        run_rules(compiled, page, request, params)
    return time.process_time() - start


def time_handwritten(cases, compiled, params, crossing) -> float:
    start = time.process_time()
    for page, _request in cases:
        handwritten_verdicts(page, crossing)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages in the corpus")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs; the best counts")
    parser.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED, help="corpus seed")
    parser.add_argument("--profile", action="store_true",
                        help="then profile one compiled run and print where the time goes")
    args = parser.parse_args(argv)

    compiled = load_compiled()
    ruleset = compiled.ruleset
    params = ruleset.parameter_values(AS_OF)
    crossing = ruleset.lexicons["crossing"]
    cases = corpus.generate(args.pages, seed=args.seed)
    n_posts = sum(len(page["posts"]) for page, _ in cases)
    counts = check_same_verdicts(compiled, cases, params, crossing)

    print(f"rule set     {ruleset.id} {ruleset.version} (sha256 {ruleset.sha256[:12]}), "
          f"parameters on {AS_OF}: {_describe_params(params)}")
    print(f"corpus       {len(cases)} pages, {n_posts} posts (seed {args.seed})")
    print("verdicts     the same from both on every post")
    for rule_id in HANDWRITTEN_RULES:
        print(f"  {rule_id:19} {counts[rule_id, True]:6} hold {counts[rule_id, False]:6} not "
              f"{counts[rule_id, None]:6} unknown")

    timers = {"compiled": time_compiled, "handwritten": time_handwritten}
    best = dict.fromkeys(timers, math.inf)
    for _ in range(max(1, args.repeat)):  # alternate, so that drift hits both sides
        for name, timer in timers.items():
            best[name] = min(best[name], timer(cases, compiled, params, crossing))

    print(f"\n{'':12} {'seconds':>8} {'pages/s':>9} {'posts/s':>9}   "
          f"(CPU time, best of {args.repeat})")
    for name, seconds in best.items():
        print(f"{name:12} {seconds:8.3f} {len(cases) / seconds:9.0f} {n_posts / seconds:9.0f}")
    ratio = best["compiled"] / best["handwritten"]
    print(f"\nratio compiled/handwritten = {ratio:.2f}x"
          + ("" if ratio <= TARGET_RATIO else f"  (above the {TARGET_RATIO:g}x aim)"))

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(time_compiled, cases, compiled, params, crossing)
        print()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    return 0


def _describe_params(params: dict) -> str:
    return ", ".join(f"{name}={value}" for name, value in params.items()) or "none"


if __name__ == "__main__":
    sys.exit(main())
