"""The reports as documents: Markdown that shows evidence as written, HTML that is one
self-contained file, and JSON that is the same model both are written from."""

import re

import pytest

from engine.audit.blocks import Callout, Code, Heading, Link, Mark, Paragraph, Quote, Table
from engine.audit.consistency import case_report, replay
from engine.audit.overview import overview
from engine.audit.render import TEXT_WIDTH, to_html, to_markdown, to_text
from engine.audit.reports import case_blocks, case_title, overview_blocks, overview_title
from engine.audit.store import open_store


@pytest.fixture(scope="module")
def letter(sample_db, audit_engine):
    with open_store(sample_db, create=False) as store:
        case = store.find("NCA-2023-0412")
        return case_report(case, store.responses(case.id)[case.id],
                           store.disputes(case.id)[case.id], replay(audit_engine, case),
                           store.verify(), prepared="2026-01-02")


@pytest.fixture(scope="module")
def many(sample_db):
    with open_store(sample_db, create=False) as store:
        return overview(store.cases(), store.responses(), store.disputes(),
                        prepared="2026-01-02")


def test_evidence_text_cannot_become_markdown():
    text = to_markdown([Paragraph(("# not a heading *nor emphasis* <script>x</script> | [a](b)",)),
                        Quote(("- not a list\n> nor a quote",))])
    assert "\\# not a heading \\*nor emphasis\\* \\<script\\>" in text
    assert "\\| \\[a\\](b)" in text and "> \\- not a list\n> \\> nor a quote" in text


def test_evidence_text_cannot_become_html():
    page = to_html([Heading(1, "<b>title</b>"), Paragraph(("<img src=x onerror=alert(1)>",
                                                           Mark("<i>", "a \"note\""),
                                                           Link("here", 'https://x.example/"q'),
                                                           Code("<code>"))),
                    Table(("a",), (("<td>",),)), Callout("inconsistent", ("<p>",))], "<t>")
    assert "<img" not in page and "<b>" not in page and "<i>" not in page
    assert '<mark title="a &quot;note&quot;">&lt;i&gt;</mark>' in page
    assert 'href="https://x.example/&quot;q"' in page


def test_the_letter_says_what_an_auditor_needs(letter):
    text = to_markdown(case_blocks(letter))
    assert case_title(letter).startswith("Request NCA-2023-0412 to Facebook: Facebook's response "
                                         "falls short")
    for expected in ("On 12 April 2023, National Crime Agency (law enforcement, GB) asked "
                     "Facebook to remove the page “Safe Travel Europe”",
                     "On 19 April 2023, Facebook rejected the request, saying: “This Page "
                     "doesn't go against our Community Standards.”",
                     "**Inconsistent.** Facebook did less than its own published policy requires",
                     "> posts may not offer to carry out smuggling of people across borders",
                     "`meta.human-exploitation/smuggling-offer` (version 2022-12-07)",
                     "price **3000 pounds** [price, marked by analyst-7]",
                     "| `repeated-violations` | `page_violation_limit` (an estimate) | \\>= 5 | "
                     "2 of 4 | not met | 3 short |",
                     "The replay reproduces the decision recorded",
                     "Personal data was masked before storage (three matches of rule phone)",
                     "recomputing every hash found no break"):
        assert expected in text, expected
    assert "900123" not in text


def test_html_is_one_file_that_fetches_nothing(letter, many):
    for page in (to_html(case_blocks(letter), case_title(letter)),
                 to_html(overview_blocks(many), overview_title(many))):
        assert page.startswith("<!DOCTYPE html>") and "<script" not in page
        assert "default-src 'none'" in page and "@media print" in page
        # nothing is loaded: links only, no src=, no url(), no @import
        assert not re.search(r"\ssrc=|url\(|@import|<link\b", page)
    overview_page = to_html(overview_blocks(many), overview_title(many))
    assert overview_page.count("<svg") == 4  # platforms, clauses, acceptance, reliability


def test_the_overview_reads_as_a_summary(many):
    text = to_markdown(overview_blocks(many))
    totals = many["totals"]
    assert (f"**{totals['flagged']} flagged, {totals['closed']} closed, "
            f"{totals['no_action']} rejected.**") in text
    for heading in ("## By platform", "## Predicted and actual",
                    "### Clauses most often behind inconsistent rejections",
                    "## Acceptance over time", "## Calibration of the likelihoods", "## Cases"):
        assert heading in text
    assert "Brier score" in text and "| `meta.human-exploitation/smuggling-offer` |" in text


def test_text_shows_what_was_written_and_lines_up_what_fits():
    text = to_text([Heading(2, "A *title*"), Paragraph(("# not markup <x> " * 12,)),
                    Table(("name", "n"), (("a", (Code("1"),)), ("bb", "22")), numeric=(1,)),
                    Table(("case", "why"), (("C-1", "word " * 40),)),
                    Table(("a", "b", "c"), (("x" * 45, "y" * 45, "z" * 45),))])
    assert "A *title*\n---------" in text and "# not markup <x> # not markup" in text
    assert all(len(line) <= TEXT_WIDTH for line in text.splitlines() if " " in line.strip())
    assert "name   n\n----  --\na      1\nbb    22" in text
    assert "case  why\n----  ----" in text and "\n      word word" in text  # wrapped under "why"
    assert f"{'x' * 45} (a)\n    b: {'y' * 45}\n    c: {'z' * 45}" in text  # too wide: records


def test_the_overview_reads_in_a_terminal(many):
    text = to_text(overview_blocks(many))
    totals = many["totals"]
    assert text.startswith("Takedown requests and platform responses\n=====")
    assert (f"{totals['flagged']} flagged, {totals['closed']} closed, "
            f"{totals['no_action']} rejected.") in text
    assert "Rejections, as the platforms explained them\n-----" in text
    assert "`" not in text and "**" not in text


def test_an_empty_selection_still_reports(tmp_path):
    with open_store(tmp_path / "empty.db") as store:
        model = overview(store.cases(), store.responses(), store.disputes())
    text = to_markdown(overview_blocks(model))
    assert "**0 flagged, 0 closed, 0 rejected.**" in text and "No case matches." in text
    assert "<svg" not in to_html(overview_blocks(model), "empty")
