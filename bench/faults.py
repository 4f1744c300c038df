"""The fault suite as a benchmark: the `ingest` flow over the misbehaving site of tests/faultserver.py.

    .venv/bin/python bench/faults.py [--budget SECONDS] [--kills N]

Serves the site on 127.0.0.1 (500 feed URLs, 50 of them faulty), runs the flow over it
twice into a fresh warehouse, and prints: the faults tried, pages loaded against the
pages that should load, rejects by reason, wall time against the budget, and the peak RSS
of this process (the flow, the fetcher and the site's server threads; the transform
workers are processes of their own). Exits 1 when a good page is missing or doubled, a
faulty page is loaded or rejected for another reason, the second run adds anything, or
the first run is over budget.

Then one slow host: the site's slow URLs (stalls, drips, dripped headers) fetched with the
fetcher's slow-host budget and without it, the time of each and the ratio.

Then the crash loop of tests/crashloop.py with the full count (CI kills 3 runs): `tinbai
ingest` of 3,000 records killed with SIGKILL at random points of its loads N times, then a
run to the end; prints the kills, partial batches found after them, rows lost and doubled.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(PROJECT), str(PROJECT / "tests")]
os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")

# imported once the path and the logging level are set
from crashloop import crash_loop  # noqa: E402
from faultserver import FAST_TIMEOUTS, FAULTS, FaultSite, audit, fetch_settings_of, table_counts  # noqa: E402
from sources.fetch import Fetcher, FetchSettings  # noqa: E402
from flows.ingest import ingest  # noqa: E402

DEFAULT_BUDGET_SECONDS = 120.0
DEFAULT_KILLS = 20
_URLS = re.compile(r"https?://\S+?(?=[ )]|$)")


def rss_kib(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as status:
        return int(re.search(field + r":\s+(\d+)", status.read())[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_SECONDS,
                        help="seconds the first run may take")
    parser.add_argument("--kills", type=int, default=DEFAULT_KILLS, help="ingest runs to kill -9 (0: skip)")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="tinbai-faults-") as folder, FaultSite() as site:
        db = Path(folder) / "faults.duckdb"
        sources = site.write_sources(Path(folder) / "sources.toml")
        faulty = sum(fault.count for fault in FAULTS)
        print(f"fault site: {len(site.entries)} feed URLs ({len(site.entries) - faulty} good, {faulty} faulty) "
              f"at {site.base_url}; fetcher timeouts {FAST_TIMEOUTS}")
        print("faults tried:")
        for fault in FAULTS:
            expected = "must load" if fault.stage is None else f"reject at {fault.stage}"
            print(f"  {fault.name:28} x{fault.count:<3} {expected}")
        rss_before = rss_kib()
        counts, walls = [], []
        for run in (1, 2):
            started = time.perf_counter()
            summary = ingest(sources=str(sources), db=str(db), allow_private=True)
            wall = time.perf_counter() - started
            walls.append(wall)
            result = audit(db, site)
            counts.append(table_counts(db))
            print(f"\nrun {run}: {result.loaded}/{result.expected_loaded} pages loaded, read {summary.read}, "
                  f"unchanged {summary.unchanged}, duplicates {summary.duplicates}, rejected {summary.rejected}; "
                  f"{wall:.1f} s wall (flow {summary.seconds:.1f} s)")
            for problem, examples in result.problems.items():
                failed = True
                print(f"  PROBLEM {problem}: {len(examples)}, e.g. {examples[:3]}")
            if run == 1:
                within = wall <= args.budget
                failed |= not within
                print(f"  time: {wall:.1f} s of a {args.budget:.0f} s budget: {'ok' if within else 'OVER BUDGET'}")
                print("  rejects by reason:")
                for reason, count in sorted(_collapse_urls(result.rejects_by_reason).items()):
                    print(f"    {count:3} x {reason}")
            elif counts[1] != counts[0] or summary.loaded or summary.read:
                failed = True
                print(f"  PROBLEM the rerun changed the warehouse: {counts[0]} -> {counts[1]}")
            else:
                print(f"  the rerun added nothing: {counts[1]}; {summary.skipped_not_due} URLs that failed were not"
                      f" asked again (back-off); {wall:.1f} s, {wall / walls[0]:.2f}x the first run")
        print(f"\nslow host: {sum(1 for e in site.entries if e.fault and e.fault.name.startswith(('stall', 'drip')))}"
              " slow URLs of one host")
        _slow_host(site)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\npeak RSS of this process: {peak / 1024:.0f} MiB (before the runs {rss_before / 1024:.0f} MiB, "
          f"+{(peak - rss_before) / 1024:.0f} MiB)")
    if args.kills:
        failed |= _crashes(args.kills)
    print("FAILED" if failed else "ok: every good page loaded once, every faulty one rejected for its fault"
          + (", nothing lost or doubled by the kills" if args.kills else ""))
    return 1 if failed else 0


def _slow_host(site: FaultSite) -> None:
    """The site's slow URLs, with the slow-host budget (the default) and without it."""
    slow = [site.url(entry) for entry in site.entries
            if entry.fault and entry.fault.name.startswith(("stall", "drip"))]
    knobs = {**fetch_settings_of(FAST_TIMEOUTS), "allow_private": True, "host_interval": 0.0}
    timings = {}
    for label, budget in (("with the budget", FetchSettings().slow_host_budget), ("without", len(slow) + 1)):
        with Fetcher(FetchSettings(**{**knobs, "slow_host_budget": budget})) as fetcher:
            started = time.perf_counter()
            results = list(fetcher.fetch_many(slow))
            timings[label] = time.perf_counter() - started
        skipped = sum(result.skipped for result in results)
        print(f"  {label:16} (budget {budget:2}): {timings[label]:5.1f} s, {len(results) - skipped} asked,"
              f" {skipped} skipped")
    print(f"  one slow host costs {timings['without'] / timings['with the budget']:.2f}x less with the budget")


def _crashes(kills: int) -> bool:
    """The kill -9 loop; True when something was lost, doubled or left half-loaded."""
    with tempfile.TemporaryDirectory(prefix="tinbai-crashes-") as folder:
        started = time.perf_counter()
        report = crash_loop(Path(folder), kills, records=3000, batch_size=200)
        wall = time.perf_counter() - started
    print(f"\ncrash loop: {report.cycles} runs killed with SIGKILL ({report.killed_mid_run} mid-run) at batches "
          f"{report.killed_during_batch}; {wall:.0f} s")
    print(f"  partial batches found after the kills: {report.partial_batches}; runs marked interrupted: "
          f"{report.interrupted_runs}")
    print(f"  after a final run: {report.distinct_sources}/{report.records} records stored, lost {report.lost}, "
          f"doubled {report.doubled}")
    return bool(report.partial_batches or report.lost or report.doubled or report.cycles < kills)


def _collapse_urls(reasons) -> dict[str, int]:
    """Reasons that differ only by the URLs they name (redirect loops) counted together."""
    collapsed: dict[str, int] = {}
    for reason, count in reasons.items():
        key = _URLS.sub("URL", reason)
        collapsed[key] = collapsed.get(key, 0) + count
    return collapsed


if __name__ == "__main__":
    sys.exit(main())
