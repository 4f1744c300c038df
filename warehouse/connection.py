"""Opening the warehouse: where it is, which backend, read-only or writable, schema migrated on first use.

Two backends, chosen by the connection setting (`--db`, else `$TINBAI_DB`, else
warehouse/tinbai.duckdb in the project):

    FILE                            a DuckDB database file
    ducklake:FILE                   a DuckLake: catalog in the DuckDB file FILE, data as Parquet
    ducklake:sqlite:FILE            a DuckLake whose catalog is the SQLite file FILE
    ducklake:postgres:CONNINFO      a DuckLake whose catalog is a PostgreSQL database (libpq conninfo)

A DuckLake keeps its Parquet files in the data folder it was created with, which its
catalog remembers: `$TINBAI_DUCKLAKE_DATA` when set (passed as DATA_PATH, so it must name
that same folder whenever it is set), else `<catalog file>.files/` beside a file catalog.
A PostgreSQL catalog needs `$TINBAI_DUCKLAKE_DATA` when the lake is created.

Everything else in tinbai talks to a `Warehouse` and to plain DuckDB connections: a
DuckLake is attached as the database `warehouse` of an in-memory DuckDB and made the
default (`USE warehouse`), so the same SQL runs on both. The ducklake, sqlite and
postgres extensions come from duckdb-ext wheels, never from the network.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import duckdb_ext

from warehouse.lock import busy_wait_seconds, is_busy, retry_busy

SCHEMA_DIR = Path(__file__).parent / "schema"
DEFAULT_PATH = Path(__file__).parent / "tinbai.duckdb"
DUCKLAKE_PREFIX = "ducklake:"
DATA_SETTING = "TINBAI_DUCKLAKE_DATA"
LAKE_ALIAS = "warehouse"  # the attached DuckLake's name in every connection
# SQLite catalogs: readers never block the writer (WAL), and a busy catalog is waited for.
SQLITE_OPTIONS = {"META_JOURNAL_MODE": "WAL", "META_BUSY_TIMEOUT": 30_000}
_MIGRATION = re.compile(r"^(\d+)_[\w-]+\.sql$")
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
_CATALOG_EXTENSIONS = {"duckdb": None, "sqlite": "sqlite", "postgres": "postgres"}


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written; the message is meant for the user."""


@dataclass(frozen=True)
class Warehouse:
    """Where the warehouse is and how to open it.

    kind: "duckdb" (a database file) or "ducklake". For a DuckLake, `catalog` is the
    catalog database's type ("duckdb", "sqlite" or "postgres") and `location` its file
    path or PostgreSQL connection string; `data_path` the DATA_PATH given explicitly.
    """

    kind: str
    location: str
    catalog: str = "duckdb"
    data_path: str | None = None

    @classmethod
    def parse(cls, setting: str | os.PathLike) -> "Warehouse":
        text = os.fspath(setting)
        if not text.startswith(DUCKLAKE_PREFIX):
            return cls("duckdb", text)
        rest = text[len(DUCKLAKE_PREFIX):]
        catalog = "duckdb"
        for name in ("sqlite", "postgres"):
            if rest.startswith(name + ":"):
                catalog, rest = name, rest[len(name) + 1:]
        if not rest.strip():
            raise WarehouseError(f"{text!r}: name the DuckLake catalog, e.g. ducklake:/srv/tinbai/catalog.ducklake")
        if catalog != "postgres":
            rest = str(Path(rest).expanduser().absolute())
        data = os.environ.get(DATA_SETTING) or None
        if data and "://" not in data:  # a local folder; object stores (s3://...) are kept as given
            data = str(Path(data).expanduser().absolute())
        return cls("ducklake", rest, catalog, data)

    # --- what the rest of tinbai asks of a warehouse -------------------------------------

    @property
    def is_lake(self) -> bool:
        return self.kind == "ducklake"

    @property
    def path(self) -> Path | None:
        """The file that holds the database (DuckDB) or the catalog (DuckLake with a file catalog)."""
        if self.is_lake and self.catalog == "postgres":
            return None
        return Path(self.location)

    @property
    def lock_path(self) -> Path:
        """The writer lock's file: beside the database or catalog file.

        A PostgreSQL catalog has no file here: the lock goes into the project's warehouse
        folder, named after the catalog, and so serialises the writers of this machine only.
        """
        if self.path is not None:
            return self.path.with_name(self.path.name + ".lock")
        digest = hashlib.sha256(self.location.encode("utf-8")).hexdigest()[:16]
        return DEFAULT_PATH.with_name(f"ducklake-postgres-{digest}.lock")

    def __str__(self) -> str:
        """The setting that opens this warehouse again (in another process too)."""
        if not self.is_lake:
            return self.location
        return DUCKLAKE_PREFIX + ("" if self.catalog == "duckdb" else self.catalog + ":") + self.location

    def resolve(self) -> "Warehouse":
        """The same warehouse with absolute paths, so that it can be opened from any folder."""
        if self.is_lake:
            return self
        return Warehouse("duckdb", str(Path(self.location).resolve()))

    def exists(self) -> bool:
        """Whether there is a warehouse to read (a PostgreSQL catalog is found out by attaching it)."""
        return self.path is None or self.path.is_file()

    # --- connections -----------------------------------------------------------------------

    def open_writable(self) -> duckdb.DuckDBPyConnection:
        if not self.is_lake:
            return duckdb.connect(self.location)
        # An in-memory DuckDB of its own per connection, the lake attached to it. (A named
        # in-memory database shared by the process's connections hangs on reconnecting after
        # a failed DuckLake commit in duckdb 1.4.4.) So, as with a DuckDB file opened
        # read-only and writable at once, one process holds one connection to a DuckDB-file
        # catalog at a time: a second attach of that file is refused.
        con = duckdb.connect()
        try:
            self._attach(con, read_only=False)
            con.execute(f"USE {LAKE_ALIAS}")
            define_lake_macros(con)
        except BaseException:
            con.close()
            raise
        return con

    def open_read_only(self, sandbox: dict[str, bool], prepare=None) -> duckdb.DuckDBPyConnection:
        """A read-only connection; `prepare(con)` runs before `sandbox` settings are applied."""
        if not self.is_lake:
            con = duckdb.connect(self.location, read_only=True, config={} if prepare else sandbox)
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
            self._attach(con, read_only=True)
            con.execute(f"USE {LAKE_ALIAS}")
            define_lake_macros(con)
            if prepare:
                prepare(con)
            if not sandbox.get("enable_external_access", True):
                # DuckLake reads its Parquet files through DuckDB's file system: that folder
                # stays readable, nothing else (the catalog was opened by the attach).
                con.execute("SET allowed_directories = ?", [[_as_directory(self.stored_data_path(con))]])
            _apply(con, sandbox)
        except BaseException:
            con.close()
            raise
        return con

    def stored_data_path(self, con: duckdb.DuckDBPyConnection) -> str:
        return con.execute(
            f"SELECT value FROM __ducklake_metadata_{LAKE_ALIAS}.ducklake_metadata WHERE key = 'data_path'"
        ).fetchone()[0]

    def _attach(self, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        load_extensions(con, "ducklake", _CATALOG_EXTENSIONS[self.catalog])
        options = []
        if self.catalog == "sqlite":
            options += [f"{name} {_literal(value)}" for name, value in SQLITE_OPTIONS.items()]
        if read_only:
            options.append("READ_ONLY")
        if self.path is not None and not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)

        def attach(data_path: str | None) -> None:
            # ATTACH takes no prepared parameters: the setting is quoted as an SQL literal.
            given = options + ([f"DATA_PATH {_literal(data_path)}"] if data_path else [])
            con.execute(f"ATTACH {_literal(str(self))} AS {LAKE_ALIAS}" + (f" ({', '.join(given)})" if given else ""))

        try:
            attach(self.data_path)  # an existing lake knows its data folder
        except duckdb.InvalidInputException as error:
            if self.data_path or self.path is None or "data_path is not set" not in str(error):
                raise
            # A new lake with a file catalog: its data beside it, where DuckLake puts a DuckDB
            # catalog's by itself (for a SQLite catalog it has no default).
            attach(str(self.path) + ".files/")


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


def warehouse_for(db: str | os.PathLike | Warehouse | None = None) -> Warehouse:
    """--db, then $TINBAI_DB, then warehouse/tinbai.duckdb inside the project."""
    if isinstance(db, Warehouse):
        return db
    return Warehouse.parse(db or os.environ.get("TINBAI_DB") or DEFAULT_PATH)


def resolve_path(db: str | os.PathLike | Warehouse | None = None) -> Path | Warehouse:
    """The warehouse a setting names: a DuckDB file's Path, as it always was, or a DuckLake's `Warehouse`.

    Either way `str()` of it opens the same warehouse again and `.resolve()` makes it
    independent of the working folder.
    """
    warehouse = warehouse_for(db)
    return warehouse if warehouse.is_lake else Path(warehouse.location)


# ---- schema ---------------------------------------------------------------------------------

def migrations() -> list[tuple[int, Path]]:
    found = [(int(m.group(1)), path) for path in SCHEMA_DIR.glob("*.sql") if (m := _MIGRATION.match(path.name))]
    return sorted(found)


_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)


def migrate(con: duckdb.DuckDBPyConnection, lake: bool = False) -> None:
    """Apply every schema file not yet applied, each in its own transaction.

    On a DuckLake the same files are applied through `lake_statements`: DuckLake takes no
    PRIMARY KEY or UNIQUE constraint, no default that is not a literal, and no macro.
    """
    con.execute(lake_sql(_MIGRATIONS_TABLE) if lake else _MIGRATIONS_TABLE)
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, path in migrations():
        if version in applied:
            continue
        sql = path.read_text(encoding="utf-8")
        con.execute("BEGIN TRANSACTION")
        try:
            if lake:
                for statement in lake_statements(sql):
                    con.execute(statement)
            else:
                con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, now())",
                        [version, path.name])
            con.execute("COMMIT")
        except Exception:
            rollback(con)
            raise


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any: a COMMIT that failed has already ended it."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as error:
        if "no transaction is active" not in str(error):
            raise


_COMMENT = re.compile(r"--[^\n]*")
_TABLE_KEY = re.compile(r",\s*(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.IGNORECASE)
_TABLE_PRIMARY_KEY = re.compile(r",\s*PRIMARY\s+KEY\s*\(([^)]*)\)", re.IGNORECASE)
_COLUMN_PRIMARY_KEY = re.compile(r"(?:\s+NOT\s+NULL)?\s+PRIMARY\s+KEY\b|\s+PRIMARY\s+KEY\b(?:\s+NOT\s+NULL)?", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+UNIQUE\b", re.IGNORECASE)
_NOW_DEFAULT = re.compile(r"\s+DEFAULT\s+now\(\)", re.IGNORECASE)
_MACRO = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?MACRO\b", re.IGNORECASE)


def lake_sql(statement: str) -> str:
    """One statement as DuckLake takes it: comments, key constraints and now() defaults dropped.

    A primary key's columns stay NOT NULL; their uniqueness is kept by the loader (it never
    inserts a key that is stored). The one now() default (schema_migrations.applied_at) is
    always given explicitly. Schema files keep string literals free of `--`, so dropping
    comments is safe.
    """
    text = _COMMENT.sub("", statement)
    for key in _TABLE_PRIMARY_KEY.findall(text):
        for column in (name.strip() for name in key.split(",")):
            text = re.sub(rf"(?m)^(\s*{re.escape(column)}\s+[A-Z]+(?:\([^)]*\))?)(?![^,\n]*NOT NULL)", r"\1 NOT NULL", text)
    text = _TABLE_KEY.sub("", text)
    text = _COLUMN_PRIMARY_KEY.sub(" NOT NULL", text)
    text = _COLUMN_KEY.sub("", text)
    return _NOW_DEFAULT.sub("", text).strip()


def lake_statements(sql: str) -> list[str]:
    """A schema file's statements for a DuckLake; its macros are defined per connection instead."""
    statements = [lake_sql(statement.query) for statement in duckdb.extract_statements(sql)]
    return [statement for statement in statements if statement and not _MACRO.match(statement)]


@lru_cache(maxsize=1)
def _lake_macros() -> tuple[str, ...]:
    """The schema files' macros as temporary macros: DuckLake stores no functions."""
    found = []
    for _, path in migrations():
        for statement in duckdb.extract_statements(path.read_text(encoding="utf-8")):
            text = _COMMENT.sub("", statement.query).strip()
            if _MACRO.match(text):
                found.append(_MACRO.sub("CREATE OR REPLACE TEMP MACRO", text, count=1))
    return tuple(found)


def define_lake_macros(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _lake_macros():
        con.execute(statement)


# ---- opening ----------------------------------------------------------------------------------

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
            con = retry_busy(warehouse.open_writable)
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
