"""Run the fuzz targets under atheris, one after the other, and report what they did.

    python -m tests.fuzz [TARGET...] [--seconds 60] [--seeds N] [--work DIR] [--json FILE]

Each target starts from its seed corpus (the bundled files it reads, or the first N of
them), and the corpus it grows is kept in DIR/corpus/TARGET for the next run. Crashes
are written to DIR/crashes/TARGET/ with their tracebacks; copy each into
tests/fuzz/crashes/TARGET/ once it is fixed, where `make test` replays it for ever.
Exit 1 when any target crashed, hung or ran out of memory; the slowest input each
target met is reported (libFuzzer keeps those over 10 s in DIR/artifacts/TARGET/).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.fuzz.targets import ROOT, TARGETS


def run_target(name: str, seconds: float, seeds: int | None, work: Path) -> dict:
    target = TARGETS[name]
    corpus = work / "corpus" / name
    if not corpus.is_dir() or not any(corpus.iterdir()):
        corpus.mkdir(parents=True, exist_ok=True)
        for number, seed in enumerate(target.seeds()):
            if seeds is not None and number >= seeds:
                break
            (corpus / f"seed-{number:04d}").write_bytes(seed[:target.max_len])
    crashes = work / "crashes"
    artifacts = work / "artifacts" / name
    artifacts.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.child", name, str(corpus),
         f"-max_total_time={max(1, int(seconds))}", f"-max_len={target.max_len}",
         "-timeout=30", "-rss_limit_mb=3072", "-print_final_stats=1",
         f"-artifact_prefix={artifacts}/"],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "TAKEDOWN_FUZZ_CRASHES": str(crashes), "PYTHONPATH": str(ROOT)},
        timeout=seconds + 600)
    log = done.stderr
    (work / f"{name}.log").write_text(log, encoding="utf-8")
    executions = _stat(log, "number_of_executed_units")
    if executions is None:
        found = re.findall(r"^#(\d+)\s", log, re.M)
        executions = int(found[-1]) if found else 0
    crashed = sorted(line.split(" -> ")[0].removeprefix(f"CRASH {name} ")
                     for line in log.splitlines() if line.startswith("CRASH "))
    # Hangs (-timeout), memory (-rss_limit_mb) and crashes libFuzzer caught stop the run;
    # a slow unit (over 10 s) does not: it is reported, and kept to be looked at.
    written = sorted(p.name for p in artifacts.iterdir())
    stopped = [artifact for artifact in written if not artifact.startswith("slow-unit-")]
    slowest = _stat(log, "slowest_unit_time_sec")
    coverage = re.findall(r"cov: (\d+)", log)
    return {"target": name, "seconds": round(time.monotonic() - started, 1),
            "executions": executions, "corpus": len(list(corpus.iterdir())),
            "coverage": int(coverage[-1]) if coverage else None,
            "crashes": crashed, "stopped_by": stopped, "slowest_unit_seconds": slowest,
            "returncode": done.returncode}


def _stat(log: str, name: str) -> int | None:
    found = re.search(rf"stat::{name}:\s*(\d+)", log)
    return int(found.group(1)) if found else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", choices=[[], *TARGETS], default=[],
                        metavar="TARGET", help=f"default: all of {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=float, default=60, help="per target")
    parser.add_argument("--seeds", type=int, help="start from the first N seeds only")
    parser.add_argument("--work", default="out/fuzz", help="corpus, crashes and logs")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args(argv)
    work = Path(args.work).resolve()
    results = []
    print(f"{'target':<14} {'seconds':>7} {'executions':>10} {'exec/s':>7} {'corpus':>6} "
          f"{'coverage':>8} {'slowest':>7}  crashes")
    for name in args.targets or list(TARGETS):
        result = run_target(name, args.seconds, args.seeds, work)
        results.append(result)
        found = result["crashes"] + result["stopped_by"]
        print(f"{name:<14} {result['seconds']:>7} {result['executions']:>10} "
              f"{result['executions'] / max(result['seconds'], 1e-9):>7.0f} "
              f"{result['corpus']:>6} {result['coverage'] or '':>8} "
              f"{result['slowest_unit_seconds'] or 0:>6}s  "
              f"{len(found)}{': ' + '; '.join(found) if found else ''}", flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    failed = any(r["crashes"] or r["stopped_by"] for r in results)
    if failed:
        print(f"crashes and artifacts are in {work}/crashes and {work}/artifacts", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
