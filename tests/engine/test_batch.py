"""check --batch on one machine (engine.batch): every core gives the answers one process
gives, in input order, and reads the input no further ahead than its window."""

import json
from pathlib import Path

import pytest

from engine import batch
from engine.cli import main
from tests.engine.support import META, PINNED_RULES

NAMES = ("page-two-adverts.json", "page-dedicated-to-crossings.json",
         "asylum-question-allowed.json", "request-for-smuggler.json")


def batch_lines() -> list[str]:
    """Four fixtures twice, with a blank line, a broken one and an invalid one between."""
    lines = [json.dumps(json.loads((META / name).read_text("utf-8"))) for name in NAMES] * 2
    lines[2:2] = ["", "{not json", json.dumps({"request": {}})]
    return lines


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def options(source: str = "in.ndjson", **changes) -> batch.BatchOptions:
    return batch.BatchOptions(rules=(str(PINNED_RULES),), source=source, **changes)


def test_two_processes_answer_as_one_does_in_input_order():
    lines = [(number, line.encode()) for number, line in enumerate(batch_lines(), start=1)
             if line]
    alone = list(batch.check_lines(lines, options(), jobs=1))
    pooled = list(batch.check_lines(lines, options(chunk=2, window=1), jobs=2))

    assert pooled == alone
    assert [number for number, _line, _status in pooled] == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    assert [status for _number, _line, status in pooled].count(batch.STATUS_EVIDENCE) == 2


def test_the_input_is_read_no_further_ahead_than_the_window():
    line = json.dumps(json.loads((META / NAMES[0]).read_text("utf-8"))).encode()
    read = 0

    def lines():
        nonlocal read
        for number in range(1, 1000):
            read += 1
            yield number, line

    answers = batch.check_lines(lines(), options(chunk=2, window=2), jobs=2)
    next(answers)
    # 2 processes x 2 chunks x 2 lines in flight, and the chunk being filled
    assert read <= 2 * 2 * 2 + 2
    answers.close()


def test_read_lines_skips_blank_lines_and_keeps_their_numbers():
    assert list(batch.read_lines([b"a\n", b"\n", b"  \n", b"b\n"])) == [(1, b"a\n"), (4, b"b\n")]


def test_jobs_on_the_command_line_change_nothing_but_the_speed(tmp_path: Path, capsys):
    source = write(tmp_path / "requests.ndjson", batch_lines())
    outputs = []
    for jobs in ("1", "2"):
        assert main(["check", "--batch", str(source), "--rules", str(PINNED_RULES),
                     "--jobs", jobs]) == 3
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    records = [json.loads(line) for line in outputs[0].splitlines()]
    assert len(records) == 10
    assert [r["line"] for r in records if "error" in r] == [4, 5]
    assert all(r["evidence"]["name"].startswith(f"{source}:") for r in records if "outcome" in r)


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_jobs_below_one_is_a_usage_error(tmp_path: Path, capsys, jobs: str):
    source = write(tmp_path / "requests.ndjson", batch_lines()[:1])
    assert main(["check", "--batch", str(source), "--jobs", jobs]) == 2
    assert "--jobs" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--jobs", "2"], ["--dask", "local"], ["--output", "out"]])
def test_batch_options_without_batch_are_a_usage_error(capsys, option: list):
    assert main(["check", str(META / NAMES[0]), *option]) == 2
    assert "go with --batch" in capsys.readouterr().err


def test_no_explain_decides_as_the_explained_run_and_leaves_out_the_why(tmp_path: Path,
                                                                        capsys):
    source = write(tmp_path / "requests.ndjson", batch_lines())
    runs = []
    for extra in ([], ["--no-explain"]):
        assert main(["check", "--batch", str(source), "--rules", str(PINNED_RULES),
                     "--jobs", "2", *extra]) == 3
        runs.append([json.loads(line) for line in capsys.readouterr().out.splitlines()])
    explained, fast = runs
    assert len(fast) == len(explained) == 10
    decided = [(e, f) for e, f in zip(explained, fast, strict=True) if "outcome" in e]
    assert len(decided) == 8
    for e, f in decided:
        assert {k: f[k] for k in ("outcome", "likelihood", "bounds", "rulesets", "posts")} \
            == {k: e[k] for k in ("outcome", "likelihood", "bounds", "rulesets", "posts")}
        assert f["reasons"] == f["thresholds"] == []
    assert any(e["reasons"] for e, _f in decided)
