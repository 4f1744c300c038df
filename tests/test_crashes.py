"""Crashes, locks and bad places to write: the warehouse opens afterwards, nothing is lost or doubled."""
from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from conftest import SEEDS, run_tinbai
from crashloop import crash_loop

# CI kills a few runs; bench/faults.py kills many (TINBAI_KILL_CYCLES there).
KILL_CYCLES = int(os.environ.get("TINBAI_KILL_CYCLES", "3"))


@pytest.mark.slow
def test_kill_9_during_loads_loses_and_doubles_nothing(tmp_path, prefect_server):
    from prefect.settings import PREFECT_API_URL

    # The runs talk to the session's Prefect server, so each start costs seconds, not an ephemeral server's 15.
    report = crash_loop(tmp_path, KILL_CYCLES, records=1500, batch_size=150, env={"PREFECT_API_URL": PREFECT_API_URL.value()})
    assert report.cycles == KILL_CYCLES
    assert report.partial_batches == 0
    assert (report.lost, report.doubled) == (0, 0)
    assert report.killed_mid_run >= 1 and report.interrupted_runs == report.killed_mid_run


HOLD_CONNECTION = "import duckdb, sys, time\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\ntime.sleep(30)"


def test_a_warehouse_held_by_another_program_gives_one_line_and_stays_intact(db):
    result = run_tinbai("ingest", str(SEEDS), "--db", str(db))
    assert result.returncode == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLD_CONNECTION, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        blocked = run_tinbai("ingest", str(SEEDS / "000_6fb314cf2de25433.txt"), "--db", str(db), env={"TINBAI_BUSY_WAIT": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr
    assert blocked.stderr.strip().count("\n") == 0 and f"is busy: process {holder.pid}" in blocked.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
    finally:
        con.close()


@pytest.mark.parametrize("place", ["/proc/tinbai/warehouse.duckdb", "{tmp}/a-file/warehouse.duckdb", "{tmp}"])
def test_a_warehouse_that_cannot_be_written_gives_one_line(tmp_path, place):
    (tmp_path / "a-file").write_text("not a folder")
    result = run_tinbai("ingest", str(SEEDS), "--db", place.format(tmp=tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinbai: error:") and "warehouse" in lines[0]
