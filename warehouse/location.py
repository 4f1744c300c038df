"""Where the warehouse is: the connection setting read into a `Warehouse`, and the one error
every warehouse problem is told as.

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
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from transforms.errors import TinbaiError

DEFAULT_PATH = Path(__file__).parent / "tinbai.duckdb"
DUCKLAKE_PREFIX = "ducklake:"
DATA_SETTING = "TINBAI_DUCKLAKE_DATA"


class WarehouseError(TinbaiError, RuntimeError):
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
