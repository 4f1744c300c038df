"""Dedup against the warehouse: persistent across runs, incremental = all at once, canonical switching.

Every test runs on both backends (a DuckDB file and a DuckLake): on a DuckLake no key
constraint guards the tables, so these also check that the loader's own logic never
stores a source twice.
"""
from __future__ import annotations

import gzip
import json
import random
from datetime import datetime, timezone

import pytest

from conftest import raw, seed_paths, shared_path
from transforms.models import RawDocument
from transforms.pipeline import transform_batch
from warehouse.connection import opened
from warehouse.loader import load_batch
from warehouse.queries import open_read_only

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def record_doc(source: str, **record) -> RawDocument:
    return RawDocument(source, json.dumps(record, ensure_ascii=False).encode(), T0, record=record)


def load(db, documents, run_id: str, seen_at=T0, batch_size: int = 1000):
    with opened(db) as con:
        for start in range(0, len(documents), batch_size):
            load_batch(con, run_id, transform_batch(documents[start:start + batch_size]), seen_at=seen_at)


def read(db, sql: str) -> list[tuple]:
    con = open_read_only(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def state(db) -> tuple[list, list]:
    con = open_read_only(db)  # one connection: opening a DuckLake costs ~0.25 s
    try:
        articles = con.execute("SELECT source FROM articles ORDER BY source").fetchall()
        duplicates = con.execute("SELECT d.source, a.source, d.method FROM duplicates d JOIN articles a ON a.article_id = d.canonical_id ORDER BY 1").fetchall()
        assert_unique(con)
        return articles, duplicates
    finally:
        con.close()


def assert_unique(con) -> None:
    """What the DuckDB file's keys guarantee, checked on the data (a DuckLake has no keys)."""
    for sql in (
        "SELECT source FROM (SELECT source FROM articles UNION ALL SELECT source FROM duplicates) GROUP BY 1 HAVING count(*) > 1",
        "SELECT article_id FROM articles GROUP BY 1 HAVING count(*) > 1",
        "SELECT document_id FROM raw_documents GROUP BY 1 HAVING count(*) > 1",
        "SELECT member_id, band FROM member_bands GROUP BY ALL HAVING count(*) > 1",
        "SELECT d.duplicate_id FROM duplicates d ANTI JOIN articles a ON a.article_id = d.canonical_id",
    ):
        assert con.execute(sql).fetchall() == [], sql


def seed_text(index: int) -> str:
    return transform_batch([raw(seed_paths()[index])])[0].article.text


def test_a_later_original_publisher_takes_the_canonical_place(warehouse_url):
    db = warehouse_url
    text = seed_text(0)
    load(db, [record_doc("blog#1", title="Repost", text=text + "\nTheo Báo Nhân Dân", site="Blog A", published_at="2020-02-04T20:00:00+07:00"),
              record_doc("blog#2", title="Repost 2", text=text, site="Blog B")], "run-1")
    assert state(db)[0] == [("blog#1",)]
    load(db, [record_doc("nhandan#9", title="Bản gốc", text=text, site="Nhân Dân", published_at="2020-02-05T08:00:00+07:00")], "run-2")
    articles, duplicates = state(db)
    assert articles == [("nhandan#9",)]  # named as the source by a repost, although published later
    assert [(d[0], d[1]) for d in duplicates] == [("blog#1", "nhandan#9"), ("blog#2", "nhandan#9")]


def test_changed_input_updates_its_article_in_place(warehouse_url):
    db = warehouse_url
    load(db, [record_doc("feed#1", title="Tin", text=seed_text(1))], "run-1")
    load(db, [record_doc("feed#1", title="Tin (cập nhật)", text=seed_text(3))], "run-2")
    rows = read(db, "SELECT article_id, title, first_run_id, last_run_id FROM articles")
    assert len(rows) == 1 and rows[0][1:] == ("Tin (cập nhật)", "run-1", "run-2")
    assert read(db, "SELECT count(*) FROM member_bands") == [(32,)]  # the old version's bands are gone
    assert read(db, "SELECT count(*) FROM raw_documents") == [(2,)]
    state(db)  # checks uniqueness


def test_the_same_batch_twice_stores_nothing_twice(warehouse_url):
    """The loader's anti-joins do what ON CONFLICT DO NOTHING did: a batch loaded again adds no row."""
    documents = [raw(path) for path in seed_paths()] + [record_doc("blog#1", title="Repost", text=seed_text(0))]
    load(warehouse_url, documents, "run-1")
    counted = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM duplicates), (SELECT count(*) FROM raw_documents), (SELECT count(*) FROM document_refs), (SELECT count(*) FROM people), (SELECT count(*) FROM member_bands)"
    before = read(warehouse_url, counted)
    load(warehouse_url, documents + documents[:2], "run-2")  # and twice within one batch
    assert read(warehouse_url, counted) == before
    assert before[0][:3] == (5, 1, 6)
    state(warehouse_url)  # checks uniqueness


@pytest.fixture(scope="module")
def baomoi_slice():
    path = shared_path("corpora", "baomoi", "baomoi_21448.jsonl.gz")
    documents = []
    with gzip.open(path, "rb") as lines:
        for number, line in enumerate(lines):
            if number >= 1200:
                break
            record = json.loads(line)
            documents.append(RawDocument(f"baomoi#{record['id']}", line.rstrip(b"\n"), T0, record=record))
    return documents


def test_incremental_loads_equal_one_load_and_order_does_not_matter(new_warehouse, baomoi_slice):
    at_once = new_warehouse("once")
    load(at_once, baomoi_slice, "run-all")
    expected = state(at_once)
    assert len(expected[1]) > 100  # the slice holds real exact and near duplicates

    in_two = new_warehouse("two")
    load(in_two, baomoi_slice[:800], "run-a", batch_size=300)
    load(in_two, baomoi_slice[800:], "run-b", seen_at=T0.replace(hour=5), batch_size=300)
    assert state(in_two) == expected

    shuffled = baomoi_slice[:]
    random.Random(7).shuffle(shuffled)
    reordered = new_warehouse("shuffled")
    load(reordered, shuffled, "run-shuffled", batch_size=250)
    assert state(reordered) == expected


def test_real_weather_bulletins_of_different_days_stay_apart(warehouse_url):
    path = shared_path("corpora", "baomoi", "baomoi_21448.jsonl.gz")
    bulletins = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["title"] in ("Thời tiết ngày 28/5", "Thời tiết ngày 29/5") and record["title"] not in bulletins:
                bulletins[record["title"]] = record
    assert len(bulletins) == 2
    db = warehouse_url
    load(db, [record_doc(f"b#{r['id']}", **r) for r in bulletins.values()], "run-1")
    assert len(state(db)[0]) == 2
