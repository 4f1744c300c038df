"""The whole text path on the baomoi corpus, as users run it: `tinbai ingest` into a fresh warehouse.

    .venv/bin/python bench/text_pipeline.py

Prints, each measured in this run:
- Prefect's fixed start-up (a one-article ingest: wall time minus the flow's own time);
- all 21,448 articles: wall time, the flow's own time, peak RSS of the whole process tree
  (the CLI and its worker processes, sampled every 50 ms);
- growth: the flow's time on 2,145 vs 21,448 articles and the ratio;
- incremental: 1,000 new articles added to a warehouse of 20,448, against the full load.
Goals (issue 9): full load <= 30 s wall without Prefect's start-up, peak RSS <= 1.5 GiB,
growth ratio <= 12, incremental <= 10% of the full load.
"""
from __future__ import annotations

import gzip
import itertools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT.parent / "shared" / "corpora" / "baomoi" / "baomoi_21448.jsonl.gz"
TINBAI = PROJECT / ".venv" / "bin" / "tinbai"
_FLOW_TIME = re.compile(r"time\s*│\s*([\d.]+) s")


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError):
                continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def ingest(path: Path, db: Path) -> tuple[float, float, int]:
    """(wall seconds, the flow's own seconds, peak RSS bytes) of one `tinbai ingest`."""
    env = {**os.environ, "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}
    started = time.perf_counter()
    process = subprocess.Popen([str(TINBAI), "ingest", str(path), "--db", str(db)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"tinbai ingest failed ({process.returncode}): {err.strip()[-500:]}")
    match = _FLOW_TIME.search(out)
    return wall, float(match.group(1)) if match else float("nan"), peak


def write_slice(source: Path, target: Path, start: int, stop: int | None) -> None:
    with gzip.open(source, "rb") as lines, gzip.open(target, "wb", compresslevel=1) as out:
        out.writelines(itertools.islice(lines, start, stop))


def main() -> None:
    if not CORPUS.exists():
        sys.exit(f"bench/text_pipeline.py: {CORPUS} is not available")
    with tempfile.TemporaryDirectory(prefix="tinbai-bench-") as folder:
        tmp = Path(folder)
        for name, start, stop in (("one", 0, 1), ("small", 0, 2145), ("base", 0, 20448), ("increment", 20448, None)):
            write_slice(CORPUS, tmp / f"{name}.jsonl.gz", start, stop)

        wall, own, _ = ingest(tmp / "one.jsonl.gz", tmp / "one.duckdb")
        startup = wall - own
        print(f"Prefect start-up (1-article ingest: {wall:.1f} s wall, {own:.2f} s flow): {startup:.1f} s")

        wall, full, peak = ingest(CORPUS, tmp / "full.duckdb")
        print(f"\nall 21,448 articles, fresh warehouse: {wall:.1f} s wall = {startup:.1f} s Prefect start-up"
              f" + {wall - startup:.1f} s pipeline (flow's own time {full:.1f} s); peak RSS {peak / 2**30:.2f} GiB"
              f"   [goal <= 30 s without start-up, <= 1.5 GiB]")

        _, small, _ = ingest(tmp / "small.jsonl.gz", tmp / "small.duckdb")
        print(f"\ngrowth: 2,145 articles {small:.1f} s, 21,448 articles {full:.1f} s: ratio {full / small:.1f}"
              f"   [goal <= 12]")

        _, base, _ = ingest(tmp / "base.jsonl.gz", tmp / "incremental.duckdb")
        _, increment, _ = ingest(tmp / "increment.jsonl.gz", tmp / "incremental.duckdb")
        print(f"\nincremental: 20,448 articles {base:.1f} s, then 1,000 more {increment:.1f} s"
              f" = {increment / full:.1%} of the full load   [goal <= 10%]")


if __name__ == "__main__":
    main()
