"""`takedown diff`: what changed between two versions of a rule set, and which decisions
it turns (engine.authoring.diffing)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import rules
from engine.authoring.diffing import (
    compare_corpus,
    compare_rulesets,
    corpus_evidence,
    dates_rule,
    render_changes_markdown,
    render_changes_text,
    render_decision_markdown,
    render_decision_text,
    render_json,
)
from engine.cli.common import (
    DEFAULT_RULES,
    EXIT_EVIDENCE,
    EXIT_OK,
    EXIT_RULES,
    EXIT_USAGE,
    date_argument,
    sources_of,
)


def register(sub) -> None:
    diff = sub.add_parser("diff", help="what changed between two versions of a rule set, "
                          "and which decisions it turns")
    diff.add_argument("old", help="the earlier rule file")
    diff.add_argument("new", help="the later rule file")
    diff.add_argument("--corpus", metavar="DIR",
                      help="judge every evidence file under DIR with both versions and list "
                      "the decisions that differ")
    diff.add_argument("--rules", help="the other rule sets (default: the bundled rule sets)")
    diff.add_argument("--as-of", type=date_argument, metavar="YYYY-MM-DD",
                      help="start from this date instead of each request's submission date")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.set_defaults(run=cmd_diff)


def _report_errors(diagnostics: list[rules.Diagnostic], what: str) -> None:
    errors = [d for d in diagnostics if d.is_error]
    print(rules.render_text(errors, sources_of(errors)), file=sys.stderr)
    print(f"takedown diff: {what} has {len(errors)} error{'s' if len(errors) != 1 else ''}; "
          "run `takedown lint`", file=sys.stderr)


def cmd_diff(args) -> int:
    missing = [p for p in (args.old, args.new, args.corpus, args.rules)
               if p is not None and not Path(p).exists()]
    if missing:
        print(f"takedown diff: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    versions = []
    for path in (args.old, args.new):
        ruleset, diagnostics = rules.load_ruleset(path)
        if ruleset is None:
            _report_errors(diagnostics, path)
            return EXIT_RULES
        versions.append(ruleset)
    old, new = versions
    changes = compare_rulesets(old, new)
    corpus = None
    if args.corpus:
        registry, diagnostics = rules.load_registry([args.rules or DEFAULT_RULES])
        if rules.has_errors(diagnostics):
            _report_errors(diagnostics, "the rule-set directory")
            return EXIT_RULES
        from engine.progress import track

        files = corpus_evidence(Path(args.corpus), lambda files: track(
            files, "judging the corpus", unit=" requests"))
        corpus = compare_corpus(old, new, registry, files, args.as_of)
    dates = dates_rule(old, new, args.as_of)
    if args.format == "json":
        print(render_json(old, new, changes, corpus, dates))
    else:
        print("\n".join(_render_report(args, old, new, changes, corpus, dates)))
    if corpus is not None and corpus.problems:
        print(rules.render_text(corpus.problems, {}), file=sys.stderr)
        return EXIT_EVIDENCE
    return EXIT_OK


def _render_report(args, old, new, changes, corpus, dates) -> list[str]:
    markdown = args.format == "markdown"
    titles = (f"{old.version}", f"{new.version}")
    heading = f"{old.id} {old.version} -> {new.id if new.id != old.id else ''}{new.version}"
    out = [f"## {heading}" if markdown else heading, ""]
    for word, r in (("old", old), ("new", new)):
        until = f", until {r.effective_until}" if r.effective_until else ""
        line = f"{word}: {r.path} (from {r.effective_from}{until}, sha256 {r.sha256[:12]})"
        out.append(f"- {line}" if markdown else line)
    if changes:
        out += render_changes_markdown(changes) if markdown else render_changes_text(changes)
    else:
        out += ["", "The two versions say the same thing (only layout or comments differ)."]
    if corpus is None:
        return out
    compared = {old.id, new.id}
    summary = (f"{corpus.checked} request{'s' if corpus.checked != 1 else ''} of "
               f"{args.corpus} judged under both versions; "
               f"{len(corpus.flips)} change outcome, "
               f"{len(corpus.changed) - len(corpus.flips)} change only in bounds, posts, "
               f"reasons or likelihood")
    if corpus.not_covered:
        summary += f"; {len(corpus.not_covered)} about platforms neither version covers"
    paragraphs = [f"{dates[0].upper()}{dates[1:]}.", summary + "."]
    if not markdown:
        paragraphs = ["\n".join(textwrap.wrap(x, 88)) for x in paragraphs]
    out += ["", "### Decisions" if markdown else "Decisions", "", paragraphs[0], "",
            paragraphs[1]]
    for change in corpus.changed:
        out.append("")
        if markdown:
            out += render_decision_markdown(change, titles, compared)
        else:
            out += render_decision_text(change, titles, compared)
    return out
