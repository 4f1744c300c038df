"""Real Prefect runs of the ingest flow into a real DuckDB file."""
from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import duckdb
import pytest

from conftest import SEEDS, encode_cp1258, raw, rows, seed_paths, shared_path
from flows.ingest import ingest
from transforms.pipeline import transform_batch
from warehouse.connection import opened
from warehouse.loader import load_batch

pytestmark = pytest.mark.usefixtures("prefect_server")
TABLES = ("raw_documents", "articles", "duplicates", "rejects", "member_bands", "runs")


def table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
    finally:
        con.close()



def test_seeds_load_and_a_rerun_adds_only_a_run(db):
    first = ingest(paths=[str(SEEDS)], db=str(db), workers=1)
    assert (first.read, first.loaded, first.duplicates, first.rejected) == (5, 5, 0, 0)
    before = table_counts(db)
    assert before["articles"] == 5 and before["raw_documents"] == 5 and before["member_bands"] == 5 * 32
    second = ingest(paths=[str(SEEDS)], db=str(db), workers=1)
    assert (second.read, second.unchanged, second.loaded) == (0, 5, 0)
    after = table_counts(db)
    assert after == {**before, "runs": before["runs"] + 1}
    runs = rows(db, "SELECT run_id, flow, status, read_count, loaded_count, unchanged_count FROM runs ORDER BY started_at")
    assert [run[1:] for run in runs] == [("ingest", "completed", 5, 5, 0), ("ingest", "completed", 0, 0, 5)]
    assert {run[0] for run in runs} == {first.run_id, second.run_id}
    assert len(first.run_id) == 36  # the Prefect flow run id


def test_bad_inputs_are_rejected_with_reasons_and_good_ones_load(tmp_path, db):
    folder = tmp_path / "inbox"
    folder.mkdir()
    seeds = seed_paths()
    (folder / "good.txt").write_bytes(seeds[0].read_bytes())
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(os.urandom(4096))
    (folder / "utf16.txt").write_bytes(seeds[1].read_text(encoding="utf-8").encode("utf-16"))
    (folder / "cp1258.txt").write_bytes(encode_cp1258(seeds[2].read_text(encoding="utf-8")))
    (folder / "huge.txt").write_bytes(("Một dòng văn bản rất dài. " * 40 + "\n").encode() * 20_000)  # ~20 MB
    (folder / "no_article.txt").write_text("Xin chào\n\nTrả lời\n", encoding="utf-8")
    (folder / "ignored.jpg").write_bytes(b"\xff\xd8\xff")  # not a supported type inside a folder: skipped
    missing = tmp_path / "missing.txt"
    summary = ingest(paths=[str(folder), str(missing)], db=str(db), workers=1)

    rejects = {Path(source).name: (stage, reason) for source, stage, reason in rows(db, "SELECT source, stage, reason FROM rejects")}
    assert set(rejects) == {"empty.txt", "binary.txt", "huge.txt", "no_article.txt", "missing.txt"}
    assert rejects["empty.txt"] == ("decode", "empty input")
    assert rejects["binary.txt"][0] == "decode" and "binary" in rejects["binary.txt"][1]
    assert rejects["huge.txt"][0] == "read" and "too large" in rejects["huge.txt"][1]
    assert rejects["no_article.txt"][0] in ("parse", "clean")
    assert rejects["missing.txt"] == ("read", "no such file or directory")

    loaded = dict(rows(db, "SELECT source, text FROM articles"))
    assert {Path(source).name for source in loaded} == {"good.txt", "utf16.txt", "cp1258.txt"}
    expected = {a.source.rsplit("/", 1)[-1][:3]: a.text for a in (r.article for r in transform_batch([raw(p) for p in seeds]))}
    by_name = {Path(source).name: text for source, text in loaded.items()}
    assert by_name["utf16.txt"] == expected["001"] and by_name["cp1258.txt"] == expected["002"]
    assert (summary.loaded, summary.rejected) == (3, 5)
    # every input that could be read is kept as received, rejected or not
    assert {Path(s).name for (s,) in rows(db, "SELECT source FROM raw_documents")} == {
        "good.txt", "empty.txt", "binary.txt", "utf16.txt", "cp1258.txt", "no_article.txt"}

    before = table_counts(db)
    ingest(paths=[str(folder), str(missing)], db=str(db), workers=1)
    assert table_counts(db) == {**before, "runs": before["runs"] + 1}


def _wrapped_copy(text: str, title: str) -> str:
    """The same article as another blog would repost it: new title, branding, comment form, NFD."""
    body = "\n\n".join(text.split("\n"))
    dump = (
        f"Baomoi.vn – {title}\n\nThứ Tư, 05/02/2020, 07:00\n\n{body}\n\n"
        "  • Baomoi ⭐ Tin nhanh ⭐ Đọc là nghiện ✔️\n\nChia sẻ\n\nTrả lời\n\nEmail của bạn sẽ không được hiển thị công khai."
    )
    return unicodedata.normalize("NFD", dump)


def test_reposts_with_other_wrappers_are_duplicates_across_runs(tmp_path, db):
    original = seed_paths()[0]
    [seed] = [r.article for r in transform_batch([raw(original)])]
    first = tmp_path / "day1"
    first.mkdir()
    (first / "original.txt").write_bytes(original.read_bytes())
    (first / "repost.txt").write_text(_wrapped_copy(seed.text, "Chuẩn bị nhân sự đại hội"), encoding="utf-8")
    summary = ingest(paths=[str(first)], db=str(db), workers=1)
    assert (summary.loaded, summary.duplicates) == (1, 1)

    second = tmp_path / "day2"
    second.mkdir()
    edited = seed.text.replace("nghiêm túc", "nghiêm chỉnh").replace("Trung ương", "T.Ư", 2)
    (second / "edited.txt").write_text(_wrapped_copy(edited, "Tiêu đề khác hẳn"), encoding="utf-8")
    summary = ingest(paths=[str(second), str(SEEDS)], db=str(db), workers=1)
    duplicates = {Path(s).name: (canonical, method) for s, canonical, method in rows(db, "SELECT source, canonical_id, method FROM duplicates")}
    canonical = rows(db, "SELECT article_id FROM articles WHERE source = ?", [str(first / "original.txt")])[0][0]
    assert duplicates["repost.txt"] == (canonical, "exact")
    assert duplicates["edited.txt"] == (canonical, "near")
    assert duplicates[original.name] == (canonical, "exact")  # the seed itself, from another path
    assert rows(db, "SELECT count(*) FROM articles")[0][0] == 5  # 000 once, plus 001-004


def test_a_failing_batch_leaves_nothing_behind(db):
    results = transform_batch([raw(path) for path in seed_paths()])
    broken = results[-1].article.with_changes(title=None)  # violates NOT NULL after four good inserts
    results[-1] = type(results[-1])(document=results[-1].document, format="text", article=broken, fingerprint=results[-1].fingerprint)
    with opened(db) as con:
        with pytest.raises(duckdb.ConstraintException):
            load_batch(con, "run-x", results)
    assert {table: n for table, n in table_counts(db).items()} == dict.fromkeys(TABLES, 0)


def test_jsonl_corpus_lines_are_articles(tmp_path, db):
    text = seed_paths()[3].read_text(encoding="utf-8")
    records = [
        {"id": "a1", "title": "Bài một", "text": text, "site": "Báo A", "published_at": "2019-12-03T03:41:00+07:00"},
        {"id": "a2", "title": "Bài hai (đăng lại)", "text": text, "site": "Báo B"},
        {"id": "a3", "title": "Không có nội dung"},
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n{not json\n", encoding="utf-8")
    summary = ingest(paths=[str(corpus)], db=str(db), workers=1)
    assert (summary.loaded, summary.duplicates, summary.rejected) == (1, 1, 2)
    [(source, site, published)] = rows(db, "SELECT source, site, published_at FROM articles")
    assert source.endswith("corpus.jsonl#a1") and site == "Báo A" and published is not None


def test_html_page_by_content(tmp_path, db):
    page = shared_path("corpora", "vnexpress", "dau-bung-keo-dai-phat-hien-ung-thu-lymphoma-ruot-non-4954454.html")
    renamed = tmp_path / "page.txt"  # detected as HTML by its content, not its name
    renamed.write_bytes(page.read_bytes())
    summary = ingest(paths=[str(renamed)], db=str(db), workers=1)
    assert summary.loaded == 1
    [(title, extractor, version, fmt, text)] = rows(db, "SELECT title, extractor, extractor_version, format, text FROM articles")
    assert title == "Đau bụng kéo dài, phát hiện ung thư lymphoma ruột non"
    assert (extractor, fmt) == ("trafilatura", "html") and version
    assert "Xét nghiệm hóa mô miễn dịch" in text


def test_batches_close_on_size_or_time():
    import time as clock

    from flows.ingest import _batches

    def slow(items):
        for item in items:
            if item == 3:
                clock.sleep(0.3)
            yield item

    assert list(_batches(range(5), size=2, seconds=60)) == [[0, 1], [2, 3], [4]]
    assert list(_batches(slow(range(5)), size=100, seconds=0.2)) == [[0, 1, 2, 3], [4]]
