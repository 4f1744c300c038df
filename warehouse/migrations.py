"""The schema: warehouse/schema/NNN_name.sql applied in order, once each, recorded in
`schema_migrations`; on a DuckLake, the same files rewritten into what DuckLake takes."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import duckdb

from warehouse.transaction import rollback

SCHEMA_DIR = Path(__file__).parent / "schema"
_MIGRATION = re.compile(r"^(\d+)_[\w-]+\.sql$")


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
