"""One writer at a time, readers never see DuckDB's raw lock error, a crashed writer never blocks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from conftest import FIXTURES, SEEDS, run_tinbai
from warehouse.connection import opened
from warehouse.location import WarehouseError
from warehouse.lock import WarehouseBusy, lock_path, writer_lock
from warehouse.queries import run_query


def start_python(code: str, *args: str) -> subprocess.Popen:
    """A separate process (DuckDB and flock locks are per process), which prints 'ready' once it holds its lock."""
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


HOLD_WRITER_LOCK = """
    import sys, time
    from pathlib import Path
    from warehouse.lock import writer_lock
    with writer_lock(Path(sys.argv[1]), "test-holder"):
        print("ready", flush=True)
        time.sleep(float(sys.argv[2]))
"""
HOLD_CONNECTION = """
    import sys, time
    import duckdb
    con = duckdb.connect(sys.argv[1])
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
"""


def test_a_second_writer_waits_then_fails_naming_the_holder(db):
    holder = start_python(HOLD_WRITER_LOCK, str(db), "5")
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match=rf"flow test-holder, PID {holder.pid}"):
            with writer_lock(db, "second", wait_seconds=0.5):
                pass
        assert 0.4 < time.monotonic() - started < 3
    finally:
        holder.kill()
        holder.wait()


def test_a_second_writer_gets_the_lock_when_the_first_finishes(db):
    holder = start_python(HOLD_WRITER_LOCK, str(db), "1.5")
    started = time.monotonic()
    with writer_lock(db, "second", wait_seconds=30):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.5 < waited < 10


def test_a_killed_writer_does_not_leave_the_warehouse_locked(db):
    holder = start_python(HOLD_WRITER_LOCK, str(db), "60")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert lock_path(db).exists()  # the file stays; the kernel dropped the lock with its holder
    with writer_lock(db, "after-crash", wait_seconds=0):
        pass


def test_a_query_during_a_write_waits_for_the_connection_to_close(db):
    with opened(db) as con:
        con.execute("INSERT INTO runs (run_id, flow, started_at, status) VALUES ('r1', 'ingest', now(), 'completed')")
    writer = start_python(HOLD_CONNECTION, str(db), "1.5")
    try:
        result = run_query("SELECT count(*) FROM runs", db)
        assert result.rows == [(1,)]
    finally:
        writer.wait()


def test_a_query_that_cannot_wait_long_enough_gets_one_clear_line(db, monkeypatch):
    with opened(db):
        pass
    monkeypatch.setenv("TINBAI_BUSY_WAIT", "0.3")
    writer = start_python(HOLD_CONNECTION, str(db), "5")
    try:
        with pytest.raises(WarehouseError) as caught:
            run_query("SELECT 1", db)
        message = str(caught.value)
        assert f"is busy: process {writer.pid} kept it open" in message and "Could not set lock" not in message
        result = run_tinbai("query", "select 1", "--db", str(db), env={"TINBAI_BUSY_WAIT": "0.3"})
        assert result.returncode == 1 and "is busy" in result.stderr and "Traceback" not in result.stderr
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.slow
def test_two_ingests_at_once_are_serialised_and_nothing_is_lost_or_doubled(db, tmp_path):
    """Two CLI runs started together: one waits for the other; both complete; every article once."""
    inputs = [[str(SEEDS)], [str(FIXTURES / "tuoitre_style.txt"), str(FIXTURES / "vov_style.txt")]]
    runs = [subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "tinbai"), "ingest", *paths, "--db", str(db)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for paths in inputs]
    outcomes = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*), count(DISTINCT source) FROM articles").fetchone() == (7, 7)
        spans = con.execute("SELECT started_at, finished_at, status FROM runs ORDER BY started_at").fetchall()
    finally:
        con.close()
    assert [status for _, _, status in spans] == ["completed", "completed"]
    assert spans[0][1] <= spans[1][0]  # the second run began writing after the first had finished
