"""The analyst's daily work on a small real warehouse: Vietnam time in every session, search
that respects what is typed, output that pipes, increments, what is new, per-site health."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest

from conftest import rows
from flows.cli import main
from flows.ingest import ingest
from warehouse.connection import opened
from warehouse.export import export_tables
from warehouse.queries import open_read_only, run_query
from warehouse.report import headline_report
from warehouse.search import SearchFilters, search

pytestmark = pytest.mark.usefixtures("prefect_server")

FILLER = {
    "mot": "Ủy ban nhân dân thành phố cho biết kế hoạch đã được chuẩn bị kỹ lưỡng từ nhiều tháng trước.",
    "hai": "Người dân trong vùng đã quen với nhịp sống mới sau khi con đường được mở rộng.",
    "ba": "Trận đấu diễn ra dưới trời mưa nhưng khán giả vẫn ở lại sân đến phút cuối cùng.",
    "bon": "Các doanh nghiệp kinh doanh kim loại quý điều chỉnh bảng niêm yết nhiều lần trong ngày.",
    "nam": "Chuyên gia nhận định thị trường còn biến động mạnh trong những tuần tới.",
    "sau": "Hội nghị thống nhất giao các sở, ngành xây dựng kế hoạch thực hiện trong quý tới.",
}
ARTICLES = [
    # id, site, published_at (Vietnam time), title, text
    ("mot", "Báo Một", "2024-05-26T00:30:00+07:00", "Hà Nội mở thêm tuyến buýt nhanh",
     "Từ tuần sau, Hà Nội mở thêm tuyến buýt nhanh nối trung tâm với các quận phía tây. " + FILLER["mot"]),
    ("hai", "Báo Hai", "2024-05-27T10:00:00+07:00", "Làng nghề đan lát đón khách",
     "Làng nghề đan lát ở xã Nội Hà đón nhiều đoàn khách tham quan. " + FILLER["hai"]),
    ("ba", "Báo Một", "2024-05-28T20:00:00+07:00", "Đội chủ nhà thắng đậm",
     "Đội chủ nhà ghi ba bàn thắng trong hiệp hai và giành trọn ba điểm. " + FILLER["ba"]),
    ("bon", "Báo Hai", "2024-05-29T08:00:00+07:00", "Cửa hàng vàng tấp nập",
     "Nhiều cửa hàng bán vàng SJC tấp nập khách khi giá vàng giảm sâu buổi sáng. " + FILLER["bon"]),
    ("nam", "Báo Ba", "2024-05-30T09:00:00+07:00", "Giá vàng thế giới giảm",
     "Giá vàng thế giới giảm phiên thứ ba liên tiếp, kéo giá trong nước đi xuống. " + FILLER["nam"]),
    ("nam-copy", "Báo Bốn", "2024-05-30T11:00:00+07:00", "Giá vàng thế giới giảm",
     "Giá vàng thế giới giảm phiên thứ ba liên tiếp, kéo giá trong nước đi xuống. " + FILLER["nam"]),
    ("sau", "Báo Ba", None, "Hà Nội họp bàn kế hoạch mùa mưa",
     "Lãnh đạo Hà Nội họp bàn kế hoạch ứng phó mùa mưa bão. " + FILLER["sau"]),
]


def write_corpus(path, articles) -> None:
    with path.open("w", encoding="utf-8") as out:
        for article_id, site, published, title, text in articles:
            record = {"id": article_id, "url": f"https://{site.lower().replace(' ', '')}.vn/{article_id}.html",
                      "site": site, "title": title, "text": text}
            if published:
                record["published_at"] = published
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def day(tmp_path_factory, prefect_server):
    folder = tmp_path_factory.mktemp("analyst_day")
    corpus = folder / "corpus.jsonl"
    write_corpus(corpus, ARTICLES)
    db = folder / "warehouse.duckdb"
    ingest(paths=[str(corpus)], db=str(db), workers=1)
    return db


def ids(hits) -> list[str]:
    return [hit.url.rsplit("/", 1)[-1].removesuffix(".html") for hit in hits]


# ---- Vietnam time ---------------------------------------------------------------------------

def test_a_session_computes_vietnam_days_and_clock_times(day, capsys, monkeypatch):
    sql = ("SELECT date_trunc('day', published_at)::DATE AS day, strftime(published_at, '%H:%M') AS clock,"
           " published_at::DATE AS cast_day FROM articles WHERE title LIKE 'Hà Nội mở%'")
    assert run_query(sql, day).rows == [(datetime(2024, 5, 26).date(), "00:30", datetime(2024, 5, 26).date())]
    assert main(["query", sql, "--db", str(day), "--format", "csv"]) == 0
    assert capsys.readouterr().out == "day,clock,cast_day\n2024-05-26,00:30,2024-05-26\n"
    monkeypatch.setenv("TINBAI_TIMEZONE", "UTC")  # asked otherwise: the previous day at 17:30
    assert run_query(sql, day).rows == [(datetime(2024, 5, 25).date(), "17:30", datetime(2024, 5, 25).date())]
    monkeypatch.setenv("TINBAI_TIMEZONE", "Mars/Olympus")
    assert main(["query", sql, "--db", str(day)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TINBAI_TIMEZONE='Mars/Olympus' is not a time zone" in err


def test_the_settings_stay_locked_in_a_session(day):
    with pytest.raises(ValueError, match="locked|not allowed"):
        run_query("SET TimeZone = 'UTC'", day)


def test_csv_exports_write_vietnam_times_and_parquet_keeps_instants(day, tmp_path):
    export_tables(tmp_path / "csv", "csv", day)
    with (tmp_path / "csv" / "articles.csv").open(encoding="utf-8", newline="") as handle:
        exported = {row["title"]: row for row in csv.DictReader(handle)}
    assert exported["Hà Nội mở thêm tuyến buýt nhanh"]["published_at"] == "2024-05-26T00:30:00+07:00"
    export_tables(tmp_path / "parquet", "parquet", day)
    table = pq.read_table(tmp_path / "parquet" / "articles.parquet")
    assert table.schema.field("published_at").type.tz is not None  # still TIMESTAMPTZ
    instants = [value for value in table.column("published_at").to_pylist() if value is not None]
    assert datetime(2024, 5, 25, 17, 30, tzinfo=timezone.utc) in instants


# ---- search ---------------------------------------------------------------------------------

def test_adjacent_words_are_a_phrase_in_the_order_typed(day):
    assert ids(search("Hà Nội", day))[:1] != ["hai"]
    assert ids(search("nội hà", day))[0] == "hai"  # "xã Nội Hà", not "Hà Nội"
    assert set(ids(search("nội hà", day))) == {"hai", "mot", "sau"}  # every word still required, any order


def test_every_word_is_required_a_quoted_phrase_must_match_exactly_and_a_minus_word_excludes(day):
    assert ids(search("giá vàng", day)) and "ba" not in ids(search("giá vàng", day))
    assert ids(search("vàng xã", day)) == []  # no article holds both
    assert ids(search('"vàng SJC"', day)) == ["bon"]
    assert ids(search('"vang SJC"', day)) == ["bon"]  # a quoted phrase without accents matches accented text
    assert ids(search('"hà nội mở"', day)) == ["mot"]
    assert "bon" not in ids(search("giá vàng -SJC", day)) and ids(search("giá vàng -SJC", day))
    with pytest.raises(ValueError, match="nothing to search for"):
        search("-vàng", day)


def test_accents_are_optional_but_the_typed_ones_rank_first(day):
    assert ids(search("bán", day))[0] == "bon"  # "bán vàng"
    assert ids(search("bàn", day))[0] in ("ba", "sau")  # "bàn thắng", "họp bàn"
    assert set(ids(search("ban", day))) == {"ba", "bon", "sau", "mot"}  # unaccented: all of them ("Ủy ban")


def test_filters_and_one_result_per_cluster_with_its_copies(day):
    assert set(ids(search("giá vàng", day, filters=SearchFilters(site="Báo Ba")))) == {"nam"}
    since = datetime(2024, 5, 30, tzinfo=timezone(timedelta(hours=7)))
    assert set(ids(search("giá vàng", day, filters=SearchFilters(since=since)))) == {"nam"}
    assert set(ids(search("giá vàng", day, filters=SearchFilters(until=since)))) == {"bon"}
    [cluster] = [hit for hit in search("giá vàng thế giới", day) if hit.copies]
    assert cluster.copies == 1 and cluster.copy_of is None
    both = search("giá vàng thế giới", day, all_copies=True)
    copy = next(hit for hit in both if hit.copy_of)
    assert copy.copy_of == cluster.article_id and {ids([cluster])[0], ids([copy])[0]} == {"nam", "nam-copy"}


def test_results_carry_ids_urls_and_marked_snippets_in_every_format(day, capsys):
    assert main(["search", "giá vàng", "--db", str(day), "--format", "jsonl", "--since", "2024-05-30"]) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert set(record) == {"article_id", "title", "site", "published_at", "score", "copies", "url", "snippet"}
    assert record["url"].endswith(("/nam.html", "/nam-copy.html")) and "**Giá vàng**" in record["snippet"]
    assert record["published_at"].endswith("+07:00") and record["copies"] == 1


def test_search_hits_ranks_in_sql(day):
    [(title, score)] = run_query(
        "SELECT a.title, h.score FROM search_hits('bán vàng SJC') h JOIN articles a USING (article_id)", day).rows
    assert title == "Cửa hàng vàng tấp nập" and score > 0


# ---- output that pipes ----------------------------------------------------------------------

def test_csv_is_rfc_4180_with_newline_endings_and_json_for_lists(day, capsys):
    sql = "SELECT 'a, \"b\"' AS quoted, 'two' || chr(10) || 'lines' AS multi, [1, 2] AS list, {'k': 'Hà'} AS struct"
    assert main(["query", sql, "--db", str(day), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out and out.endswith("\n")
    assert list(csv.reader(io.StringIO(out))) == [["quoted", "multi", "list", "struct"],
                                                   ['a, "b"', "two\nlines", "[1, 2]", '{"k": "Hà"}']]
    assert main(["query", sql, "--db", str(day), "--format", "jsonl"]) == 0
    assert json.loads(capsys.readouterr().out) == {"quoted": 'a, "b"', "multi": "two\nlines", "list": [1, 2],
                                                   "struct": {"k": "Hà"}}


def test_a_table_shows_at_most_limit_rows_says_how_many_and_fits_the_terminal(day, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    sql = "SELECT range AS n, md5(range::VARCHAR) AS row_id, repeat('chữ ', 60) AS text FROM range(250)"
    assert main(["query", sql, "--db", str(day)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("(250 rows, the first 100 shown: --limit N for more)")
    assert max(len(line) for line in out.splitlines()) <= 90
    assert "│ 99 " in out and "│ 100 " not in out
    assert all(md5 in out for (md5,) in rows(day, "SELECT md5(range::VARCHAR) FROM range(3)"))  # ids never cut
    assert main(["query", sql, "--db", str(day), "--limit", "3", "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4


# ---- increments, what is new, site health ---------------------------------------------------

def test_export_writes_views_and_only_what_changed_since(day, tmp_path):
    later = tmp_path / "later.jsonl"
    write_corpus(later, [("bay", "Báo Ba", "2024-06-01T07:00:00+07:00", "Nghị quyết 02 đi vào cuộc sống",
                          "Các địa phương triển khai Nghị quyết 02 với nhiều giải pháp hỗ trợ doanh nghiệp. "
                          "Nhiều hồ sơ vay vốn đã được giải ngân trong tháng này.")])
    db = tmp_path / "copy.duckdb"
    db.write_bytes(day.read_bytes())
    between = datetime.now(timezone.utc)
    ingest(paths=[str(later)], db=str(db), workers=1)
    exported = {item.table: item for item in export_tables(tmp_path / "increment", "csv", db, since=between)}
    assert exported["articles"].rows == 1 and not exported["articles"].whole
    assert exported["document_refs"].rows == rows(db, "SELECT count(*) FROM document_refs r JOIN articles a"
                                                      " USING (article_id) WHERE a.title LIKE 'Nghị quyết 02%'")[0][0] > 0
    assert exported["runs"].rows == 1 and exported["site_health"].whole and exported["duplicate_clusters"].whole
    whole = {item.table: item.rows for item in export_tables(tmp_path / "whole", "csv", db)}
    assert whole["articles"] == 7


def test_report_counts_undated_articles_and_what_arrived_since(day):
    con = open_read_only(day)
    try:
        report = headline_report(con, since=datetime.now(timezone.utc) - timedelta(hours=24))
    finally:
        con.close()
    assert report.totals["undated"] == 1 and report.totals["new since"] == 6
    sections = {section.title.split(" (")[0].split(" since")[0]: section for section in report.sections}
    months = {row[0]: row[1] for row in sections["Articles per month"].rows}
    assert months["(undated)"] == 1 and months["2024-05-01"] == 5
    per_site = {row[0]: row[1:] for row in sections["First seen"].rows}
    assert per_site["Báo Ba"] == (2, 0, 1) and per_site["Báo Bốn"] == (0, 1, 0)


def test_site_health_shows_a_site_that_fell_by_half_and_the_report_flags_it(day, tmp_path):
    db = tmp_path / "health.duckdb"
    db.write_bytes(day.read_bytes())
    today = datetime.now(timezone.utc)
    with opened(db) as con:
        # Two weeks of a healthy site before today: the stored articles dated back as if they had
        # arrived then (a day each), and today a single short article.
        stored = con.execute("SELECT article_id FROM articles ORDER BY article_id").fetchall()
        for days_back, (article_id,) in enumerate(stored[:-1], start=1):
            con.execute("UPDATE articles SET site = 'Báo Một', sources_site = NULL, first_seen_at = ? WHERE article_id = ?",
                        [today - timedelta(days=days_back), article_id])
        con.execute("UPDATE articles SET site = 'Báo Một', text = 'Ngắn.', first_seen_at = ? WHERE article_id = ?",
                    [today, stored[-1][0]])
        con.execute("DELETE FROM duplicates")
    health = rows(db, "SELECT day, articles, median_chars FROM site_health WHERE site = 'Báo Một' ORDER BY day")
    assert sum(count for _, count, _ in health) == len(stored) and health[-1][2] == len("Ngắn.")
    con = open_read_only(db)
    try:
        report = headline_report(con, since=today - timedelta(hours=1))
    finally:
        con.close()
    [drops] = [section for section in report.sections if section.title.startswith("Sites that fell by half")]
    assert [row[0] for row in drops.rows] == ["Báo Một"]
    con = open_read_only(day)  # the fresh warehouse: nothing to compare with, nothing flagged
    try:
        assert [s for s in headline_report(con).sections if s.title.startswith("Sites that fell")][0].rows == []
    finally:
        con.close()
