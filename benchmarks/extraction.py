"""Signal extraction against the labelled posts: precision and recall per signal and per
language, and posts read per second.

The posts are in benchmarks/extraction/posts/LANG.jsonl, labelled before the extractor
was written, and benchmarks/extraction/heldout/LANG.jsonl, labelled before the extractor
first read them and never tuned on (benchmarks/extraction/README.md gives the
conventions); each set is scored apart. Each post is read on
its own, as `Extractor.read` reads a text, with its language as the hint for national
phone numbers.

Scoring, per signal:
- price and payment: a value extracted is right when it equals the label (amount and
  currency); a wrong value counts against precision and recall both;
- contacts: each (kind, value) pair is matched against the labelled pairs;
- yes/no signals: an extracted `true` is scored against the labelled trues (precision,
  recall); an extracted `false` is scored on its own ("false precision": the share of the
  falses the extractor asserted that are right), since a wrong false settles a rule the
  wrong way as surely as a wrong true.

Run: .venv/bin/python benchmarks/extraction.py [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Engine  # noqa: E402
from engine.extraction import Extractor  # noqa: E402

POSTS = Path(__file__).resolve().parent / "extraction" / "posts"
HELD_OUT = Path(__file__).resolve().parent / "extraction" / "heldout"
FLAGS = ("offers_crossing", "solicits_smuggling", "offers_documents", "offers_visa",
         "guarantees_visa", "guarantee", "offers_work")
SIGNALS = ("price", "contacts", *FLAGS, "payment")


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    false_right: int = 0   # extracted false, labelled false
    false_wrong: int = 0   # extracted false, labelled true

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def false_precision(self) -> float | None:
        asserted = self.false_right + self.false_wrong
        return self.false_right / asserted if asserted else None

    def as_json(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "tp": self.tp,
                "fp": self.fp, "fn": self.fn, "false_precision": self.false_precision,
                "falses": self.false_right + self.false_wrong}


@dataclass
class Report:
    posts: int = 0
    seconds: float = 0.0
    by_signal: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    by_language: dict[str, dict[str, Score]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Score)))
    errors: list[str] = field(default_factory=list)

    @property
    def posts_per_second(self) -> float:
        return self.posts / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict:
        return {"posts": self.posts, "posts_per_second": round(self.posts_per_second, 1),
                "signals": {k: v.as_json() for k, v in self.by_signal.items()},
                "languages": {lang: {k: v.as_json() for k, v in scores.items()}
                              for lang, scores in self.by_language.items()}}


def load_posts(directory: Path = POSTS) -> list[dict]:
    posts = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                post = json.loads(line)
                post["language"] = path.stem
                posts.append(post)
    return posts


def _label_contacts(labels: dict) -> set[tuple[str, str | None]]:
    return {(c[0], c[1] if len(c) > 1 else None) for c in labels.get("contacts", ())}


def score(extractor: Extractor, posts: list[dict], repeat: int = 1) -> Report:
    """Read every post and score the readings against the labels."""
    report = Report()
    readings = []
    started = time.perf_counter()
    for _ in range(repeat):
        readings = [extractor.read(p["text"], p["language"])[0] for p in posts]
    report.seconds = time.perf_counter() - started
    report.posts = len(posts) * repeat
    for post, reading in zip(posts, readings, strict=True):
        labels = post["labels"]
        got = {name: finding.value for name, finding in reading.signals.items()}
        scores = [report.by_signal, report.by_language[post["language"]]]
        _score_value("price", _price(got.get("price")), _price(labels.get("price")), scores,
                     post, report)
        _score_value("payment", got.get("payment"), labels.get("payment"), scores, post, report)
        extracted = {(c["kind"], c.get("value")) for c in got.get("contacts") or ()}
        expected = _label_contacts(labels)
        for table in scores:
            table["contacts"].tp += len(extracted & expected)
            table["contacts"].fp += len(extracted - expected)
            table["contacts"].fn += len(expected - extracted)
        if extracted != expected:
            report.errors.append(f"{post['id']} contacts: missing {sorted(expected - extracted, key=str)} "
                                 f"extra {sorted(extracted - expected, key=str)}")
        for flag in FLAGS:
            truth = bool(labels.get(flag, False))
            value = got.get(flag)
            for table in scores:
                entry = table[flag]
                if value is True:
                    entry.tp += truth
                    entry.fp += not truth
                elif truth:
                    entry.fn += 1
                if value is False:
                    entry.false_right += not truth
                    entry.false_wrong += truth
            if (value is True) != truth or (value is False and truth):
                report.errors.append(f"{post['id']} {flag}: labelled {truth}, extracted {value}")
    return report


def _price(value) -> tuple | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return float(value["amount"]), value["currency"]
    return float(value[0]), value[1]


def _score_value(name, got, expected, scores, post, report) -> None:
    for table in scores:
        entry = table[name]
        if got is not None and got == expected:
            entry.tp += 1
        else:
            entry.fp += got is not None
            entry.fn += expected is not None
    if got != expected:
        report.errors.append(f"{post['id']} {name}: labelled {expected}, extracted {got}")


def _percent(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def render(report: Report, title: str, directory: Path = POSTS) -> str:
    lines = [f"{title}: {report.posts} posts read, {report.posts_per_second:,.0f} posts per second",
             "",
             "signal               precision  recall   false precision (falses)"]
    for name in SIGNALS:
        s = report.by_signal[name]
        lines.append(f"{name:<20} {_percent(s.precision)}    {_percent(s.recall)}   "
                     f"{_percent(s.false_precision)} ({s.false_right + s.false_wrong})")
    lines += ["", "language  posts  price P/R        contacts P/R     offers_crossing P/R"]
    counts: dict[str, int] = defaultdict(int)
    for post in load_posts(directory):
        counts[post["language"]] += 1
    for language in sorted(report.by_language):
        scores = report.by_language[language]
        cells = [f"{_percent(scores[n].precision)}/{_percent(scores[n].recall)}"
                 for n in ("price", "contacts", "offers_crossing")]
        lines.append(f"{language:<8} {counts[language]:>6}  " + "  ".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="times to read every post")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--errors", action="store_true", help="list every post scored wrong")
    args = parser.parse_args()
    engine = Engine.from_paths([ROOT / "platform_policies"])
    extractor = Extractor.from_rulesets(engine.registry)
    reports = {"tuned": score(extractor, load_posts(POSTS), args.repeat),
               "held_out": score(extractor, load_posts(HELD_OUT), args.repeat)}
    if args.json:
        print(json.dumps({name: r.as_json() for name, r in reports.items()}, indent=2))
        return
    print(render(reports["tuned"], "labelled posts (benchmarks/extraction/posts)", POSTS))
    print()
    print(render(reports["held_out"], "held-out posts (benchmarks/extraction/heldout)",
                 HELD_OUT))
    if args.errors:
        for name, report in reports.items():
            print(f"\n{name}:\n" + "\n".join(report.errors))


if __name__ == "__main__":
    main()
