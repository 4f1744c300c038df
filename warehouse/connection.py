"""Opening the warehouse: read-only or writable, the schema migrated on first use.

Everything else in tinbai talks to a `Warehouse` (warehouse.location) and to plain DuckDB
connections: a DuckLake is attached as the database `warehouse` of an in-memory DuckDB and
made the default (`USE warehouse`), so the same SQL runs on both. The ducklake, sqlite and
postgres extensions come from duckdb-ext wheels, never from the network.
"""
from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import duckdb_ext

from warehouse.location import DATA_SETTING, Warehouse, WarehouseError, warehouse_for
from warehouse.lock import busy_wait_seconds, is_busy, retry_busy
from warehouse.migrations import define_lake_macros, migrate

LAKE_ALIAS = "warehouse"  # the attached DuckLake's name in every connection
# SQLite catalogs: readers never block the writer (WAL), and a busy catalog is waited for.
SQLITE_OPTIONS = {"META_JOURNAL_MODE": "WAL", "META_BUSY_TIMEOUT": 30_000}
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
_CATALOG_EXTENSIONS = {"duckdb": None, "sqlite": "sqlite", "postgres": "postgres"}


def writable_connection(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    if not warehouse.is_lake:
        return duckdb.connect(warehouse.location)
    # An in-memory DuckDB of its own per connection, the lake attached to it. (A named
    # in-memory database shared by the process's connections hangs on reconnecting after
    # a failed DuckLake commit in duckdb 1.4.4.) So, as with a DuckDB file opened
    # read-only and writable at once, one process holds one connection to a DuckDB-file
    # catalog at a time: a second attach of that file is refused.
    con = duckdb.connect()
    try:
        _attach(warehouse, con, read_only=False)
        con.execute(f"USE {LAKE_ALIAS}")
        define_lake_macros(con)
    except BaseException:
        con.close()
        raise
    return con


def read_only_connection(warehouse: Warehouse, sandbox: dict[str, bool], prepare=None) -> duckdb.DuckDBPyConnection:
    """A read-only connection; `prepare(con)` runs before `sandbox` settings are applied."""
    if not warehouse.is_lake:
        con = duckdb.connect(warehouse.location, read_only=True, config={} if prepare else sandbox)
        if prepare:
            try:
                prepare(con)
                _apply(con, sandbox)
            except BaseException:
                con.close()
                raise
        return con
    con = duckdb.connect()  # an instance of its own: its settings get locked
    try:
        _attach(warehouse, con, read_only=True)
        con.execute(f"USE {LAKE_ALIAS}")
        define_lake_macros(con)
        if prepare:
            prepare(con)
        if not sandbox.get("enable_external_access", True):
            # DuckLake reads its Parquet files through DuckDB's file system: that folder
            # stays readable, nothing else (the catalog was opened by the attach).
            con.execute("SET allowed_directories = ?", [[_as_directory(stored_data_path(con))]])
        _apply(con, sandbox)
    except BaseException:
        con.close()
        raise
    return con


def stored_data_path(con: duckdb.DuckDBPyConnection) -> str:
    """The data folder the attached DuckLake's catalog remembers."""
    return con.execute(
        f"SELECT value FROM __ducklake_metadata_{LAKE_ALIAS}.ducklake_metadata WHERE key = 'data_path'"
    ).fetchone()[0]


def _attach(warehouse: Warehouse, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
    load_extensions(con, "ducklake", _CATALOG_EXTENSIONS[warehouse.catalog])
    options = []
    if warehouse.catalog == "sqlite":
        options += [f"{name} {_literal(value)}" for name, value in SQLITE_OPTIONS.items()]
    if read_only:
        options.append("READ_ONLY")
    if warehouse.path is not None and not read_only:
        warehouse.path.parent.mkdir(parents=True, exist_ok=True)

    def attach(data_path: str | None) -> None:
        # ATTACH takes no prepared parameters: the setting is quoted as an SQL literal.
        given = options + ([f"DATA_PATH {_literal(data_path)}"] if data_path else [])
        con.execute(f"ATTACH {_literal(str(warehouse))} AS {LAKE_ALIAS}" + (f" ({', '.join(given)})" if given else ""))

    try:
        attach(warehouse.data_path)  # an existing lake knows its data folder
    except duckdb.InvalidInputException as error:
        if warehouse.data_path or warehouse.path is None or "data_path is not set" not in str(error):
            raise
        # A new lake with a file catalog: its data beside it, where DuckLake puts a DuckDB
        # catalog's by itself (for a SQLite catalog it has no default).
        attach(str(warehouse.path) + ".files/")


def _literal(value) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _as_directory(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def _apply(con: duckdb.DuckDBPyConnection, settings: dict[str, bool]) -> None:
    for setting, value in settings.items():
        con.execute(f"SET {setting} = {str(value).lower()}")


def load_extensions(con: duckdb.DuckDBPyConnection, *names: str | None) -> None:
    """Extensions from the duckdb-ext wheels, with auto-install and auto-load off: never the network."""
    duckdb_ext.init(con)
    con.execute("SET autoload_known_extensions = false")
    for name in names:
        if name is None:
            continue
        try:
            con.execute(f"LOAD {name}")
        except duckdb.IOException as error:
            raise WarehouseError(
                f"the DuckDB extension {name!r} is not installed: pip install duckdb-ext-{name}=={duckdb.__version__}.*"
                f" ({first_line(error)})"
            ) from error


def connect(db: str | os.PathLike | Warehouse | None = None) -> duckdb.DuckDBPyConnection:
    """A writable connection to a migrated warehouse.

    A DuckLake whose catalog takes several processes (SQLite, PostgreSQL) may be created or
    migrated by two of them at once: the loser's catalog write fails ("database is locked",
    a conflicting commit) and is tried again, as DuckDB's file lock is waited for, up to
    TINBAI_BUSY_WAIT seconds; migrations already applied by the other are then skipped.
    """
    warehouse = warehouse_for(db)
    if warehouse.path is not None:
        try:
            warehouse.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise WarehouseError(f"cannot create the warehouse folder {warehouse.path.parent}: {error.strerror}") from error
    deadline = time.monotonic() + busy_wait_seconds()
    while True:
        stage = "open"
        try:
            con = retry_busy(lambda: writable_connection(warehouse))
            stage = "prepare"
            try:
                migrate(con, lake=warehouse.is_lake)
            except BaseException:
                con.close()
                raise
            return con
        except duckdb.Error as error:
            if warehouse.is_lake and _contended(error) and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            if stage == "prepare":
                raise WarehouseError(f"cannot prepare the warehouse {warehouse}: {first_line(error)}") from error
            message = open_failure(warehouse, error)
            if "data_path is not set" in message:
                message = f"cannot create the warehouse {warehouse}: set {DATA_SETTING} to the folder for its data files"
            raise WarehouseError(message) from error


def _contended(error: duckdb.Error) -> bool:
    """A catalog write that lost to another process's (creating the lake, or a migration): worth trying again."""
    text = str(error)
    return any(sign in text for sign in (
        "database is locked", "Failed to commit DuckLake transaction", "Failed to initialize DuckLake", "already exists",
    ))


@contextmanager
def opened(db: str | os.PathLike | Warehouse | None = None):
    """A writable connection, closed on exit. Read-only access goes through warehouse.queries."""
    con = connect(db)
    try:
        yield con
    finally:
        con.close()


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this connection's default database is a DuckLake."""
    return con.execute(
        "SELECT type = 'ducklake' FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """The full-text search extension, from the duckdb-ext-fts wheel: never from the network."""
    load_extensions(con, "fts")


def open_failure(warehouse: Warehouse | Path | str, error: duckdb.Error) -> str:
    """One line for a connection that could not be made; a busy file names the holder, not DuckDB's internals."""
    if is_busy(error):
        holder = _LOCK_HOLDER.search(str(error))
        who = f"process {holder[1]}" if holder else "another process"
        return f"the warehouse {warehouse} is busy: {who} kept it open for more than {busy_wait_seconds():.0f} s (set TINBAI_BUSY_WAIT to wait longer)"
    return f"cannot open the warehouse {warehouse}: {first_line(error)}"


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
