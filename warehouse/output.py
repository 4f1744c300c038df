"""Rows out of the warehouse as text that pipes: CSV (RFC 4180, `\\n` line ends, as the DuckDB
CLI writes it), JSON Lines and JSON, written as they are fetched, so memory stays bounded
whatever the number of rows.

Values are written as a person reads them: instants in the session's time zone (Vietnam
time unless TINBAI_TIMEZONE says otherwise) with their offset, lists and structs as JSON,
decimals as numbers.
"""
from __future__ import annotations

import base64
import csv
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Iterable, Iterator
from uuid import UUID

ROWS_PER_FETCH = 10_000


@dataclass
class Rows:
    """A result being read: its column names and its rows, fetched in batches as they are iterated."""

    columns: list[str]
    batches: Iterable[list[tuple]]

    def __iter__(self) -> Iterator[tuple]:
        for batch in self.batches:
            yield from batch


def fetched(cursor, rows_per_fetch: int = ROWS_PER_FETCH) -> Rows:
    """The rows of an executed DuckDB cursor, `rows_per_fetch` at a time."""

    def batches():
        while batch := cursor.fetchmany(rows_per_fetch):
            yield batch

    return Rows([column[0] for column in cursor.description or []], batches())


def plain(value, blobs: str = "size"):
    """A value as CSV and JSON write it. `blobs`: "size" shows a BLOB as `<N bytes>` (for reading),
    "base64" keeps its bytes (for exports)."""
    if isinstance(value, datetime):
        return value.isoformat()  # an instant comes in the session's time zone, with its offset
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return base64.b64encode(data).decode("ascii") if blobs == "base64" else f"<{len(data)} bytes>"
    if isinstance(value, (timedelta, UUID)):
        return str(value)
    if isinstance(value, (list, tuple, dict)):
        return _structured(value, blobs)
    return value


def _structured(value, blobs: str):
    if isinstance(value, dict):
        return {str(key): _structured(item, blobs) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_structured(item, blobs) for item in value]
    return plain(value, blobs)


def _csv_cell(value, blobs: str):
    value = plain(value, blobs)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"  # as DuckDB writes booleans
    return value


def write_csv(rows: Rows, stream: IO[str], blobs: str = "size") -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(rows.columns)
    count = 0
    for batch in rows.batches:
        writer.writerows([[_csv_cell(value, blobs) for value in row] for row in batch])
        count += len(batch)
    return count


def write_jsonl(rows: Rows, stream: IO[str], blobs: str = "size") -> int:
    count = 0
    for batch in rows.batches:
        stream.writelines(json.dumps(dict(zip(rows.columns, (plain(value, blobs) for value in row))),
                                     ensure_ascii=False) + "\n" for row in batch)
        count += len(batch)
    return count


def write_json(rows: Rows, stream: IO[str], blobs: str = "size") -> int:
    """One JSON array of objects, written object by object."""
    count = 0
    stream.write("[")
    for batch in rows.batches:
        for row in batch:
            stream.write(",\n" if count else "\n")
            stream.write(json.dumps(dict(zip(rows.columns, (plain(value, blobs) for value in row))), ensure_ascii=False))
            count += 1
    stream.write("\n]\n" if count else "]\n")
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl, "json": write_json}
