"""Shared fixtures: the project's seeds, ../shared corpora (skipped when absent), helpers."""
from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest

from transforms.models import RawDocument

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(os.environ.get("TINBAI_SHARED", PROJECT.parent / "shared"))
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or a clean skip saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared corpora are not beside this checkout)")
    return path


def raw(source: str | Path, content: bytes | None = None) -> RawDocument:
    source = Path(source)
    data = content if content is not None else source.read_bytes()
    return RawDocument(str(source), data, datetime.now(timezone.utc))


def rows(db: str | Path, sql: str, params=()) -> list[tuple]:
    """A query on a warehouse file, through a read-only connection of its own."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def seed_paths() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))


def article_page(title: str, body: list[str]) -> str:
    """A plain article page: the title, and each line of the body as a paragraph."""
    paragraphs = "".join(f"<p>{line}</p>" for line in body)
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>")


def encode_cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: base letters precomposed where the code page has them, tones combining."""
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def run_tinbai(*args: str, env: dict | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it."""
    command = [str(Path(sys.executable).parent / "tinbai"), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=PROJECT, env={**os.environ, **(env or {})}
    )


@pytest.fixture(scope="session")
def prefect_server():
    """One temporary Prefect API for the whole session: real flow runs, started once."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "warehouse" / "test.duckdb"


# ---- both warehouse backends -----------------------------------------------------------------

@pytest.fixture(params=["duckdb", "ducklake"])
def backend(request) -> str:
    """The warehouse backend a test runs on: a DuckDB file, or a DuckLake (DuckDB-file catalog + Parquet folder)."""
    return request.param


@pytest.fixture
def new_warehouse(backend, tmp_path):
    """Makes warehouse settings (`--db` values) of the test's backend, one per name, in tmp_path."""
    def make(name: str = "test") -> str:
        if backend == "duckdb":
            return str(tmp_path / name / f"{name}.duckdb")
        return f"ducklake:{tmp_path / name / 'catalog.ducklake'}"

    return make


@pytest.fixture
def warehouse_url(new_warehouse) -> str:
    """One warehouse setting of the test's backend: a DuckDB file path or `ducklake:<catalog file>`."""
    return new_warehouse("warehouse")
