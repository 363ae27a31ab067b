"""The engine as its users call it: `Engine.check` and `Engine.explain`.

The layers meet here, from the bottom up: `engine.evaluation` runs the rule sets in
force (the fast path); `engine.probability` weighs the outcomes over the unknown facts
that matter when the runs leave the outcome open; `engine.explanation` adds, when
asked, the traced path: reasons with their evidence, thresholds with their margins,
exceptions, the missing facts, and the full trace. None of them imports a layer above
it; `Engine` hands itself down to the weighing and the explanation, which call back its
`run` and `weigh` for their what-ifs.
"""

from __future__ import annotations

import datetime

from engine.decision import Decision
from engine.evaluation import Evaluator, RulesetRun, bounds_of, decide
from engine.evidence import Evidence
from engine.explanation import TraceLine, trace
from engine.explanation import explain as add_explanations
from engine.probability import Weighing, weigh

__all__ = ["Engine"]


class Engine(Evaluator):
    """Rule sets loaded and compiled once, for many decisions, explained or not."""

    def check(self, evidence: Evidence, as_of: datetime.date | None = None,
              platform: str | None = None, explain: bool = True,
              missing: bool = True) -> Decision:
        """Predict the platform's response to the request in `evidence`. `explain=False`
        is the fast path; `missing=False` explains without searching for the missing
        facts, which is most of what an explanation costs on partial evidence."""
        runs, day, name = self.run(evidence, as_of, platform)
        each = [run.bounds() for run in runs]
        weighing = self.weigh(evidence, runs, day, name, each=each)
        decision = decide(evidence, runs, day, name, weighing, each)
        if explain:
            decision = add_explanations(self, evidence, runs, decision, weighing, missing)
        return decision

    def weigh(self, evidence: Evidence, runs: list[RulesetRun], day: datetime.date,
              platform: str, assumed=(), each=None) -> Weighing | None:
        """The outcomes weighed over the unknown facts that matter, or None when the
        evidence (with the facts `assumed`) settles the outcome. `each` are the runs'
        bounds, when already known."""
        if not assumed:
            lower, upper = bounds_of(runs, each)
            if lower == upper:
                return None
        return weigh(self, evidence, day, platform, runs, assumed)

    def explain(self, evidence: Evidence, as_of: datetime.date | None = None,
                platform: str | None = None) -> tuple[Decision, list[TraceLine]]:
        """The full decision and the evaluation trace of every rule, from one evaluation
        (`takedown explain`)."""
        runs, day, name = self.run(evidence, as_of, platform)
        weighing = self.weigh(evidence, runs, day, name)
        decision = add_explanations(self, evidence, runs, decide(evidence, runs, day, name, weighing),
                                    weighing)
        return decision, trace(evidence, runs)
