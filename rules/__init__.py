"""The takedown rule language: versioned YAML rule sets whose conditions are written in
a small expression language, checked before anything runs and compiled to Python.

The stages run one way, each collecting diagnostics:
read YAML -> check structure -> parse conditions -> resolve names -> check types ->
compile -> register versions.

`engine` uses the language only through the names listed here.
"""

from rules import codes, drafting, runtime, vocabulary
from rules.checker import Scope, check_condition
from rules.compiler import CompiledRuleSet, compile_ruleset, evaluation_order
from rules.diagnostics import (
    Diagnostic,
    ExpressionOrigin,
    Location,
    SourceText,
    has_errors,
    sorted_diagnostics,
    suggest,
)
from rules.evaluation import Evaluation, RuleResult, run_rules
from rules.lexicon import Lexicon, normalize
from rules.loader import load_ruleset, load_text, ruleset_schema
from rules.nodes import Money
from rules.parser import parse
from rules.printer import changed_parts, unparse, unparse_pretty
from rules.reference import NullTracer, RecordingTracer, Tracer, evaluate
from rules.registry import Registry, load_registry, rule_files
from rules.render import render_json, render_sarif, render_text, summary_line
from rules.ruleset import (
    KINDS,
    VERDICTS,
    Citation,
    Parameter,
    Prior,
    Rule,
    RuleSet,
    Source,
    TestCase,
)
from rules.runtime import Interval

__version__ = "0.1.0"

__all__ = [
    "codes", "drafting", "runtime", "vocabulary", "Scope", "check_condition", "CompiledRuleSet",
    "compile_ruleset", "evaluation_order", "Diagnostic", "ExpressionOrigin", "Location",
    "SourceText", "has_errors", "sorted_diagnostics", "suggest", "Lexicon", "normalize", "load_ruleset",
    "load_text", "ruleset_schema", "Money", "parse", "unparse", "unparse_pretty", "changed_parts",
    "NullTracer",
    "RecordingTracer", "Tracer", "evaluate", "Registry", "load_registry", "rule_files",
    "render_json", "render_sarif", "render_text", "summary_line", "VERDICTS", "Citation",
    "Parameter", "Prior", "Rule", "RuleSet", "Source", "TestCase", "KINDS", "Interval",
    "__version__", "Evaluation", "RuleResult", "run_rules",
]
