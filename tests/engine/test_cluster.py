"""check --batch on a Dask cluster (engine.cluster): a LocalCluster of two worker processes
gives every decision the single-process run gives, NDJSON or Parquet in and out, each with
the hashes of its rule sets; without Dask, or without a scheduler, a B code and a hint."""

import json
import sys
from pathlib import Path

import pytest

from engine import batch, cluster
from engine.cli import main
from rules import load_registry
from tests.engine.support import PINNED_RULES
from tests.engine.test_batch import batch_lines, options, write

distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as local, \
            distributed.Client(local) as connected:
        yield connected


def single_process(source: str) -> list[str]:
    lines = [(n, line.encode()) for n, line in enumerate(batch_lines(), start=1) if line]
    return [line for _number, line, _status in batch.check_lines(lines, options(source))]


def hashes() -> set[str]:
    registry, _ = load_registry([PINNED_RULES])
    return {ruleset.sha256 for ruleset in registry}


def test_two_workers_give_every_decision_the_single_process_run_gives(client, tmp_path: Path):
    source = write(tmp_path / "in.ndjson", batch_lines())
    summary = cluster.check_batch(source, tmp_path / "out", options(str(source)), client=client,
                                  lines_per_partition=3)

    assert (summary.lines, summary.partitions, summary.errors) == (10, 4, 2)
    assert summary.status == batch.STATUS_EVIDENCE
    parts = sorted((tmp_path / "out").glob("part-*.ndjson"))
    assert [p.name for p in parts] == [f"part-0000{i}.ndjson" for i in range(4)]
    written = [line for part in parts for line in part.read_text("utf-8").splitlines()]
    assert written == single_process(str(source))
    decisions = [json.loads(line) for line in written if '"outcome"' in line]
    assert len(decisions) == 8
    for decision in decisions:
        assert {r["sha256"] for r in decision["rulesets"]} <= hashes()
    # the engine plugin is gone from the workers once the batch is done
    assert not any(name.startswith("takedown-engine-") for names in
                   client.run(lambda dask_worker: list(dask_worker.plugins)).values()
                   for name in names)


def test_parquet_in_and_out(client, tmp_path: Path):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"evidence": batch_lines()}), source, row_group_size=4)
    summary = cluster.check_batch(source, tmp_path / "out", options(str(source)), client=client,
                                  output_format="parquet")

    assert (summary.lines, summary.partitions) == (10, 3)
    table = pq.read_table(sorted((tmp_path / "out").glob("part-*.parquet")))
    assert table.column("record").to_pylist() == single_process(str(source))
    assert table.column("line").to_pylist() == [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]
    for record, found in zip(table.column("record").to_pylist(),
                             table.column("ruleset_hashes").to_pylist(), strict=True):
        expected = [r["sha256"] for r in json.loads(record).get("rulesets", [])]
        assert found == expected
        assert set(found) <= hashes()


def test_the_command_line_runs_a_local_cluster(tmp_path: Path, capsys):
    source = write(tmp_path / "in.ndjson", batch_lines()[:2])
    out = tmp_path / "out"
    assert main(["check", "--batch", str(source), "--rules", str(PINNED_RULES),
                 "--dask", "local", "--jobs", "1", "--output", str(out)]) == 0
    assert "2 lines in 1 partitions: 2 decided, 0 errors" in capsys.readouterr().err
    written = (out / "part-00000.ndjson").read_text("utf-8").splitlines()
    assert written == single_process(str(source))[:2]


def test_dask_without_output_is_a_usage_error(tmp_path: Path, capsys):
    source = write(tmp_path / "in.ndjson", batch_lines()[:1])
    assert main(["check", "--batch", str(source), "--dask", "local"]) == 2
    assert "--output DIR" in capsys.readouterr().err


def test_b001_without_dask_the_hint_is_to_install_the_extra(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    source = write(tmp_path / "in.ndjson", batch_lines()[:1])
    assert main(["check", "--batch", str(source), "--rules", str(PINNED_RULES),
                 "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "B001" in err
    assert "takedown[dask]" in err
    assert "Traceback" not in err


def test_b002_no_scheduler_at_the_address(tmp_path: Path):
    source = write(tmp_path / "in.ndjson", batch_lines()[:1])
    with pytest.raises(cluster.ClusterError) as raised:
        cluster.check_batch(source, tmp_path / "out", options(str(source)),
                            address="tcp://127.0.0.1:9", connect_timeout="1s")
    assert raised.value.diagnostic.code == "B002"
    assert "--dask local" in raised.value.diagnostic.hint


def test_b003_a_parquet_file_without_an_evidence_column(tmp_path: Path, capsys):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"document": batch_lines()}), source)
    assert main(["check", "--batch", str(source), "--rules", str(PINNED_RULES),
                 "--output", str(tmp_path / "out")]) == 2
    assert "B003" in capsys.readouterr().err
