"""Throughput of the `ingest` flow on HTML pages with the local runner and with Dask, in one run.

Over the same folder of pages (trafilatura's eval set, gunzipped to `.html` files in a
temporary folder), each into a fresh warehouse, in this process, as `tinbai ingest` runs
them (Prefect in ephemeral mode):

- start-up: an ingest of an empty folder first, which starts Prefect's temporary API
  server; paid once per command whichever runner, so it is reported apart;
- local: `--runner local --workers 2`, the forkserver process pool;
- dask: `--runner dask --workers 2`, a 2-worker LocalCluster the flow starts and stops;
- dask, existing cluster: `--dask-address` of a 2-worker LocalCluster started (and its
  workers warmed by one small ingest) before the clock starts, as a standing cluster is.

The three run in turn, `--rounds` times, and the best of each counts (every round is
printed too). Each line gives the flow's own time (what the flow reports: read,
transform, dedup, load) and the whole call (plus the flow run's bookkeeping, search index
and report), in pages per second, and the Dask lines their overhead against local. On a
shared machine wall times follow the neighbours' load, so each call's CPU time is given
too: this process, the scheduler in it, and every process under it (pool processes, Dask
workers, Prefect's temporary API server), ended or running. The warehouses are compared at
the end: every runner and round must give the same articles and duplicates.

Usage: .venv/bin/python bench/runners.py [--limit N] [--workers N] [--rounds N] [--shared DIR]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psutil

from extraction_quality import EVAL_DIR, SHARED
from flows.ingest import RunSummary, ingest
from html_throughput import write_pages

COMPARED = {
    "articles": "SELECT article_id, title, text, published_at, extractor FROM articles ORDER BY article_id",
    "duplicates": "SELECT duplicate_id, canonical_id, method, similarity FROM duplicates ORDER BY duplicate_id",
}


@dataclass
class Runner:
    label: str
    options: dict
    flow_seconds: list[float] = field(default_factory=list)
    call_seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    databases: list[Path] = field(default_factory=list)
    summary: RunSummary | None = None

    def run(self, folder: Path, database: Path) -> None:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        self.summary = ingest(paths=[str(folder)], db=str(database), **self.options)
        self.call_seconds.append(time.perf_counter() - started)
        self.cpu_seconds.append(cpu_seconds() - cpu_started)
        self.flow_seconds.append(self.summary.seconds)
        self.databases.append(database)


def cpu_seconds() -> float:
    """CPU time of this process and every process under it: ended ones through their
    parents' rusage of waited-for children, running ones (and what they waited for) by psutil."""
    total = sum(sum(resource.getrusage(who)[:2]) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    for process in psutil.Process().children(recursive=True):
        try:
            total += sum(process.cpu_times()[:4])
        except psutil.NoSuchProcess:
            pass  # ended between the listing and now: in its parent's rusage once waited for
    return total


def tables(database: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {table: con.execute(sql).fetchall() for table, sql in COMPARED.items()}
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N pages, by file name (for tuning)")
    parser.add_argument("--workers", type=int, default=2, help="local processes and Dask workers (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each runner, interleaved; the best counts")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared/ folder holding the corpora")
    args = parser.parse_args(argv)
    pages_dir = args.shared.joinpath(*EVAL_DIR, "pages")
    if not pages_dir.is_dir():
        sys.exit(f"{pages_dir} not found: the trafilatura eval corpus is needed")
    from distributed import LocalCluster

    standing = LocalCluster(n_workers=args.workers, processes=True, threads_per_worker=1, dashboard_address=None)
    with tempfile.TemporaryDirectory(prefix="tinbai-runners-") as temp, standing as cluster:
        temp = Path(temp)
        for folder in ("pages", "empty", "warm"):
            (temp / folder).mkdir()
        paths = write_pages(pages_dir, temp / "pages", args.limit)
        write_pages(pages_dir, temp / "warm", 5)
        count = len(paths)
        print(f"{count} pages, {sum(path.stat().st_size for path in paths) / 1e6:.1f} MB of HTML, "
              f"{args.workers} workers, best of {args.rounds} interleaved rounds")
        # The machine may be shared: the load before the runs tells how far to trust the times.
        print(f"load average before: {os.getloadavg()[0]:.2f}")

        startup = Runner("start-up", {})
        startup.run(temp / "empty", temp / "startup.duckdb")
        existing_cluster = {"dask_address": cluster.scheduler_address}
        # A standing cluster's workers have run tinbai before: they have imported it.
        Runner("warm-up", existing_cluster).run(temp / "warm", temp / "warm.duckdb")
        runners = [
            Runner("local", {"runner": "local", "workers": args.workers}),
            Runner("dask, LocalCluster started by the run", {"runner": "dask", "workers": args.workers}),
            Runner("dask, existing cluster", existing_cluster),
        ]
        for round_number in range(args.rounds):
            for index, runner in enumerate(runners):
                runner.run(temp / "pages", temp / f"{round_number}-{index}.duckdb")
        print(f"load average after: {os.getloadavg()[0]:.2f}")

        print(f"Prefect start-up (ingest of an empty folder, once per command): {startup.call_seconds[0]:.1f} s")
        local = min(runners[0].flow_seconds)
        local_cpu = min(runners[0].cpu_seconds)
        print(f"{'runner':38} {'flow s':>7} {'pages/s':>8} {'call s':>7} {'pages/s':>8}  {'overhead (flow)':15}  "
              f"{'CPU s':>6} {'overhead':>8}  every round: flow s / CPU s")
        for runner in runners:
            flow, call, cpu = min(runner.flow_seconds), min(runner.call_seconds), min(runner.cpu_seconds)
            is_local = runner is runners[0]
            overhead = "" if is_local else f"{flow - local:+5.1f} s {flow / local:5.2f}x"
            cpu_overhead = "" if is_local else f"{cpu - local_cpu:+6.1f} s"
            rounds = " ".join(f"{wall:.1f}/{used:.1f}" for wall, used in zip(runner.flow_seconds, runner.cpu_seconds))
            print(f"{runner.label:38} {flow:7.1f} {count / flow:8.1f} {call:7.1f} {count / call:8.1f}  "
                  f"{overhead:15}  {cpu:6.1f} {cpu_overhead:>8}  {rounds}")
        expected = tables(runners[0].databases[0])
        same = all(tables(database) == expected for runner in runners for database in runner.databases)
        summary = runners[0].summary
        print(f"articles {len(expected['articles'])}, duplicates {len(expected['duplicates'])}, "
              f"rejected {summary.rejected}; the same on every runner and round: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
