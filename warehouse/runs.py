"""The `runs` table: a writing run recorded when it starts and when it ends, however it ends."""
from __future__ import annotations

import json
from datetime import datetime

import duckdb

from transforms.dates import utc_now


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str, parameters: dict) -> datetime:
    """Record the run; returns its start, which is also the 'first seen' time of what it loads."""
    started = utc_now()
    con.execute(
        "INSERT INTO runs (run_id, flow, parameters, started_at, status) SELECT ?, ?, ?, ?, 'running'"
        " WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = ?)",
        [run_id, flow, json.dumps(parameters, ensure_ascii=False, default=str), started, run_id],
    )
    return con.execute("SELECT started_at FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]


def mark_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Runs still 'running' when a writer takes the lock died without finishing (the lock proves it)."""
    (interrupted,) = con.execute(  # an UPDATE answers with its row count (DuckLake has no RETURNING)
        "UPDATE runs SET status = 'interrupted', message = 'the process ended before the run finished'"
        " WHERE status = 'running'"
    ).fetchone()
    return interrupted


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: dict[str, int], message: str | None = None
) -> None:
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, read_count = ?, unchanged_count = ?, loaded_count = ?,"
        " duplicate_count = ?, exact_duplicate_count = ?, near_duplicate_count = ?, rejected_count = ?, message = ?"
        " WHERE run_id = ?",
        [
            utc_now(), status, counts.get("read", 0), counts.get("unchanged", 0), counts.get("loaded", 0),
            counts.get("duplicates", 0), counts.get("exact_duplicates", 0), counts.get("near_duplicates", 0),
            counts.get("rejected", 0), message, run_id,
        ],
    )
