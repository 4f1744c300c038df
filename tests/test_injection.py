"""Hostile strings travel through the whole pipeline as data: every SQL statement with a value is parameterised.

Runs on both backends (a DuckDB file and a DuckLake)."""
from __future__ import annotations

import json

import pytest

from flows.ingest import ingest
from flows.reprocess import reprocess
from warehouse.queries import open_read_only
from warehouse.search import search

pytestmark = pytest.mark.usefixtures("prefect_server")

HOSTILE = [
    "'); DROP TABLE articles; --",
    "\"; DELETE FROM runs; --",
    "x' OR '1'='1",
    "Robert'); DROP TABLE raw_documents;--",
    "$$; ATTACH '/tmp/evil.duckdb' AS evil; $$",
    "\\'; COPY articles TO '/tmp/leak.csv'; --",
]
BODY = ("Hội nghị tổng kết công tác năm với sự tham dự của đại biểu các tỉnh thành trong cả nước. "
        "Các đại biểu thảo luận về phương hướng nhiệm vụ của năm tới và những giải pháp trọng tâm. ")


def test_hostile_titles_sources_sites_and_urls_are_stored_verbatim(tmp_path, warehouse_url):
    db = warehouse_url
    folder = tmp_path / "it's; drop table articles; --"
    folder.mkdir()
    corpus = folder / "tin'; drop.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for number, evil in enumerate(HOSTILE):
            out.write(json.dumps({
                "id": f"{evil}#{number}", "title": f"Tiêu đề {evil}", "site": evil,
                "url": f"https://example.vn/{number}?q={evil}", "text": f"{BODY}{evil} {number}\n{BODY * (number + 1)}",
            }, ensure_ascii=False) + "\n")
    summary = ingest(paths=[str(folder)], db=db, workers=1)
    assert (summary.loaded + summary.duplicates, summary.rejected) == (len(HOSTILE), 0)
    con = open_read_only(db)
    try:
        tables = {name for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
        stored = con.execute("SELECT title, site, url, source FROM articles UNION ALL SELECT title, site, url, source FROM duplicates").fetchall()
        runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        con.close()
    assert {"articles", "raw_documents", "runs", "duplicates"} <= tables and runs == 1
    assert sorted(title for title, *_ in stored) == sorted(f"Tiêu đề {evil}" for evil in HOSTILE)
    assert sorted(site for _, site, _, _ in stored) == sorted(HOSTILE)
    assert all(source.startswith(str(corpus)) for *_, source in stored)
    for evil in HOSTILE:
        assert isinstance(search(evil, db), list)  # a query string is a value, never SQL
    assert reprocess(db=db, site=HOSTILE[2], all_versions=True, workers=1).read == 1  # exactly that site
