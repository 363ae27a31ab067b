"""The registry of diagnostic codes: one place that names every problem a user can cause.

A code is a family letter and three digits and never changes meaning once published:
Y the YAML file itself, S structure (JSON Schema), P expression syntax, N names,
T types and units, R rules and exceptions, V versions and dates, L limits on untrusted
input, W drafting advice, E evidence, X signal extraction, D statements of reasons from the
EU DSA Transparency Database (`takedown audit import --format dsa-sor`), B batches run on a Dask
cluster (`takedown check --batch --dask`). `takedown explain-code CODE` prints the entry.
Every code has a test that produces it (tests/rules/test_codes.py).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Code", "REGISTRY", "severity", "explain"]


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    severity: str  # error, warning or note
    title: str
    explanation: str


_CODES = [
    # Y: the YAML file
    Code("Y001", "error", "the file is not valid YAML",
         "The YAML parser could not read the file. The position points at the first character "
         "it could not make sense of; the problem is often an indentation step or an unclosed "
         "quote just before it."),
    Code("Y002", "error", "a key appears twice in one mapping",
         "YAML would silently keep only the last value, so a rule or a parameter could vanish "
         "without a word. Rename one of the keys or merge them."),
    Code("Y003", "error", "anchors and aliases are not allowed",
         "Rule files must say everything in place. Anchors (&name) and aliases (*name) are "
         "refused because a few of them can expand into an enormous document (the 'billion "
         "laughs' attack) and because they hide what a rule really says."),
    Code("Y004", "error", "unsupported YAML tag",
         "Only plain YAML values are accepted (mappings, lists, strings, numbers, booleans, "
         "dates). Tags such as !!python/object are refused: rule files are untrusted input."),
    Code("Y005", "error", "the file cannot be read",
         "The file does not exist, is not readable, or is not UTF-8 text."),
    # L: limits on untrusted input
    Code("L001", "error", "the file is too large",
         "Rule files are limited in size to protect the process that loads them. Split a very "
         "large rule set into several rule sets."),
    Code("L002", "error", "the file is nested too deeply",
         "Mappings and lists may be nested only so deep. Rule files never need deep nesting; a "
         "deeply nested file is most likely broken or hostile."),
    Code("L003", "error", "the expression is too long",
         "A condition may be at most a few thousand characters long. Split it into several "
         "rules and refer to them with `violates`."),
    Code("L004", "error", "the expression is nested too deeply",
         "Parentheses and operators may be nested only so deep."),
    Code("L005", "error", "the regular expression is too large",
         "A pattern may be at most a few hundred characters and must compile to a small "
         "automaton. Use a lexicon and `mentions` for long word lists."),
    Code("L006", "error", "the file has too many entries",
         "A rule set may hold only so many rules, parameters, lexicon entries or tests."),
    # S: structure
    Code("S001", "error", "a required key is missing",
         "The rule-set format requires this key here. See rules/ruleset.schema.json or "
         "docs/language.md for the format."),
    Code("S002", "error", "unknown key",
         "This key is not part of the rule-set format at this place. It is probably misspelt; "
         "keys starting with `x-` are free for extensions."),
    Code("S003", "error", "a value has the wrong type",
         "The format expects another kind of value here (for example a list instead of a "
         "string, or a date written as YYYY-MM-DD)."),
    Code("S004", "error", "a value is not allowed here",
         "The value is outside what the format accepts here (a verdict that does not exist, a "
         "confidence above 1, an id with capital letters...)."),
    # P: expression syntax
    Code("P001", "error", "syntax error in a condition",
         "The condition could not be parsed at this character. The hint lists what the "
         "language expected there."),
    Code("P002", "error", "the condition ends too early",
         "The condition stops in the middle of a construct: an operator without its right "
         "side, an unclosed parenthesis or list, a quantifier without its closing `)`."),
    Code("P003", "error", "invalid literal",
         "A date that does not exist (2023-02-30), a string with a bad escape, or a number "
         "that cannot be read."),
    Code("P004", "error", "invalid regular expression",
         "The pattern after `matches` is not valid RE2 syntax. RE2 runs in linear time and "
         "therefore has no back-references or look-around."),
    # N: names
    Code("N001", "error", "unknown evidence field",
         "The path does not name a field of the evidence vocabulary shared with the engine "
         "(docs/language.md lists it). It is probably misspelt: see the suggestion."),
    Code("N002", "error", "unknown name",
         "A bare name must be a parameter of this rule set or a variable bound by a "
         "quantifier such as `any(p in page.posts where ...)`."),
    Code("N003", "error", "unknown lexicon",
         "`mentions` must name a lexicon declared under `lexicons:` in the same file."),
    Code("N004", "error", "unknown rule",
         "`violates` and `overrides` must name a rule of the same rule set."),
    Code("N005", "error", "not available in this rule",
         "A post rule sees `post`, `page` and `request`; a page rule sees `page` and "
         "`request`; a request rule sees `request` and `page`. To look at posts from a page "
         "rule, use a quantifier: `any(p in page.posts where ...)`."),
    Code("N006", "error", "a variable hides another name",
         "A quantifier variable must not reuse the name of an evidence root (post, page, "
         "request), a parameter or an enclosing variable."),
    Code("N007", "error", "unknown source",
         "A citation must name a source declared under `sources:` in the same file."),
    Code("N009", "error", "policy results are not available here",
         "`post.policy` and `page.policy` hold what the platform's policy rule sets concluded. "
         "The engine fills them after evaluating the policy rule sets, so only rule sets of "
         "kind `enforcement` or `legal` can read them."),
    Code("N008", "error", "a rule id is used twice",
         "Rules and exceptions share one namespace within a rule set, so that `violates` and "
         "reports are never ambiguous."),
    # T: types and units
    Code("T001", "error", "operands of different types",
         "The two sides cannot be compared or combined: for example a date with a number, or "
         "text with a count."),
    Code("T002", "error", "units do not match",
         "A money amount, a count, a ratio and a duration are different units: a price cannot "
         "be compared with a number of posts. Check which parameter or field was meant."),
    Code("T003", "error", "a condition must be true or false",
         "`when:`, the operands of `and`, `or`, `not` and the `where` of a quantifier must be "
         "conditions, not values such as a number or a text."),
    Code("T004", "error", "not a collection",
         "Quantifiers and `in` need a list: for example `page.posts` or "
         "`post.signals.contacts`."),
    Code("T005", "error", "not a text",
         "`contains`, `matches` and `mentions` work on text fields such as `post.text` or "
         "`post.translation`."),
    Code("T006", "error", "different currencies",
         "Two literal amounts in different currencies are compared. The language has no "
         "exchange rates: compare amounts in one currency or use two conditions."),
    Code("T007", "error", "wrong subject for this rule",
         "`violates` asks about a rule on the kind of thing it applies to: a post rule about "
         "a post, a page rule about `page`."),
    Code("T008", "error", "a prior must be about a yes/no fact, a date, a count or a list",
         "A prior gives the probability that a fact is true, so its `fact:` must name a "
         "yes/no field of the evidence (post.context.academic, page.signals.dedicated), a "
         "date (post.posted: the probability that it is recent, inside the windows rules "
         "count over), a count (page.signals.prior_strikes: the probability that there are "
         "some) or a list (post.signals.contacts: the probability that it has items); not "
         "another number, a text or a record, and not a result the engine derives "
         "(post.policy...)."),
    # R: rules and exceptions
    Code("R001", "error", "rules refer to each other in a cycle",
         "A rule's condition depends, through `violates`, on its own verdict. Break the cycle: "
         "one of the rules must be decided without the other."),
    Code("R002", "warning", "the exception can never apply",
         "The exception's condition is false whenever the rule's own condition is true (or is "
         "always false), so it never overrides anything."),
    Code("R003", "error", "exceptions conflict without precedence",
         "Two exceptions of one rule give different verdicts and have the same priority, so "
         "if both applied nothing would say which wins. Give them different `priority:` "
         "values."),
    Code("R004", "warning", "the exception does not change the verdict",
         "An exception that gives the same verdict as the rule it belongs to has no effect."),
    Code("R006", "error", "the rule asks about a rule decided after it",
         "Post rules are decided first, then page rules, then request rules. A post rule "
         "cannot ask whether the page violates a page rule, because that is not yet known "
         "when posts are judged; turn the question around, or move the rule to the later level."),
    Code("R005", "error", "verdict not allowed for this rule",
         "`allowed` is the verdict of an exception, not of a rule; `remove_page` applies to the "
         "page, and a post rule cannot remove a page by itself."),
    # V: versions and dates
    Code("V001", "error", "versions overlap",
         "Two versions of one rule set are in force on the same day. Each version runs from "
         "its `effective.from` to the next version's start; set `until:` or fix the dates."),
    Code("V002", "warning", "gap between versions",
         "No version of the rule set is in force between two versions. If the policy really "
         "did not exist then, ignore this; otherwise move a date."),
    Code("V003", "error", "a parameter has no value on a date it is needed",
         "A parameter's (or a prior's) first dated value is later than the start of the rule "
         "set, so rules using it could not be evaluated at the start."),
    Code("V004", "error", "the effective period is empty",
         "`effective.until` must come after `effective.from`."),
    Code("V005", "error", "the same version appears twice",
         "Two files declare the same rule-set id and version label."),
    Code("V006", "error", "a parameter value has the wrong unit",
         "A count must be a whole number of at least 0, a ratio a number between 0 and 1, a "
         "duration a whole number of days, and money an amount with a currency."),
    Code("V007", "error", "no rule set is in force",
         "No version of a rule set for this platform is in force on the date asked for."),
    # W: drafting advice
    Code("W001", "note", "the figure is an estimate",
         "The platform does not publish this number; the rule set uses an estimate and says "
         "where it comes from. Decisions that hinge on it are only as good as the estimate."),
    Code("W002", "warning", "the source was read before this version took effect",
         "The source was retrieved before the date this version of the rule set starts, so "
         "what was read cannot be the wording this version encodes. Read the page as it "
         "stood from the effective date (an archived copy will do) and update `retrieved`."),
    Code("W003", "warning", "a lexicon entry can never match",
         "After normalisation (case folding, accents stripped) the entry has no letters or "
         "digits left, so it matches nothing."),
    Code("W004", "warning", "the parameter is never used",
         "No rule refers to this parameter. Remove it or use it."),
    Code("W005", "warning", "the lexicon is never used",
         "No rule `mentions` this lexicon."),
    Code("W006", "warning", "the paraphrase is empty",
         "A citation's `says` is blank, a placeholder such as TODO, or only repeats the "
         "section heading or the source's title, so a reader cannot tell what the clause "
         "requires. State it in your own words (`takedown lint --drafting`)."),
    Code("W007", "warning", "the source was retrieved long ago",
         "The source was read more than a year (or `--stale-after` days) before the date "
         "the lint ran for (`--today`). Policies change; read it again, update the rules if "
         "the text changed, then update `retrieved` (`takedown lint --drafting`)."),
    Code("W008", "warning", "the rule copies the source's words",
         "A paraphrase (`says`), or a rule's title, description or message, shares a run of "
         "eight words or more with the cited source: one of its `excerpts:`, its title or "
         "its note. Rule files paraphrase policies and laws; the source's own words belong "
         "in its `excerpts:` only, where they are kept for this check "
         "(`takedown lint --drafting`)."),
    Code("W009", "warning", "the source's retrieval date is in the future",
         "The source is said to have been read after the date the lint ran for "
         "(`--today`), which is most likely a typing mistake in `retrieved` "
         "(`takedown lint --drafting`)."),
    # E: evidence (the engine's input)
    Code("E001", "error", "the evidence is not valid JSON",
         "The evidence document could not be parsed as JSON."),
    Code("E002", "error", "the evidence does not follow the evidence schema",
         "A field is missing, has the wrong type or is not part of the evidence format. The "
         "JSON pointer says where; engine/evidence.schema.json is the format."),
    Code("E003", "error", "the evidence is too large",
         "Evidence documents are limited in size and number of posts to protect the process."),
    Code("E004", "error", "the evidence cannot be read",
         "The file does not exist or is not UTF-8 text."),
    Code("E005", "error", "the evidence contradicts itself",
         "For example an annotation names a post that does not exist, or a text span lies "
         "outside the post's text."),
    # X: signal extraction (takedown extract)
    Code("X001", "error", "the text is not UTF-8",
         "The extractor reads text only as UTF-8; the message gives the offset of the first "
         "byte that is not. Nothing was read from this text. Convert it to UTF-8 and send it "
         "again."),
    Code("X002", "note", "only the beginning of a text was read",
         "The extractor reads at most the first 100,000 characters of one text, so that a "
         "huge post cannot hold up the others. Signals found there are reported; none is "
         "ruled out for the text, since the part not read could hold it. Split the text to "
         "have all of it read."),
    # D: statements of reasons from the EU DSA Transparency Database (takedown audit import)
    Code("D001", "error", "the statements file cannot be read",
         "The file is not UTF-8 text, not CSV with the database's column names on its first "
         "line, not JSON (one statement, a list, {\"statements\": [...]} or one statement a "
         "line), or a row does not have as many cells as the header names columns. The line "
         "or JSON pointer says where. Nothing was imported."),
    Code("D002", "error", "the statements file is too large",
         "A file of statements is read whole, so it is limited in bytes and in statements "
         "(docs/audit.md). Keep only the platforms concerned, or split the file by day. "
         "Nothing was imported."),
    Code("D003", "error", "a statement lacks a field it needs",
         "Every statement needs its application_date (the response's date), and a statement "
         "that restricts anything needs its decision_ground. Nothing was imported."),
    Code("D004", "error", "a value is not one the database documents",
         "Limited fields (decision_visibility, decision_account, decision_ground, category, "
         "source_type, territorial_scope...) take only the keys the DSA Transparency "
         "Database's API documentation lists, e.g. DECISION_VISIBILITY_CONTENT_REMOVED. The "
         "hint lists some of them. Nothing was imported."),
    Code("D005", "error", "a date is not a date",
         "content_date and application_date are written YYYY-MM-DD (the dumps add a time, "
         "which is ignored). Nothing was imported."),
    Code("D006", "error", "a text is longer than the database allows",
         "The database limits its free-text fields (500 characters for grounds, 2,000 for "
         "explanations, 5,000 for the facts); a longer one did not come from it. Nothing was "
         "imported."),
    Code("D007", "note", "a statement answers no recorded case",
         "No case in the store has the statement's PUID or URL, nor its platform and content "
         "date; or the one that has them was submitted after the statement applied. The "
         "statement is listed, and written to --unmatched FILE when given; the others are "
         "imported."),
    Code("D008", "note", "a statement fits more than one case",
         "The statement's platform and content date (or PUID) fit several recorded cases, so "
         "it is not recorded against any. It is listed with the cases, and written to "
         "--unmatched FILE when given; record its response by hand with takedown audit "
         "respond."),
    # B: batches on a Dask cluster (engine.cluster)
    Code("B001", "error", "Dask is not installed",
         "--dask, --output and Parquet need the optional dask extra (distributed and "
         "pyarrow), which a plain installation leaves out. Install it with pip install "
         "'takedown[dask]'; batches on one machine need nothing more."),
    Code("B002", "error", "no Dask scheduler answers at the address",
         "The client could not connect to the scheduler within ten seconds. Check the "
         "address (tcp://host:8786) and that the scheduler and its workers run, or use "
         "--dask local for a cluster on this machine."),
    Code("B003", "error", "the Parquet input cannot be read",
         "A Parquet input holds one evidence document per row, as JSON text in a column "
         "named evidence. The file could not be opened as Parquet, or it has no such column; "
         "nothing was decided."),
]

REGISTRY: dict[str, Code] = {c.code: c for c in _CODES}


def severity(code: str) -> str:
    entry = REGISTRY.get(code)
    return entry.severity if entry else "error"


def explain(code: str) -> Code | None:
    return REGISTRY.get(code.upper())
