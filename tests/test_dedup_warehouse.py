"""Dedup against the warehouse: persistent across runs, incremental = all at once, canonical switching."""
from __future__ import annotations

import gzip
import json
import random
from datetime import datetime, timezone

import duckdb
import pytest

from conftest import raw, seed_paths, shared_path
from transforms.models import RawDocument
from transforms.pipeline import transform_batch
from warehouse.connection import opened
from warehouse.loader import load_batch

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def record_doc(source: str, **record) -> RawDocument:
    return RawDocument(source, json.dumps(record, ensure_ascii=False).encode(), T0, ".jsonl", record=record)


def load(db, documents, run_id: str, seen_at=T0, batch_size: int = 1000):
    with opened(db) as con:
        for start in range(0, len(documents), batch_size):
            load_batch(con, run_id, transform_batch(documents[start:start + batch_size]), seen_at=seen_at)


def state(db) -> tuple[list, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        articles = con.execute("SELECT source FROM articles ORDER BY source").fetchall()
        duplicates = con.execute("SELECT d.source, a.source, d.method FROM duplicates d JOIN articles a ON a.article_id = d.canonical_id ORDER BY 1").fetchall()
        return articles, duplicates
    finally:
        con.close()


def seed_text(index: int) -> str:
    return transform_batch([raw(seed_paths()[index])])[0].article.text


def test_a_later_original_publisher_takes_the_canonical_place(tmp_path):
    db = tmp_path / "w.duckdb"
    text = seed_text(0)
    load(db, [record_doc("blog#1", title="Repost", text=text + "\nTheo Báo Nhân Dân", site="Blog A", published_at="2020-02-04T20:00:00+07:00"),
              record_doc("blog#2", title="Repost 2", text=text, site="Blog B")], "run-1")
    assert state(db)[0] == [("blog#1",)]
    load(db, [record_doc("nhandan#9", title="Bản gốc", text=text, site="Nhân Dân", published_at="2020-02-05T08:00:00+07:00")], "run-2")
    articles, duplicates = state(db)
    assert articles == [("nhandan#9",)]  # named as the source by a repost, although published later
    assert [(d[0], d[1]) for d in duplicates] == [("blog#1", "nhandan#9"), ("blog#2", "nhandan#9")]


def test_changed_input_updates_its_article_in_place(tmp_path):
    db = tmp_path / "w.duckdb"
    load(db, [record_doc("feed#1", title="Tin", text=seed_text(1))], "run-1")
    load(db, [record_doc("feed#1", title="Tin (cập nhật)", text=seed_text(3))], "run-2")
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT article_id, title, first_run_id, last_run_id FROM articles").fetchall()
    assert len(rows) == 1 and rows[0][1:] == ("Tin (cập nhật)", "run-1", "run-2")
    assert con.execute("SELECT count(*) FROM member_bands").fetchone()[0] == 32  # the old version's bands are gone


@pytest.fixture(scope="module")
def baomoi_slice():
    path = shared_path("corpora", "baomoi", "baomoi_21448.jsonl.gz")
    documents = []
    with gzip.open(path, "rb") as lines:
        for number, line in enumerate(lines):
            if number >= 1200:
                break
            record = json.loads(line)
            documents.append(RawDocument(f"baomoi#{record['id']}", line.rstrip(b"\n"), T0, ".jsonl", record=record))
    return documents


def test_incremental_loads_equal_one_load_and_order_does_not_matter(tmp_path, baomoi_slice):
    at_once = tmp_path / "once.duckdb"
    load(at_once, baomoi_slice, "run-all")
    expected = state(at_once)
    assert len(expected[1]) > 100  # the slice holds real exact and near duplicates

    in_two = tmp_path / "two.duckdb"
    load(in_two, baomoi_slice[:800], "run-a", batch_size=300)
    load(in_two, baomoi_slice[800:], "run-b", seen_at=T0.replace(hour=5), batch_size=300)
    assert state(in_two) == expected

    shuffled = baomoi_slice[:]
    random.Random(7).shuffle(shuffled)
    reordered = tmp_path / "shuffled.duckdb"
    load(reordered, shuffled, "run-shuffled", batch_size=250)
    assert state(reordered) == expected


def test_real_weather_bulletins_of_different_days_stay_apart(tmp_path):
    path = shared_path("corpora", "baomoi", "baomoi_21448.jsonl.gz")
    bulletins = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["title"] in ("Thời tiết ngày 28/5", "Thời tiết ngày 29/5") and record["title"] not in bulletins:
                bulletins[record["title"]] = record
    assert len(bulletins) == 2
    db = tmp_path / "w.duckdb"
    load(db, [record_doc(f"b#{r['id']}", **r) for r in bulletins.values()], "run-1")
    assert len(state(db)[0]) == 2
