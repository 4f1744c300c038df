"""`tinbai query` output of a 100,000-row result: time and peak memory per format.

    .venv/bin/python bench/output.py [--db WAREHOUSE] [--rows N]

Without --db it loads the baomoi corpus into a fresh warehouse first (~25 s). The query
lists articles (id, site, published_at, title, url, text length, and a list column), the
14k articles repeated to N rows. Each format runs `tinbai query` as a subprocess, its
output to /dev/null, under /usr/bin/time for the peak resident memory; printed side by
side with the same rows fetched whole (`fetchall`) in a bare DuckDB process, the floor of
what any output costs.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
TINBAI = PROJECT / ".venv" / "bin" / "tinbai"
PYTHON = PROJECT / ".venv" / "bin" / "python"
GOAL_SECONDS, GOAL_MB = 3.0, 200

from search import corpus_warehouse  # noqa: E402  (bench/search.py: the baomoi warehouse)


def listing(rows: int) -> str:
    return (
        "SELECT a.article_id, a.site, a.published_at, a.title, a.url, length(a.text) AS chars,"
        " [a.date_precision, a.format] AS tags"
        f" FROM range(8) r, articles a LIMIT {rows}"
    )


def measured(command: list[str]) -> tuple[float, float]:
    """(seconds, peak MB) of a command, its output thrown away."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=True)
    seconds = time.perf_counter() - started
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing warehouse (default: load the baomoi corpus into a new one)")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    db = corpus_warehouse(args.db, "output")
    if db is None:
        return 1
    sql = listing(args.rows)
    bare = ("import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True);"
            " print(len(con.execute(sys.argv[2]).fetchall()))")
    floor_seconds, floor_mb = measured([str(PYTHON), "-c", bare, str(db), sql])
    print(f"{args.rows:,} rows; goal: csv and jsonl <= {GOAL_SECONDS} s and <= {GOAL_MB} MB")
    print(f"{'output':24} {'seconds':>8} {'peak MB':>8} {'x bare fetchall':>16}")
    print(f"{'bare DuckDB fetchall':24} {floor_seconds:8.2f} {floor_mb:8.0f} {1.0:16.2f}")
    for output in ("csv", "jsonl", "json", "table"):
        seconds, mb = measured([str(TINBAI), "query", sql, "--db", str(db), "--format", output])
        print(f"{'tinbai query ' + output:24} {seconds:8.2f} {mb:8.0f} {seconds / floor_seconds:16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
