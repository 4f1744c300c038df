"""The fault suite: a real ingest over a feed of 500 URLs from a misbehaving site (tests/faultserver.py).

One module-scoped crawl (two runs of the flow into one warehouse) feeds most tests; the
memory test fetches the huge bodies again in a subprocess of its own, where peak RSS
measures the fetcher and nothing else.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import PROJECT
from faultserver import (FAST_TIMEOUTS, FAULTS, FAULTS_BY_NAME, HUGE_BYTES, SIZE_CAP, Audit, FaultSite, RequestRecord,
                         audit, fetch_settings_of, table_counts)
from sources.fetch import USER_AGENT, FetchSettings
from flows.ingest import RunSummary, ingest

# Measured on a 2-core machine: the first run ~50 s, about 30 s of it the stalls waiting out
# their read timeouts (FAST_TIMEOUTS) and the drips their total timeout; the rerun ~28 s.
BUDGET_SECONDS = 120
ATTEMPTS = FetchSettings().retries + 1


@dataclass
class Run:
    summary: RunSummary
    seconds: float
    audit: Audit
    requests: list[RequestRecord]  # this run's only
    counts: dict[str, int]  # rows per table after the run


@dataclass
class Crawl:
    site: FaultSite
    first: Run
    second: Run  # the same ingest again


@pytest.fixture(scope="module")
def crawl(prefect_server, tmp_path_factory) -> Crawl:
    folder = tmp_path_factory.mktemp("faults")
    db = folder / "faults.duckdb"
    with FaultSite() as site:
        sources = site.write_sources(folder / "sources.toml")
        runs = []
        for _ in range(2):
            already = len(site.requests)
            started = time.monotonic()
            summary = ingest(sources=str(sources), db=str(db), allow_private=True)
            seconds = time.monotonic() - started
            runs.append(Run(summary, seconds, audit(db, site), site.requests[already:], table_counts(db)))
    return Crawl(site, *runs)


def entries(site: FaultSite, fault_name: str):
    return [entry for entry in site.entries if entry.fault is FAULTS_BY_NAME[fault_name]]


def hits(run: Run, path: str) -> list[float]:
    return [record.at for record in run.requests if record.path == path]


def test_every_good_page_is_loaded_exactly_once(crawl):
    result = crawl.first.audit
    assert (result.missing, result.doubled, result.wrong_titles) == ([], [], [])
    assert result.loaded == crawl.first.summary.loaded == result.expected_loaded
    assert crawl.first.counts["duplicates"] == 0  # all texts differ: none may be merged as a near copy
    assert crawl.first.summary.discovered == 500


def test_every_faulty_page_is_rejected_for_its_fault(crawl):
    result = crawl.first.audit
    assert (result.wrongly_loaded, result.unexplained) == ([], [])
    stages = Counter(reason.split(":", 1)[0] for reason in result.rejects_by_reason.elements())
    assert stages == {stage: sum(f.count for f in FAULTS if f.stage == stage) for stage in ("fetch", "parse", "decode")}
    assert crawl.first.summary.rejected == sum(fault.count for fault in FAULTS if fault.stage)


def test_500s_and_429_are_retried_into_success_and_other_retries_stop(crawl):
    for entry in entries(crawl.site, "500-twice-then-200"):
        assert len(hits(crawl.first, entry.path)) == 3
    for entry in entries(crawl.site, "429-retry-after-then-200"):
        first, second = hits(crawl.first, entry.path)
        assert second - first >= 0.95  # Retry-After: 1 was honoured
    for name in ("always-503", "connection-reset"):
        for entry in entries(crawl.site, name):
            assert len(hits(crawl.first, entry.path)) == ATTEMPTS, name
    # refusals, and servers slow on purpose: not failures worth another try
    for name in ("stall-before-headers", "stall-mid-body", "drip-1-byte-per-second", "drip-headers",
                 "50mb-declared", "50mb-streamed", "gzip-bomb"):
        for entry in entries(crawl.site, name):
            assert len(hits(crawl.first, entry.path)) == 1, name


def test_robots_txt_is_obeyed_and_every_request_names_tinbai(crawl):
    for run in (crawl.first, crawl.second):
        paths = [record.path for record in run.requests]
        assert paths.count("/robots.txt") == 1
        assert not [path for path in paths if path.startswith("/private/") or path.endswith(".htm")]
        assert {record.user_agent for record in run.requests} == {USER_AGENT}


def test_the_run_ends_within_its_budget(crawl):
    assert crawl.first.seconds < BUDGET_SECONDS
    # each stall costs one read timeout, each drip the total timeout: the floor of the run
    stalls = sum(f.count for f in FAULTS if f.name.startswith("stall")) * FAST_TIMEOUTS["read_timeout_seconds"]
    drips = sum(f.count for f in FAULTS if f.name.startswith("drip")) * FAST_TIMEOUTS["total_timeout_seconds"]
    assert crawl.first.seconds >= stalls + drips


def test_huge_bodies_are_cut_off_at_the_cap(crawl):
    for name in ("50mb-declared", "50mb-streamed"):
        for entry in entries(crawl.site, name):
            # the client hung up after the cap; what else was sent sat in socket buffers
            assert crawl.site.body_bytes_sent[entry.path] < HUGE_BYTES * 0.8, name


def test_a_rerun_adds_nothing(crawl):
    first, second = crawl.first, crawl.second
    assert second.counts == first.counts
    assert (second.summary.read, second.summary.loaded, second.summary.duplicates) == (0, 0, 0)
    assert second.audit.doubled == [] and second.audit.missing == []
    assert not [record for record in second.requests if record.path.startswith("/tin/")]  # stored: not asked again
    # what failed to fetch waits out its back-off: not asked again, counted
    fetch_faults = [entry for entry in crawl.site.entries if entry.fault and entry.fault.stage == "fetch"]
    assert not [record for record in second.requests if record.path in {entry.path for entry in fetch_faults}]
    assert second.summary.skipped_not_due == len(fetch_faults)


# Fetches the big faults in a fresh interpreter after a warm-up fetch, with the kernel's
# peak-RSS mark (VmHWM) reset in between: its rise is what reading them cost (a body read
# whole would add 50 MB, the inflated bomb 256 MB).
MEMORY_PROBE = r"""
import json, re, sys
from sources.fetch import Fetcher, FetchSettings

def status_kib(field):
    with open("/proc/self/status") as status:
        return int(re.search(field + r":\s+(\d+)", status.read())[1])

settings = FetchSettings(allow_private=True, host_interval=0.0, **json.loads(sys.argv[1]))
with Fetcher(settings) as fetcher:
    warm_up = fetcher.fetch(sys.argv[2])
    with open("/proc/self/clear_refs", "w") as marks:
        marks.write("5")
    before = status_kib("VmRSS")
    reasons = [fetcher.fetch(url).reject_reason for url in sys.argv[3:]]
    peak = status_kib("VmHWM")
print(json.dumps({"warm_up_ok": warm_up.ok, "reasons": reasons, "growth_kib": peak - before}))
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc/self/clear_refs")
def test_peak_memory_stays_bounded_on_huge_bodies_and_gzip_bombs():
    with FaultSite() as site:
        good = next(entry for entry in site.entries if entry.fault is None)
        big = [entries(site, name)[0] for name in ("50mb-declared", "50mb-streamed", "gzip-bomb")]
        probe = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, json.dumps(fetch_settings_of(FAST_TIMEOUTS)), site.url(good), *map(site.url, big)],
            capture_output=True, text=True, timeout=120, cwd=PROJECT)
    assert probe.returncode == 0, probe.stderr
    measured = json.loads(probe.stdout)
    assert measured["warm_up_ok"]
    assert measured["reasons"] == [f"too large: {HUGE_BYTES} bytes, more than the {SIZE_CAP} byte limit",
                                   f"too large: more than {SIZE_CAP} bytes", f"too large: more than {SIZE_CAP} bytes"]
    # the cap (10 MiB) held once, plus allocator slack; reading either body whole would pass 50 MB
    assert measured["growth_kib"] * 1024 < SIZE_CAP + 16 * 1024 * 1024, measured
