"""Python rows to and from DuckDB through Arrow: one scan per batch, not one parameter per value."""
from __future__ import annotations

from contextlib import contextmanager

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")


def insert_rows(con, table: str, columns: dict[str, pa.DataType], rows: list[dict], key: tuple[str, ...] = ()) -> None:
    """Insert rows through one Arrow scan (Python-list parameters cost ~0.2 ms per value in duckdb 1.4).

    With a `key`, rows whose key is already stored, or came earlier in `rows`, are left
    out: what `ON CONFLICT DO NOTHING` did with the DuckDB file's primary keys, done by an
    anti-join, because a DuckLake has no keys. Writers are serialised (the writer lock), so
    the check and the insert see the same table.
    """
    if key:
        seen, unique = set(), []
        for row in rows:
            if (found := tuple(row[name] for name in key)) not in seen:
                seen.add(found)
                unique.append(row)
        rows = unique
    if not rows:
        return
    names = ", ".join(columns)
    absent = ""
    if key:
        match = " AND ".join(f"t.{name} = b.{name}" for name in key)
        absent = f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})"
    with registered(con, **{f"batch_{table}": arrow_columns(columns, rows)}):
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM batch_{table} b{absent}")


def arrow_columns(columns: dict[str, pa.DataType], rows: list[dict]) -> dict[str, pa.Array]:
    return {name: pa.array([row[name] for row in rows], kind) for name, kind in columns.items()}


@contextmanager
def registered(con, **tables: dict[str, pa.Array]):
    """Arrow tables visible to SQL under these names for the duration of the block."""
    for name, arrays in tables.items():
        con.register(name, pa.table(arrays))
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)
