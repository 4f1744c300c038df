"""Throughput of the whole `tinbai ingest` on HTML pages against a bare trafilatura loop.

Over the same folder of pages (trafilatura's eval set, gunzipped to `.html` files in a
temporary folder), in the same run:

- bare: `trafilatura.extract(page_bytes)` with default settings, one process, a loop
  that reads each file and extracts it;
- tinbai: `.venv/bin/tinbai ingest FOLDER --db FRESH.duckdb` as a subprocess, as a user
  runs it (read, extract, clean, dedup, load; Prefect in ephemeral mode);
- start-up: `tinbai ingest` of an empty folder into another fresh warehouse: Python and
  Prefect imports, the ephemeral Prefect server, the warehouse migrations, the flow
  run's bookkeeping. Subtracted from the tinbai time, it gives the pipeline's own rate.

Usage: .venv/bin/python bench/html_throughput.py [--limit N] [--shared DIR]
"""
from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trafilatura

from extraction_quality import EVAL_DIR, PROJECT, SHARED

TINBAI = PROJECT / ".venv" / "bin" / "tinbai"
_FLOW_TIME = re.compile(r"time\s*│?\s*([\d.]+) s")


def write_pages(pages_dir: Path, folder: Path, limit: int | None) -> list[Path]:
    """The eval pages as `.html` files, byte for byte; their paths in sorted order."""
    sources = sorted(pages_dir.glob("*.gz"))[:limit]
    paths = []
    for source in sources:
        name = source.name.removesuffix(".gz")
        path = folder / (name if name.endswith(".html") else f"{name}.html")
        path.write_bytes(gzip.decompress(source.read_bytes()))
        paths.append(path)
    return paths


def bare_loop(paths: list[Path]) -> float:
    started = time.perf_counter()
    for path in paths:
        trafilatura.extract(path.read_bytes())
    return time.perf_counter() - started


def tinbai_ingest(folder: Path, database: Path) -> tuple[float, str]:
    started = time.perf_counter()
    run = subprocess.run(
        [str(TINBAI), "ingest", str(folder), "--db", str(database)],
        capture_output=True, text=True, cwd=PROJECT, check=False,
    )
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"tinbai ingest failed ({run.returncode}): {run.stderr.strip()}")
    return seconds, run.stdout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N pages, by file name (for tuning)")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared/ folder holding the corpora")
    args = parser.parse_args(argv)
    pages_dir = args.shared.joinpath(*EVAL_DIR, "pages")
    if not pages_dir.is_dir():
        sys.exit(f"{pages_dir} not found: the trafilatura eval corpus is needed")

    with tempfile.TemporaryDirectory(prefix="tinbai-throughput-") as temp:
        temp = Path(temp)
        (temp / "pages").mkdir()
        (temp / "empty").mkdir()
        paths = write_pages(pages_dir, temp / "pages", args.limit)
        megabytes = sum(path.stat().st_size for path in paths) / 1e6
        print(f"{len(paths)} pages, {megabytes:.1f} MB of HTML")

        # The machine may be shared: the load before the runs tells how far to trust the times.
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        startup, _ = tinbai_ingest(temp / "empty", temp / "startup.duckdb")
        total, output = tinbai_ingest(temp / "pages", temp / "pages.duckdb")
        bare = bare_loop(paths)

    flow_time = _FLOW_TIME.search(output)
    count = len(paths)
    own = total - startup
    print(f"bare trafilatura.extract loop, 1 process: {bare:7.1f} s  {count / bare:6.1f} pages/s")
    print(f"tinbai ingest, whole command:            {total:7.1f} s  {count / total:6.1f} pages/s  "
          f"ratio {bare / total:.2f}x")
    print(f"  fixed start-up (ingest of an empty folder): {startup:.1f} s")
    print(f"  pipeline's own time (whole - start-up): {own:7.1f} s  {count / own:6.1f} pages/s  "
          f"ratio {bare / own:.2f}x")
    if flow_time:
        print(f"  the flow's own reported time: {flow_time.group(1)} s")
    print("tinbai ingest summary:")
    print(output.rstrip())


if __name__ == "__main__":
    main()
