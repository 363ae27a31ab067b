"""The takedown decision engine: evidence in, a decision that says why out.

The Python API for pre-submission checks from other tools. Load the rule sets once,
then evaluate as many requests as needed:

    from engine import Engine, parse_evidence

    engine = Engine.from_paths(["platform_policies"])     # raises RulesError on errors
    evidence, problems = parse_evidence(json_text)        # problems: list of Diagnostic
    if evidence is not None:
        decision = engine.check(evidence)                 # or as_of=, platform=, explain=
        decision.outcome, decision.likelihood             # "posts_removed", 0.94
        decision.as_json()                                # the CLI's and the service's JSON

Every value is immutable and JSON-serialisable through `as_json()`.
"""

from engine.api import Engine
from engine.decision import OUTCOMES, UNDETERMINED, Decision
from engine.evaluation import NoRulesetInForce, RulesError
from engine.evidence import Evidence, load_evidence, parse_evidence

__all__ = ["Engine", "RulesError", "NoRulesetInForce", "Decision", "OUTCOMES", "UNDETERMINED",
           "Evidence", "load_evidence", "parse_evidence"]
