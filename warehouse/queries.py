"""Analysts' read-only queries: only SELECT-like statements, on a read-only, sandboxed connection."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Callable

import duckdb

from transforms.errors import TinbaiError
from warehouse.connection import first_line, load_fts, open_failure, read_only_connection
from warehouse.location import WarehouseError, warehouse_for
from warehouse.lock import retry_busy

SANDBOX = {"enable_external_access": False, "lock_configuration": True}
# EXPLAIN, its options, and whatever comments come first: what follows must be a SELECT,
# since EXPLAIN ANALYZE runs the statement it explains.
_EXPLAIN = re.compile(r"^(?:\s+|--[^\n]*|/\*.*?\*/)*EXPLAIN(?:\s+ANALY[SZ]E\b|\s*\([^)]*\))?", re.IGNORECASE | re.DOTALL)
# Functions a SELECT may not call: the catalog databases' own (a DuckLake's SQLite or
# PostgreSQL catalog: sqlite_scan opens any SQLite file, postgres_query runs SQL on the
# server, both past enable_external_access), DuckLake's maintenance (they write or delete),
# and query()/query_table(), which would run SQL text this check never saw. DuckLake's
# read-only views of its history stay allowed.
_REFUSED_FUNCTION = re.compile(
    r"^(?:query|query_table|(?:postgres|sqlite|mysql)_\w*"
    r"|ducklake_(?!(?:snapshots|table_info|list_files|table_changes|table_insertions|table_deletions"
    r"|current_snapshot|last_committed_snapshot|options)$)\w*)$",
    re.IGNORECASE,
)


class QueryError(TinbaiError, ValueError):
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
        kind = statement.type
        if kind == duckdb.StatementType.EXPLAIN:
            kind = _explained_type(statement)
        if kind != duckdb.StatementType.SELECT:
            name = kind.name.lower() if kind is not None else "this explain"
            raise QueryError(f"refused: {name} statements are not allowed; tinbai query only reads (SELECT)")
        for function in sorted(_functions(_EXPLAIN.sub("", statement.query, count=1))):
            if _REFUSED_FUNCTION.match(function):
                raise QueryError(f"refused: {function}() is not allowed; tinbai query only reads the warehouse")


def _functions(select: str) -> set[str]:
    """Every function a SELECT names, from DuckDB's own parse tree of it."""
    scratch = duckdb.connect()
    try:
        tree = json.loads(scratch.execute("SELECT json_serialize_sql(?)", [select]).fetchone()[0])
    finally:
        scratch.close()
    if tree.get("error"):
        raise QueryError(tree.get("error_message") or "the statement could not be parsed")
    found, pending = set(), [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("function_name"), str):
                found.add(node["function_name"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _explained_type(statement) -> duckdb.StatementType | None:
    """The type of the statement an EXPLAIN explains (EXPLAIN ANALYZE executes it); None when unclear."""
    explained, found = _EXPLAIN.subn("", statement.query, count=1)
    if not found:
        return None
    try:
        inner = duckdb.extract_statements(explained)
    except duckdb.Error:
        return None
    return inner[0].type if len(inner) == 1 else None


def open_read_only(
    db: str | os.PathLike | None = None, extensions: Callable[[duckdb.DuckDBPyConnection], None] | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection that can neither write the warehouse nor touch other files, nor change settings.

    `extensions` loads what a caller needs (the fts extension) before the doors close. A
    DuckLake is attached READ_ONLY; only its data folder stays readable (DuckLake reads its
    Parquet files through DuckDB's file system, so it is added to allowed_directories).
    """
    warehouse = warehouse_for(db)
    if not warehouse.exists():
        raise WarehouseError(f"no warehouse at {warehouse} (run 'tinbai ingest' first, or pass --db)")
    try:
        return retry_busy(lambda: read_only_connection(warehouse, SANDBOX, extensions))
    except duckdb.Error as error:
        raise WarehouseError(open_failure(warehouse, error)) from error


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
