"""The JSON documents the command line and the HTTP service both give besides a bare
decision, built in one place so that a client can switch between the two freely:
rule-set metadata (`takedown versions --format json`, `GET /v1/rulesets`), explanations
(`takedown explain --format json`, `POST /v1/explain`) and the diagnostic for a request
no rule set covers. The schemas are in engine/service/service.schema.json.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import rules
from engine.decision import Decision
from engine.evaluation import NoRulesetInForce

__all__ = ["ruleset_json", "explanation_json", "no_ruleset_diagnostic"]


def ruleset_json(ruleset: rules.RuleSet, path: str) -> dict:
    """One rule-set version; `path` is its file relative to the rule-set directory."""
    out = ruleset.identity()
    out.update({"title": ruleset.title, "surfaces": list(ruleset.surfaces), "path": path,
                "rules": [r.id for r in ruleset.all_rules()],
                "sources": [s.as_json() for s in ruleset.sources.values()]})
    return out


def explanation_json(decision: Decision, lines: Sequence) -> dict:
    """The decision with its trace; values without a JSON form are left for the encoder
    to give as text (`json.dumps(..., default=str)`), as the command line does."""
    return {"decision": decision.as_json(),
            "trace": [{f.name: getattr(line, f.name) for f in dataclasses.fields(line)}
                      for line in lines]}


def no_ruleset_diagnostic(error: NoRulesetInForce, name: str) -> rules.Diagnostic:
    return rules.Diagnostic("V007", str(error), rules.Location(name),
                            hint="check the platform and the date, or add a rule set")
