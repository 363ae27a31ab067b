"""Throughput and peak memory of `takedown check --batch`, at a size and at half of it.

Writes an NDJSON corpus of `--posts` posts (and one of half as many) made from the bundled
fixtures (fixtures/*/*.json: real-looking pages of one to seven posts each), each copy
with a request id of its own, then runs `takedown check --batch FILE --jobs N` on each for
every N in `--jobs`, and reports requests and posts per second and the peak resident
memory of the command with all its worker processes (summed, sampled every 50 ms from
/proc). The decisions are thrown away; the run fails if any line is not decided.

Run: .venv/bin/python benchmarks/batch.py --posts 1000000 --jobs 1 2 [--no-explain]
(`make bench-batch`); with `--dask`, on a local Dask cluster of 1 and 2 workers instead. Time it alone: on a shared machine, under
`flock /tmp/takedown-bench.lock`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAKEDOWN = Path(sys.executable).with_name("takedown")


def fixtures() -> list[dict]:
    found = []
    for path in sorted(ROOT.glob("fixtures/*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "target" in document:
            found.append(document)
    return found


def corpus(posts: int) -> Iterator[tuple[str, int]]:
    """Lines of NDJSON holding about `posts` posts, and the posts of each."""
    pages = fixtures()
    made = copy = 0
    while made < posts:
        for page in pages:
            if made >= posts:
                return
            document = dict(page)
            request = dict(document.get("request") or {})
            request["id"] = f"{request.get('id', 'request')}-{copy}"
            document["request"] = request
            count = len(document["target"].get("posts") or [])
            made += count
            yield json.dumps(document, ensure_ascii=False), count
        copy += 1


def write_corpus(path: Path, posts: int) -> tuple[int, int]:
    lines = total = 0
    with open(path, "w", encoding="utf-8") as out:
        for line, count in corpus(posts):
            out.write(line + "\n")
            lines += 1
            total += count
    return lines, total


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and every process under it."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def run(path: Path, jobs: int, dask: bool = False, explain: bool = True,
        ) -> tuple[float, int, int]:
    """Seconds, peak resident bytes, and lines written by one batch run (with `dask`, on a
    local Dask cluster of `jobs` workers, its start and stop included; without `explain`,
    decisions without explanations, `--no-explain`)."""
    start = time.perf_counter()
    command = [str(TAKEDOWN), "check", "--batch", str(path), "--jobs", str(jobs)]
    if not explain:
        command.append("--no-explain")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryDirectory() as parts:
        if dask:
            command += ["--dask", "local", "--output", parts]
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        if dask:
            written = sum(1 for part in Path(parts).glob("part-*") for _ in part.open("rb"))
        else:
            out.seek(0)
            written = sum(1 for _ in out)
    if process.returncode != 0:
        raise SystemExit(f"takedown check --batch exited {process.returncode}")
    return seconds, peak, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--dask", action="store_true",
                        help="run on a local Dask cluster of N workers for each N in --jobs")
    parser.add_argument("--no-explain", dest="explain", action="store_false",
                        help="decide without explanations (check --no-explain)")
    parser.add_argument("--work", type=Path, default=None,
                        help="where to write the corpora (default: a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        print(f"load before: {os.getloadavg()[0]:.2f}; decisions "
              f"{'with' if args.explain else 'without'} explanations")
        print(f"| posts | requests | {'workers' if args.dask else 'jobs'} | seconds | requests/s | posts/s | peak RSS |")
        print("|---|---|---|---|---|---|---|")
        for posts in (args.posts // 2, args.posts):
            path = work / f"batch-{posts}.ndjson"
            lines, total = write_corpus(path, posts)
            for jobs in args.jobs:
                seconds, peak, written = run(path, jobs, args.dask, args.explain)
                assert written == lines, f"{written} decisions for {lines} lines"
                print(f"| {total:,} | {lines:,} | {jobs} | {seconds:.1f} | "
                      f"{lines / seconds:,.1f} | {total / seconds:,.1f} | "
                      f"{peak / 2**20:,.0f} MiB |", flush=True)
        print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
