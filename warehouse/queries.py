"""Analysts' read-only queries: only SELECT-like statements, on a read-only, sandboxed connection."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import duckdb

from warehouse.connection import WarehouseError, first_line, load_fts, open_failure, resolve_path
from warehouse.lock import retry_busy

ALLOWED_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


class QueryError(ValueError):
    """The SQL was refused or failed; the message is one line for the user."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]


def check_read_only(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(first_line(error)) from error
    if not statements:
        raise QueryError("no SQL statement given")
    for statement in statements:
        if statement.type not in ALLOWED_STATEMENTS:
            kind = statement.type.name.lower()
            raise QueryError(f"refused: {kind} statements are not allowed; tinbai query only reads (SELECT)")


def open_read_only(
    db: str | os.PathLike | None = None, extensions: Callable[[duckdb.DuckDBPyConnection], None] | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection that can neither write the warehouse nor touch other files, nor change settings.

    `extensions` loads what a caller needs (the fts extension) before the doors close.
    """
    path = resolve_path(db)
    if not path.is_file():
        raise WarehouseError(f"no warehouse at {path} (run 'tinbai ingest' first, or pass --db)")
    sandbox = {"enable_external_access": False, "lock_configuration": True}
    try:
        con = retry_busy(lambda: duckdb.connect(str(path), read_only=True, config={} if extensions else sandbox))
    except duckdb.Error as error:
        raise WarehouseError(open_failure(path, error)) from error
    if extensions:
        extensions(con)
        for setting, value in sandbox.items():
            con.execute(f"SET {setting} = {str(value).lower()}")
    return con


def run_query(sql: str, db: str | os.PathLike | None = None) -> QueryResult:
    check_read_only(sql)
    con = open_read_only(db, extensions=load_fts)  # so analysts can rank with match_bm25 too
    try:
        cursor = con.execute(sql)
        columns = [column[0] for column in cursor.description or []]
        return QueryResult(columns, cursor.fetchall())
    except duckdb.Error as error:
        raise QueryError(first_line(error)) from error
    finally:
        con.close()
