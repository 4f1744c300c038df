"""One writer at a time: a run that writes the warehouse holds `<warehouse>.lock` for its whole length.

The lock is an advisory `flock` on a file beside the warehouse: beside a DuckLake's catalog
file, or, for a PostgreSQL catalog, in the project's warehouse folder (so it serialises this
machine's writers only). The kernel drops it when its holder exits, however it exits
(kill -9 included), so a crashed run never leaves the warehouse locked. A second writer (a scheduled run during a manual backfill, two ingests)
waits for it, bounded, then fails with a message naming the holder.

DuckDB's own file lock is held only while a connection is open: a writer opens one per
batch, so readers (`tinbai query`, `tinbai search`) get in between batches; `retry_busy`
makes both sides wait for each other briefly instead of failing on "Could not set lock".
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, TypeVar

import duckdb

from transforms.dates import utc_now
from warehouse.location import WarehouseError, warehouse_for

# How long a second writer waits for the first one to finish before giving up. A run of
# the whole baomoi corpus takes ~30 s and an hourly crawl a few minutes; 15 minutes covers a
# scheduled run that overlaps a manual one without letting a stuck run block forever.
DEFAULT_WRITER_WAIT_SECONDS = 900.0
# How long one connection attempt waits for DuckDB's file lock (another process's
# connection open between batches, or a reader's query).
DEFAULT_BUSY_WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.05

T = TypeVar("T")


class WarehouseBusy(WarehouseError):
    """Another process kept the warehouse for longer than we were willing to wait."""


def lock_path(database) -> Path:
    """`<file>.lock` beside a DuckDB file or a DuckLake's catalog file (see `Warehouse.lock_path`)."""
    return warehouse_for(database).lock_path


def writer_wait_seconds() -> float:
    return _seconds_setting("TINBAI_WRITER_WAIT", DEFAULT_WRITER_WAIT_SECONDS)


def busy_wait_seconds() -> float:
    return _seconds_setting("TINBAI_BUSY_WAIT", DEFAULT_BUSY_WAIT_SECONDS)


def _seconds_setting(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default


@contextmanager
def writer_lock(database, flow: str, wait_seconds: float | None = None):
    """Hold the warehouse's writer lock for the block; wait up to `wait_seconds` for it.

    Everything a writing process does to the warehouse happens under this lock, its
    start-up checks and migrations included: a DuckLake catalog (SQLite above all) does
    not take a second process's catalog transaction in the middle of a writer's batches.
    """
    wait = writer_wait_seconds() if wait_seconds is None else wait_seconds
    path = lock_path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")
    except OSError as error:
        raise WarehouseError(f"cannot create the warehouse folder {path.parent}: {error.strerror}") from error
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"another run is writing {database} ({_holder(path)}); waited {wait:.0f} s"
                        " (set TINBAI_WRITER_WAIT to wait longer)"
                    ) from None
                time.sleep(min(0.5, max(_POLL_SECONDS, wait / 100)))
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "flow": flow, "since": utc_now().isoformat()}))
        handle.flush()
        yield
    finally:
        handle.close()  # closing the descriptor releases the flock


def check_writable(database, open_warehouse: Callable[[], object]) -> None:
    """Fail now, before a run starts, on a warehouse that cannot be opened and migrated.

    The check takes the writer lock without waiting: when another run holds it, that run
    is writing the same warehouse (so it opens), and touching the catalog now is exactly
    what must not happen beside it; the run will wait its turn for the lock anyway.
    """
    try:
        with writer_lock(database, "start-up check", wait_seconds=0):
            open_warehouse()
    except WarehouseBusy:
        return


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return f"flow {holder['flow']}, PID {holder['pid']}, since {holder['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


def is_busy(error: duckdb.Error) -> bool:
    return isinstance(error, duckdb.IOException) and "Could not set lock" in str(error)


def retry_busy(open_connection: Callable[[], T], wait_seconds: float | None = None) -> T:
    """Call `open_connection` until DuckDB's file lock lets it through or the wait is over."""
    wait = busy_wait_seconds() if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    while True:
        try:
            return open_connection()
        except duckdb.Error as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
            time.sleep(_POLL_SECONDS)
