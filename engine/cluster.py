"""A batch on a Dask cluster: NDJSON or Parquet in, decisions out in partitions.

What it owns: cutting the input into partitions (runs of lines, or Parquet row groups),
sending each to a Dask worker, and writing each partition's decisions to a file of its own
(`part-00000.ndjson` or `.parquet`) in the output directory, so that nothing passes through
the client but counts. What it must not do: decide anything itself (`engine.batch` does,
line by line, exactly as on one machine), print, or exit.

Rule sets are compiled once per worker: `EnginePlugin` is a Dask `WorkerPlugin` whose
`setup` builds the engine when the worker joins (or when the plugin is registered), and
every partition on that worker uses it. Every decision carries the content hashes of the
rule sets it applied (`rulesets[].sha256`); the Parquet partitions also have them in a
column of their own.

The input must be at the same path on every worker (a shared file system, or a local
cluster); so must the output directory. Dask and pyarrow are the `dask` extra: without
them `check_batch` raises `ClusterError` with B001 and the hint to install it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rules
from engine.batch import STATUS_OK, Answer, BatchOptions, Line, _Decider, decide_lines

try:  # the dask extra; without it this module still imports, and check_batch says B001
    from distributed import WorkerPlugin
except ImportError:
    WorkerPlugin = object  # type: ignore[assignment,misc]

__all__ = ["ClusterError", "Summary", "Partition", "EnginePlugin", "check_batch",
           "partitions_of", "LINES_PER_PARTITION"]

# Lines (or, for Parquet, at most one row group) per partition: enough to keep a worker
# busy for a few seconds between two round trips to the scheduler, few enough to spread
# a small input over every worker.
LINES_PER_PARTITION = 256
EXTRA_HINT = "install the dask extra: pip install 'takedown[dask]'"


class ClusterError(Exception):
    """The batch could not run on the cluster; `diagnostic` says why (a B code)."""

    def __init__(self, code: str, message: str, file: str = "", hint: str = ""):
        super().__init__(message)
        self.diagnostic = rules.Diagnostic(code, message, rules.Location(file), hint=hint)


@dataclass(frozen=True, slots=True)
class Partition:
    """A piece of the input: bytes `start` to `end` of an NDJSON file whose first line is
    `first`, or row group `start` of a Parquet file whose first row is `first`."""

    index: int
    start: int
    end: int
    first: int

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}"


@dataclass(frozen=True, slots=True)
class Summary:
    lines: int
    partitions: int
    decided: int
    errors: int
    status: int  # the highest line status (engine.batch)


def is_parquet(path: str | Path) -> bool:
    return str(path).endswith((".parquet", ".pq"))


def partitions_of(path: str | Path, lines: int = LINES_PER_PARTITION) -> Iterator[Partition]:
    """The partitions of an input: runs of `lines` lines of NDJSON, read once, in constant
    memory; the row groups of a Parquet file, from its footer."""
    if is_parquet(path):
        metadata = _parquet_file(path).metadata
        first = 1
        for group in range(metadata.num_row_groups):
            yield Partition(group, group, group + 1, first)
            first += metadata.row_group(group).num_rows
        return
    index, start, offset, first = 0, 0, 0, 1
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            offset += len(line)
            if (number - first + 1) == lines:
                yield Partition(index, start, offset, first)
                index, start, first = index + 1, offset, number + 1
    if offset > start:
        yield Partition(index, start, offset, first)


def _parquet_file(path: str | Path):
    import pyarrow.parquet as pq

    try:
        found = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises its own errors for a file it cannot read
        raise ClusterError("B003", f"not a Parquet file takedown can read: {error}",
                           str(path), "write one evidence document per row, as JSON text "
                           "in a column named evidence") from None
    if found.schema_arrow.get_field_index("evidence") < 0:
        raise ClusterError("B003", "the Parquet file has no column named evidence", str(path),
                           "write one evidence document per row, as JSON text in a column "
                           "named evidence")
    return found


class EnginePlugin(WorkerPlugin):
    """Builds a worker's engine once, when it joins (or when the plugin is registered);
    every partition on that worker uses it (`_decider_on_this_worker`)."""

    def __init__(self, options: BatchOptions):
        self.options = options
        digest = hashlib.sha256(repr(options).encode()).hexdigest()[:12]
        self.name = f"takedown-engine-{digest}"
        self.decider: _Decider | None = None

    def setup(self, worker) -> None:
        self.decider = _Decider(self.options)

    def teardown(self, worker) -> None:
        self.decider = None


def _decider_on_this_worker(plugin_name: str) -> _Decider:
    from distributed import get_worker

    plugin = get_worker().plugins[plugin_name]
    assert plugin.decider is not None, "the plugin's setup builds the decider"
    return plugin.decider


def _read_partition(source: str, partition: Partition) -> list[Line]:
    if is_parquet(source):
        table = _parquet_file(source).read_row_group(partition.start, columns=["evidence"])
        texts = table.column("evidence").to_pylist()
        return [(partition.first + i, (text or "").encode("utf-8"))
                for i, text in enumerate(texts) if text and text.strip()]
    with open(source, "rb") as stream:
        stream.seek(partition.start)
        data = stream.read(partition.end - partition.start)
    return [(partition.first + i, line)
            for i, line in enumerate(data.splitlines(keepends=True)) if line.strip()]


def _write_partition(answers: list[Answer], directory: Path, partition: Partition,
                     output_format: str) -> None:
    """Write a partition's answers, whole or not at all (a temporary file renamed)."""
    final = directory / f"{partition.name}.{output_format}"
    temporary = directory / f".{final.name}.tmp"
    if output_format == "ndjson":
        with open(temporary, "w", encoding="utf-8") as out:
            out.writelines(line + "\n" for _number, line, _status in answers)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        records = [json.loads(line) for _number, line, _status in answers]
        table = pa.table({
            "line": pa.array([number for number, _line, _status in answers], pa.int64()),
            "outcome": pa.array([r.get("outcome") for r in records], pa.string()),
            "likelihood": pa.array([r.get("likelihood") for r in records], pa.float64()),
            "ruleset_hashes": pa.array([[c["sha256"] for c in r.get("rulesets", ())]
                                        for r in records], pa.list_(pa.string())),
            "record": pa.array([line for _number, line, _status in answers], pa.string()),
        })
        pq.write_table(table, temporary)
    os.replace(temporary, final)


def _decide_partition(plugin_name: str, source: str, partition: Partition, output: str,
                      output_format: str) -> tuple[int, int, int, int]:
    """On a worker: decide a partition and write it. (lines, decided, errors, status)."""
    answers = decide_lines(_decider_on_this_worker(plugin_name), _read_partition(source, partition))
    _write_partition(answers, Path(output), partition, output_format)
    errors = sum(status != STATUS_OK for _number, _line, status in answers)
    return len(answers), len(answers) - errors, errors, max(
        (status for _number, _line, status in answers), default=STATUS_OK)


def _imports() -> tuple[Any, Any]:
    try:
        import pyarrow  # noqa: F401
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ClusterError("B001", f"Dask is not installed ({error.name} is missing)",
                           hint=EXTRA_HINT) from None
    return Client, LocalCluster


def check_batch(source: str | Path, output: str | Path, options: BatchOptions,
                address: str = "local", client=None, output_format: str = "ndjson",
                workers: int | None = None,
                lines_per_partition: int = LINES_PER_PARTITION,
                connect_timeout: str = "10s") -> Summary:
    """Decide every line (or row) of `source` on a Dask cluster and write the decisions to
    `output`, one file per partition, in the input's order within and across partitions.

    `client` is a connected `distributed.Client` to use; otherwise `address` is a
    scheduler's (`tcp://host:8786`) or `local` for a cluster of `workers` processes on this
    machine (one per core by default), started and stopped here. Raises `ClusterError`
    (B001 Dask missing, B002 no scheduler at the address, B003 unreadable Parquet)."""
    Client, LocalCluster = _imports()
    if output_format not in ("ndjson", "parquet"):
        raise ValueError(f"no such output format: {output_format}")
    directory = Path(output)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("part-*.*"):  # a previous run's partitions
        stale.unlink()
    partitions = list(partitions_of(source, lines_per_partition))
    if client is not None:
        return _run(client, str(source), partitions, str(directory), options, output_format)
    if address == "local":
        from engine.batch import default_jobs

        with LocalCluster(n_workers=workers or default_jobs(), threads_per_worker=1,
                          processes=True, dashboard_address=":0") as local, \
                Client(local) as started:
            return _run(started, str(source), partitions, str(directory), options,
                        output_format)
    try:
        connected = Client(address, timeout=connect_timeout)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError("B002", f"no Dask scheduler answers at {address} ({error})",
                           hint="start one (dask scheduler; dask worker ADDRESS) or use "
                           "--dask local") from None
    with connected:
        return _run(connected, str(source), partitions, str(directory), options, output_format)


def _run(client, source: str, partitions: list[Partition], output: str,
         options: BatchOptions, output_format: str) -> Summary:
    plugin = EnginePlugin(options)
    client.register_plugin(plugin, name=plugin.name)
    futures = client.map(_decide_partition, [plugin.name] * len(partitions),
                         [source] * len(partitions), partitions, [output] * len(partitions),
                         [output_format] * len(partitions), pure=False)
    lines = decided = errors = 0
    status = STATUS_OK
    for counts in client.gather(futures):
        lines += counts[0]
        decided += counts[1]
        errors += counts[2]
        status = max(status, counts[3])
    client.unregister_worker_plugin(plugin.name)
    return Summary(lines, len(partitions), decided, errors, status)
