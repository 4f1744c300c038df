"""`tinbai export`: every table of the warehouse as Parquet or CSV files, one per table.

Rows stream from DuckDB as Arrow record batches into pyarrow writers, so a table larger
than memory exports too, and no file name ever goes into an SQL string.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from transforms.errors import TinbaiError
from warehouse.queries import open_read_only

FORMATS = ("parquet", "csv")
_ROWS_PER_BATCH = 10_000


class ExportError(TinbaiError, RuntimeError):
    """The export could not be written; one line for the user."""


@dataclass(frozen=True)
class Exported:
    table: str
    rows: int
    path: Path


def export_tables(directory: str | os.PathLike, file_format: str, db: str | os.PathLike | None = None) -> list[Exported]:
    if file_format not in FORMATS:
        raise ExportError(f"unknown format {file_format!r}: choose {' or '.join(FORMATS)}")
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create {target}: {error.strerror}") from error
    con = open_read_only(db)
    try:
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'"
            " AND NOT internal ORDER BY table_name"
        ).fetchall()]
        return [_export(con, table, target / f"{table}.{file_format}", file_format) for table in tables]
    finally:
        con.close()


def _export(con, table: str, path: Path, file_format: str) -> Exported:
    reader = con.execute(f'SELECT * FROM "{table}"').fetch_record_batch(_ROWS_PER_BATCH)
    rows = 0
    try:
        writer = (pq.ParquetWriter(path, reader.schema) if file_format == "parquet"
                  else pa_csv.CSVWriter(path, reader.schema))
        with writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from error
    return Exported(table, rows, path)
