"""Evidence: every problem reported at once with its JSON pointer and a hint (codes
E001-E005, each produced here), the runtime form the rules read, the published schema
kept equal to the vocabulary, and the command line's exit codes around evidence and
rule sets."""

import copy
import datetime
import io
import json
import sys
from pathlib import Path

import pytest

from engine import load_evidence, parse_evidence
from engine.cli import main
from engine.evidence import MAX_EVIDENCE_BYTES, MAX_JSON_DEPTH
from engine.evidence_schema import SCHEMA_PATH, render
from rules import Money, vocabulary
from tests.engine.support import META, PINNED_RULES, decision_schema_errors

CONTEXT_FLAGS = list(vocabulary.RECORDS["context"])
RULE_FILE = PINNED_RULES / "meta" / "human-exploitation" / "2022-12-07.yaml"

VALID = {
    "request": {"id": "REQ-1", "submitted": "2024-05-01"},
    "target": {
        "platform": "facebook",
        "kind": "page",
        "posts": [
            {"id": "p1", "language": "en", "text": "Boat to England tonight.",
             "posted": "2024-04-20",
             "signals": {"offers_crossing": True, "price": {"amount": 2000, "currency": "GBP"}},
             "context": "none"},
            {"id": "p2", "language": "fr", "text": "Passage ce soir."},
        ],
    },
}


def document(**changes) -> dict:
    """A copy of VALID; `changes` maps a path such as "target.posts.0.id" to its value."""
    out = copy.deepcopy(VALID)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = out
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return out


def problems_of(doc) -> list[tuple[str, str]]:
    evidence, problems = parse_evidence(json.dumps(doc))
    assert evidence is None
    return [(d.code, d.pointer) for d in problems]


def test_valid_evidence_loads_without_problems():
    evidence, problems = parse_evidence(json.dumps(VALID), "case")
    assert problems == []
    assert (evidence.name, evidence.platform, evidence.submitted) == (
        "case", "facebook", datetime.date(2024, 5, 1))


# --- every problem at once, with pointers -------------------------------------------------------

def test_three_independent_errors_are_reported_together():
    doc = document(**{"request.submitted": "2024-13-01", "target.kind": "pgae"})
    doc["target"]["posts"][0]["signals"]["offers_crosing"] = True
    evidence, problems = parse_evidence(json.dumps(doc))

    assert evidence is None
    assert len(problems) == 3
    by_pointer = {d.pointer: d for d in problems}
    assert set(by_pointer) == {"/request/submitted", "/target/kind",
                               "/target/posts/0/signals/offers_crosing"}
    assert {d.code for d in problems} == {"E002"}
    typo = by_pointer["/target/posts/0/signals/offers_crosing"]
    assert typo.message == "unknown field `offers_crosing`"
    assert typo.hint == "did you mean `offers_crossing`?"
    assert by_pointer["/target/kind"].hint == "did you mean `page`?"
    assert by_pointer["/request/submitted"].hint == "write dates as YYYY-MM-DD"


@pytest.mark.parametrize(("changes", "pointer", "hint"), [
    ({"target.posts.0.signals.offers_crossing": "probably"},
     "/target/posts/0/signals/offers_crossing", "write true or false without quotes"),
    ({"target.posts.0.signals.offers_crossing": None},
     "/target/posts/0/signals/offers_crossing", "leave an unassessed signal out"),
    ({"target.posts.0.context": "nothing"}, "/target/posts/0/context", ""),
    ({"target.posts.1.id": [2]}, "/target/posts/1/id", ""),
    ({"target.followers": -1}, "/target/followers", ""),
])
def test_each_schema_problem_names_its_field(changes: dict, pointer: str, hint: str):
    evidence, problems = parse_evidence(json.dumps(document(**changes)))
    assert evidence is None
    assert [d.pointer for d in problems] == [pointer]
    assert problems[0].code == "E002"
    assert hint in problems[0].hint


def test_a_missing_required_field_is_named():
    doc = document()
    del doc["request"]["submitted"]
    evidence, problems = parse_evidence(json.dumps(doc))
    assert [(d.code, d.pointer, d.message) for d in problems] == [
        ("E002", "/request", "missing field `submitted`")]


def test_free_annotations_are_allowed_and_not_read():
    doc = document(**{"_comment": "kept", "x-source": "crawler"})
    doc["target"]["posts"][0]["x-note"] = "seen twice"
    evidence, problems = parse_evidence(json.dumps(doc))
    assert problems == []
    assert "x-note" not in evidence.posts[0]
    assert evidence.document["_comment"] == "kept"


# --- E001: not JSON --------------------------------------------------------------------------------

def test_bad_json_gives_its_line_and_column():
    text = '{\n  "request": {"id": "x",\n  "target": }\n}'
    evidence, problems = parse_evidence(text, "bad.json")
    assert evidence is None
    [problem] = problems
    assert problem.code == "E001"
    assert (problem.location.file, problem.location.line, problem.location.column) == (
        "bad.json", 3, 13)
    assert problem.hint


# --- E003: too large ----------------------------------------------------------------------------

def test_oversize_text_is_refused_before_parsing():
    evidence, problems = parse_evidence(b" " * (MAX_EVIDENCE_BYTES + 1))
    assert evidence is None
    assert [d.code for d in problems] == ["E003"]


def test_oversize_file_is_refused_before_reading(tmp_path: Path):
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(MAX_EVIDENCE_BYTES + 1)  # sparse: costs no disk space
    evidence, problems = load_evidence(path)
    assert evidence is None
    assert [d.code for d in problems] == ["E003"]
    assert str(MAX_EVIDENCE_BYTES) in problems[0].message


def test_deep_nesting_is_refused():
    nested = document()
    nested["target"]["x-deep"] = json.loads("[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5))
    assert [code for code, _ in problems_of(nested)] == ["E003"]
    evidence, problems = parse_evidence("[" * 100_000 + "]" * 100_000)
    assert evidence is None
    assert [d.code for d in problems] == ["E003"]


# --- E004: unreadable ------------------------------------------------------------------------------

def test_a_missing_file_cannot_be_read(tmp_path: Path):
    evidence, problems = load_evidence(tmp_path / "absent.json")
    assert evidence is None
    assert [d.code for d in problems] == ["E004"]


def test_a_directory_cannot_be_read_as_evidence(tmp_path: Path):
    evidence, problems = load_evidence(tmp_path)
    assert evidence is None
    assert [d.code for d in problems] == ["E004"]


def test_evidence_that_is_not_utf8_cannot_be_read(tmp_path: Path):
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(VALID).replace("Passage", "Trav\u00e9e").encode("latin-1"))
    evidence, problems = load_evidence(path)
    assert evidence is None
    assert [d.code for d in problems] == ["E004"]
    assert "UTF-8" in problems[0].hint


# --- E005: contradictions ---------------------------------------------------------------------------

def test_an_annotation_of_a_post_that_is_not_there():
    doc = document(annotations=[{"post": "p9", "span": [0, 4], "label": "price"}])
    assert problems_of(doc) == [("E005", "/annotations/0/post")]


@pytest.mark.parametrize(("field", "span"), [
    ("text", [0, 99]), ("text", [5, 2]), ("translation", [0, 1])])
def test_an_annotation_outside_the_text(field: str, span: list):
    # p2 has no translation, so any span of it lies outside.
    doc = document(annotations=[{"post": "p2", "field": field, "span": span, "label": "route"}])
    assert problems_of(doc) == [("E005", "/annotations/0/span")]


def test_an_annotation_inside_the_text_is_accepted():
    doc = document(annotations=[{"post": "p1", "span": [0, 4], "label": "route", "by": "a-1"}])
    evidence, problems = parse_evidence(json.dumps(doc))
    assert problems == []
    assert evidence is not None


def test_two_posts_with_one_id():
    doc = document(**{"target.posts.1.id": "p1"})
    assert problems_of(doc) == [("E005", "/target/posts/1/id")]


def test_contradictions_are_reported_together():
    doc = document(**{"target.posts.1.id": "p1"})
    doc["annotations"] = [{"post": "p7", "span": [0, 1], "label": "x"},
                          {"post": "p1", "span": [0, 999], "label": "y"}]
    assert sorted(problems_of(doc)) == [("E005", "/annotations/0/post"),
                                        ("E005", "/annotations/1/span"),
                                        ("E005", "/target/posts/1/id")]


# --- the runtime form -------------------------------------------------------------------------------

def test_context_none_means_every_context_flag_is_false():
    doc = document(**{"target.context": "none"})
    evidence, _ = parse_evidence(json.dumps(doc))
    assert evidence.posts[0]["context"] == dict.fromkeys(CONTEXT_FLAGS, False)
    assert evidence.target["context"] == dict.fromkeys(CONTEXT_FLAGS, False)
    assert "context" not in evidence.posts[1]  # left out: every flag unknown


def test_an_english_post_is_its_own_translation():
    doc = document()
    doc["target"]["posts"].append({"id": "p3", "language": "en", "text": "Hello",
                                   "translation": "Hello there"})
    evidence, _ = parse_evidence(json.dumps(doc))
    english, french, translated = evidence.posts
    assert english["translation"] == english["text"] == "Boat to England tonight."
    assert "translation" not in french
    assert translated["translation"] == "Hello there"
    assert "translation" not in evidence.document["target"]["posts"][0]  # as given


def test_dates_and_money_become_values():
    evidence, _ = parse_evidence(json.dumps(VALID))
    post = evidence.posts[0]
    assert post["posted"] == datetime.date(2024, 4, 20)
    assert post["signals"]["price"] == Money(2000, "GBP")
    assert evidence.pointer_of(post) == "/target/posts/0"
    assert evidence.pointer_of(post["signals"]) == "/target/posts/0/signals"


def test_the_published_evidence_schema_is_the_vocabulary():
    """Run `python -m engine.evidence_schema` when this fails."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render()


# --- the command line ---------------------------------------------------------------------------------

def _write(path: Path, doc) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_check_exits_3_on_invalid_evidence_and_prints_the_pointer(tmp_path: Path, capsys):
    doc = document()
    doc["target"]["posts"][0]["signals"]["offers_crosing"] = True
    path = _write(tmp_path / "typo.json", doc)

    assert main(["check", str(path), "--rules", str(PINNED_RULES)]) == 3
    err = capsys.readouterr().err
    assert "/target/posts/0/signals/offers_crosing" in err
    assert "E002" in err
    assert "did you mean `offers_crossing`?" in err


def test_explain_exits_3_on_invalid_evidence(tmp_path: Path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"request": ', encoding="utf-8")
    assert main(["explain", str(path), "--rules", str(PINNED_RULES)]) == 3
    assert "E001" in capsys.readouterr().err


def test_check_reads_stdin(monkeypatch, capsys):
    text = (META / "page-two-adverts.json").read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    assert main(["check", "-", "--rules", str(PINNED_RULES), "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["outcome"], printed["evidence"]["name"]) == ("posts_removed", "<stdin>")


@pytest.mark.parametrize("command", ["check", "explain"])
def test_a_missing_evidence_file_exits_2(tmp_path: Path, capsys, command: str):
    assert main([command, str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["check"], ["explain"], ["check", "--batch"]])
def test_rule_sets_with_an_error_exit_4(tmp_path: Path, capsys, command: list):
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    text = RULE_FILE.read_text(encoding="utf-8")
    assert "when: post.signals.solicits_smuggling\n" in text
    (rules_dir / RULE_FILE.name).write_text(
        text.replace("when: post.signals.solicits_smuggling\n",
                     "when: post.signals.solicits_smugling\n"), encoding="utf-8")
    evidence = META / "request-for-smuggler.json"
    if command[-1] == "--batch":
        evidence = _write(tmp_path / "one.ndjson", json.loads(evidence.read_text("utf-8")))

    assert main([*command, str(evidence), "--rules", str(rules_dir)]) == 4
    err = capsys.readouterr().err
    assert "N001" in err
    assert "solicits_smugling" in err


def test_a_date_no_rule_set_covers_exits_4(tmp_path: Path, capsys):
    path = META / "page-two-adverts.json"
    assert main(["check", str(path), "--rules", str(PINNED_RULES), "--as-of", "2010-01-01"]) == 4
    assert "V007" in capsys.readouterr().err

    batch = tmp_path / "one.ndjson"
    batch.write_text(json.dumps(json.loads(path.read_text("utf-8"))) + "\n", encoding="utf-8")
    assert main(["check", "--batch", str(batch), "--rules", str(PINNED_RULES),
                 "--as-of", "2010-01-01"]) == 4
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["line"] == 1
    assert [d["code"] for d in record["error"]] == ["V007"]


def test_a_date_that_is_not_a_date_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["check", str(META / "page-two-adverts.json"), "--as-of", "12/04/2023"])
    assert exit_.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_batch_writes_one_decision_per_line(tmp_path: Path, capsys):
    lines = [json.dumps(json.loads((META / name).read_text(encoding="utf-8")))
             for name in ("page-two-adverts.json", "page-dedicated-to-crossings.json")]
    bad = document()
    bad["target"]["posts"][0]["signals"]["offers_crosing"] = True
    lines[1:1] = ["", json.dumps(bad), "{not json"]
    lines.append(json.dumps(json.loads((META / "asylum-question-allowed.json").read_text("utf-8"))))
    batch = tmp_path / "requests.ndjson"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert main(["check", "--batch", str(batch), "--rules", str(PINNED_RULES)]) == 3
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert len(out) == 5  # the blank line is skipped, and still counted
    good = [record for record in out if "outcome" in record]
    assert [d["outcome"] for d in good] == ["posts_removed", "page_removed", "no_action"]
    assert [d["evidence"]["name"] for d in good] == [f"{batch}:1", f"{batch}:5", f"{batch}:6"]
    for decision in good:
        assert decision_schema_errors(decision) == []
    errors = [record for record in out if "error" in record]
    assert [e["line"] for e in errors] == [3, 4]
    assert [d["pointer"] for d in errors[0]["error"]] == ["/target/posts/0/signals/offers_crosing"]
    assert errors[0]["error"][0]["code"] == "E002"
    assert [d["code"] for d in errors[1]["error"]] == ["E001"]
    assert set(errors[0]) == {"line", "error"}


def test_explain_prints_a_trace_with_the_rule_ids(capsys):
    path = META / "page-two-adverts.json"
    assert main(["explain", str(path), "--rules", str(PINNED_RULES)]) == 0
    out = capsys.readouterr().out
    for rule in ("smuggling-offer", "smuggling-request", "page-for-smuggling"):
        assert f"meta.human-exploitation / {rule} on" in out
    assert "smuggling-offer on p1" in out
    assert "post.signals.offers_crossing" in out
    assert "Outcome: posts_removed" in out


def test_explain_json_holds_the_decision_and_the_trace(capsys):
    path = META / "group-unassessed.json"
    assert main(["explain", str(path), "--rules", str(PINNED_RULES), "--format", "json",
                 "--no-extract"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert decision_schema_errors(printed["decision"]) == []
    assert printed["decision"]["bounds"] == {"lower": "no_action", "upper": "page_removed"}
    assert {line["rule"] for line in printed["trace"]} >= {
        "smuggling-offer", "smuggling-request", "page-for-smuggling",
        "condemnation-or-awareness", "safety-or-asylum-information"}
    assert any(line["value"] is None and line["expression"] == "post.signals.offers_crossing"
               for line in printed["trace"])


def test_a_rules_directory_that_does_not_exist_is_a_usage_error(tmp_path: Path, capsys):
    assert main(["check", str(META / "page-two-adverts.json"),
                 "--rules", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err

