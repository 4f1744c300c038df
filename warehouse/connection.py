"""Opening the warehouse: where it is, read-only or writable, schema migrated on first use."""
from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import duckdb
import duckdb_ext

from warehouse.lock import busy_wait_seconds, is_busy, retry_busy

SCHEMA_DIR = Path(__file__).parent / "schema"
DEFAULT_PATH = Path(__file__).parent / "tinbai.duckdb"
_MIGRATION = re.compile(r"^(\d+)_[\w-]+\.sql$")
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written; the message is meant for the user."""


def resolve_path(db: str | os.PathLike | None = None) -> Path:
    """--db, then $TINBAI_DB, then warehouse/tinbai.duckdb inside the project."""
    return Path(db or os.environ.get("TINBAI_DB") or DEFAULT_PATH)


def migrations() -> list[tuple[int, Path]]:
    found = [(int(m.group(1)), path) for path in SCHEMA_DIR.glob("*.sql") if (m := _MIGRATION.match(path.name))]
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Apply every schema file not yet applied, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for version, path in migrations():
        if version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, path.name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def connect(db: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    path = resolve_path(db)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WarehouseError(f"cannot create the warehouse folder {path.parent}: {error.strerror}") from error
    try:
        con = retry_busy(lambda: duckdb.connect(str(path)))
    except duckdb.Error as error:
        raise WarehouseError(open_failure(path, error)) from error
    try:
        migrate(con)
    except duckdb.Error as error:
        con.close()
        raise WarehouseError(f"cannot prepare the warehouse {path}: {first_line(error)}") from error
    return con


@contextmanager
def opened(db: str | os.PathLike | None = None):
    """A writable connection, closed on exit. Read-only access goes through warehouse.queries."""
    con = connect(db)
    try:
        yield con
    finally:
        con.close()


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """The full-text search extension, from the duckdb-ext-fts wheel: never from the network."""
    duckdb_ext.init(con)
    con.execute("SET autoload_known_extensions = false")
    con.execute("LOAD fts")


def open_failure(path: Path, error: duckdb.Error) -> str:
    """One line for a connection that could not be made; a busy file names the holder, not DuckDB's internals."""
    if is_busy(error):
        holder = _LOCK_HOLDER.search(str(error))
        who = f"process {holder[1]}" if holder else "another process"
        return f"the warehouse {path} is busy: {who} kept it open for more than {busy_wait_seconds():.0f} s (set TINBAI_BUSY_WAIT to wait longer)"
    return f"cannot open the warehouse {path}: {first_line(error)}"


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
