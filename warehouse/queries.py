"""Analysts' read-only queries: only SELECT-like statements, on a read-only, sandboxed connection."""
from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import duckdb

from transforms.dates import VIETNAM
from transforms.errors import TinbaiError
from warehouse.connection import first_line, open_failure, read_only_connection
from warehouse.location import WarehouseError, warehouse_for
from warehouse.lock import retry_busy
from warehouse.output import Rows, fetched

SANDBOX = {"enable_external_access": False, "lock_configuration": True}
TIMEZONE_SETTING = "TINBAI_TIMEZONE"  # the time zone of every read-only session
DEFAULT_TIMEZONE = VIETNAM.tzname(None)  # news time is Vietnam time
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


def site_key(alias: str) -> str:
    """What `--site NAME` matches in every command: the sources file's site a member was
    fetched for, else (a file, or a page fetched for no site) the outlet's name."""
    return f"coalesce({alias}.sources_site, {alias}.site)"


def published_and_site(alias: str, since, until, site: str | None) -> tuple[list[str], list]:
    """SQL conditions (and their parameters) for --since, --until (on published_at) and --site."""
    conditions, parameters = [], []
    for condition, value in ((f"{alias}.published_at >= ?", since), (f"{alias}.published_at < ?", until),
                             (f"{site_key(alias)} = ?", site)):
        if value is not None:
            conditions.append(condition)
            parameters.append(value)
    return conditions, parameters


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

    Its time zone is Vietnam's (TINBAI_TIMEZONE to change it), set before the settings are
    locked: date functions, casts and the instants it returns are in Vietnam time.
    `extensions` loads what a caller needs (the fts extension) before the doors close. A
    DuckLake is attached READ_ONLY; only its data folder stays readable (DuckLake reads its
    Parquet files through DuckDB's file system, so it is added to allowed_directories).
    """
    warehouse = warehouse_for(db)
    if not warehouse.exists():
        raise WarehouseError(f"no warehouse at {warehouse} (run 'tinbai ingest' first, or pass --db)")
    zone = session_time_zone()

    def prepare(con: duckdb.DuckDBPyConnection) -> None:
        set_time_zone(con, zone)
        if extensions:
            extensions(con)

    try:
        return retry_busy(lambda: read_only_connection(warehouse, SANDBOX, prepare))
    except duckdb.Error as error:
        raise WarehouseError(open_failure(warehouse, error)) from error


def session_time_zone() -> str:
    return os.environ.get(TIMEZONE_SETTING) or DEFAULT_TIMEZONE


def set_time_zone(con: duckdb.DuckDBPyConnection, zone: str) -> None:
    # SET takes no prepared parameter: the name is checked against the zones ICU knows first.
    if not con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [zone]).fetchone()[0]:
        raise WarehouseError(f"{TIMEZONE_SETTING}={zone!r} is not a time zone (e.g. Asia/Ho_Chi_Minh, UTC)")
    con.execute(f"SET TimeZone = '{zone}'")


@contextmanager
def streamed_query(sql: str, db: str | os.PathLike | None = None) -> Iterator[Rows]:
    """The rows of the last statement, fetched in batches while the connection is open."""
    from warehouse.search import prepare_search_session  # (warehouse.search reads through this module)

    check_read_only(sql)
    con = open_read_only(db, extensions=prepare_search_session)  # so analysts can rank with search_hits()
    try:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as error:
            raise QueryError(first_line(error)) from error
        yield _errors_as_query_errors(fetched(cursor))
    finally:
        con.close()


def _errors_as_query_errors(rows: Rows) -> Rows:
    def batches():
        try:
            yield from rows.batches
        except duckdb.Error as error:
            raise QueryError(first_line(error)) from error

    return Rows(rows.columns, batches())


def run_query(sql: str, db: str | os.PathLike | None = None) -> QueryResult:
    with streamed_query(sql, db) as rows:
        return QueryResult(rows.columns, list(rows))
