"""`tinbai export`: every table and view of the warehouse as Parquet or CSV files, one per
relation, whole or only the rows changed since a moment (increments for downstream loads).

Rows stream from DuckDB in batches into the writers (Arrow record batches into Parquet,
rows into CSV through warehouse.output), so a table larger than memory exports too, and no
file name ever goes into an SQL string. Parquet keeps instants as TIMESTAMPTZ; CSV writes
them in the session's time zone (Vietnam time) with their offset, lists and structs as
JSON, BLOBs as base64.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

from transforms.errors import TinbaiError
from warehouse.output import fetched, write_csv
from warehouse.queries import open_read_only

FORMATS = ("parquet", "csv")
_ROWS_PER_BATCH = 10_000

# Members (articles, duplicates) changed since the moment: loaded, rebuilt or re-linked then.
_CHANGED_MEMBERS = (
    "SELECT article_id FROM articles WHERE loaded_at >= $since"
    " OR last_run_id IN (SELECT run_id FROM runs WHERE started_at >= $since)"
    " UNION ALL SELECT duplicate_id FROM duplicates WHERE detected_at >= $since"
)
# What "changed since" means for each table: a condition on its rows, `$since` the moment.
# A view is always written whole (its rows are summaries over every row). A table not listed
# here is written whole too, and the export says so. Rows deleted since (an article that
# became a duplicate) are not in an increment: that member's row in `duplicates` is.
CHANGED_SINCE = {
    "articles": "loaded_at >= $since OR last_run_id IN (SELECT run_id FROM runs WHERE started_at >= $since)",
    "duplicates": "detected_at >= $since",
    "document_refs": f"article_id IN ({_CHANGED_MEMBERS})",
    "people": f"article_id IN ({_CHANGED_MEMBERS})",
    "search_corpus": f"article_id IN ({_CHANGED_MEMBERS})",
    "member_bands": f"member_id IN ({_CHANGED_MEMBERS})",
    "raw_documents": "received_at >= $since",
    "rejects": "rejected_at >= $since",
    "runs": "started_at >= $since OR finished_at >= $since",
    "fetch_state": "last_fetched_at >= $since",
    "fetch_failures": "last_failed_at >= $since",
    "article_versions": "last_seen_at >= $since",
    "takedowns": "removed_at >= $since OR restored_at >= $since",
    "job_progress": "finished_at >= $since",
    "schema_migrations": "applied_at >= $since",
}


class ExportError(TinbaiError, RuntimeError):
    """The export could not be written; one line for the user."""


@dataclass(frozen=True)
class Exported:
    table: str  # a table or a view
    rows: int
    path: Path
    whole: bool  # every row, not only those changed since


def export_tables(directory: str | os.PathLike, file_format: str, db: str | os.PathLike | None = None,
                  since: datetime | None = None) -> list[Exported]:
    if file_format not in FORMATS:
        raise ExportError(f"unknown format {file_format!r}: choose {' or '.join(FORMATS)}")
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create {target}: {error.strerror}") from error
    con = open_read_only(db)
    try:
        relations = con.execute(
            "SELECT table_name, 'table' FROM duckdb_tables() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND NOT internal"
            " UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND NOT internal ORDER BY 1"
        ).fetchall()
        return [_export(con, name, kind, target / f"{name}.{file_format}", file_format, since)
                for name, kind in relations]
    finally:
        con.close()


def _export(con, name: str, kind: str, path: Path, file_format: str, since: datetime | None) -> Exported:
    condition = CHANGED_SINCE.get(name) if since is not None and kind == "table" else None
    sql = f'SELECT * FROM "{name}"' + (f" WHERE {condition}" if condition else "")
    parameters = {"since": since} if condition and "$since" in condition else {}
    cursor = con.execute(sql, parameters) if parameters else con.execute(sql)
    try:
        if file_format == "parquet":
            rows = _write_parquet(cursor, path)
        else:
            with path.open("w", encoding="utf-8", newline="") as stream:
                rows = write_csv(fetched(cursor, _ROWS_PER_BATCH), stream, blobs="base64")
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from error
    return Exported(name, rows, path, whole=condition is None)


def _write_parquet(cursor, path: Path) -> int:
    reader = cursor.fetch_record_batch(_ROWS_PER_BATCH)
    rows = 0
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows
