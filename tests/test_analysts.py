"""The analyst's warehouse: views, full-text search, headline report, export; on the seeds, through real runs."""
from __future__ import annotations

import csv
import io
import shutil

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SEEDS, rows
from flows.cli import main
from flows.ingest import ingest
from warehouse.export import export_tables
from warehouse.queries import open_read_only
from warehouse.report import headline_report, report_markdown
from warehouse.search import fold, search, snippet

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, prefect_server):
    db = tmp_path_factory.mktemp("analysts") / "warehouse.duckdb"
    ingest(paths=[str(SEEDS)], db=str(db), workers=1)
    return db



def test_search_finds_the_same_articles_with_and_without_accents(seeded):
    accented = search("chỉ thị 35", seeded)
    plain = search("chi thi 35", seeded)
    shouting = search("CHỈ THỊ 35", seeded)
    assert {hit.article_id for hit in accented} == {hit.article_id for hit in plain}  # accents optional
    assert [hit.article_id for hit in accented] == [hit.article_id for hit in shouting]  # case ignored
    assert "35-CT/TW" in accented[0].title  # the article about Chỉ thị 35 ranks first
    assert accented[0].score > accented[-1].score


def test_search_by_a_name_typed_without_diacritics(seeded):
    hits = search("truong thi mai", seeded)
    assert hits and "Trương Thị Mai" in hits[0].snippet
    assert search("Đường", seeded) == search("duong", seeded)


def test_search_without_a_match_and_without_words(seeded):
    assert search("zyxwv qqqq", seeded) == []
    with pytest.raises(ValueError, match="nothing to search for"):
        search(" ,.; ", seeded)


def test_snippet_centres_on_the_first_whole_word_match():
    text = "Chiều nay, hội nghị bàn về nhiều việc. " * 5 + "Tổng kết Chỉ thị số 35-CT/TW của Bộ Chính trị. " + "Kết thúc. " * 40
    piece = snippet(text, ["chi", "thi", "35"])
    assert "**Chỉ thị** số **35**-CT/TW" in piece and piece.startswith("… ") and piece.endswith(" …")
    assert fold("Đảng ỦY Ệ") == "dang uy e" and len(fold(text)) == len(text)


def test_index_is_refreshed_after_each_load(tmp_path, seeded):
    db = tmp_path / "copy.duckdb"
    shutil.copy(seeded, db)
    before = search("cầu Tứ Liên", db, limit=50)
    ingest(paths=[str(FIXTURES / "tuoitre_style.txt")], db=str(db), workers=1)
    new_id = rows(db, "SELECT article_id FROM articles WHERE source LIKE '%tuoitre_style%'")[0][0]
    assert new_id not in {hit.article_id for hit in before}
    assert [hit.article_id for hit in search("cau tu lien", db)][:1] == [new_id]


def test_views_agree_with_the_tables(seeded):
    dated = rows(seeded, "SELECT count(*) FROM articles WHERE published_at IS NOT NULL")[0][0]
    by_month = dict(rows(seeded, "SELECT month, articles FROM articles_by_month WHERE month IS NOT NULL"))
    assert sum(by_month.values()) == dated == 3
    assert by_month[__import__("datetime").date(2019, 12, 1)] == 1  # seed 003, 2019-12-03 03:41 Vietnam time
    by_site = dict(rows(seeded, "SELECT site, articles FROM articles_by_site"))
    assert sum(by_site.values()) == 5 and by_site["vietnamplus.vn"] == 1
    history = rows(seeded, "SELECT flow, status, loaded_count, seconds FROM run_history")
    assert history[-1][:3] == ("ingest", "completed", 5) and history[-1][3] >= 0
    assert rows(seeded, "SELECT count(*) FROM duplicate_clusters")[0][0] == 0


def test_report_and_its_markdown(seeded):
    con = open_read_only(seeded)
    try:
        report = headline_report(con)
    finally:
        con.close()
    assert report.totals["articles"] == 5 and report.totals["duplicate rate"] == "0.0%"
    titles = [section.title for section in report.sections]
    assert titles[:4] == ["Articles per month (last 12; undated apart)", "Top 10 sites", "Top 10 cited documents",
                          "Top 10 people"]
    assert len(titles) == 6 and titles[4].startswith("Sites that fell by half against their 14 days before")
    assert titles[5].startswith("Taken down") and report.sections[5].rows == [] and report.totals["taken down"] == 0
    assert report.totals["undated"] == 2 and ("(undated)", 2) in [row[:2] for row in report.sections[0].rows]
    markdown = report_markdown(report)
    assert "| month | articles | sites | duplicates |" in markdown and "| 2019-12-01 | 1 |" in markdown


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_export_writes_every_table_with_all_rows(seeded, tmp_path, file_format):
    exported = {item.table: item for item in export_tables(tmp_path / "out", file_format, seeded)}
    tables = {name for (name,) in rows(seeded, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
                                               " UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'main'"
                                               " AND NOT internal")}
    assert set(exported) == tables and {"site_health", "duplicate_clusters", "articles_by_month"} <= tables
    for name, item in exported.items():
        read = pq.read_table(item.path) if file_format == "parquet" else pa_csv.read_csv(item.path)
        assert read.num_rows == item.rows == rows(seeded, f'SELECT count(*) FROM "{name}"')[0][0]
    articles = pq.read_table(exported["articles"].path) if file_format == "parquet" else None
    if articles is not None:
        assert sorted(articles.column("title").to_pylist()) == sorted(t for (t,) in rows(seeded, "SELECT title FROM articles"))


def test_cli_search_report_export(seeded, tmp_path, capsys):
    assert main(["search", "chi thi 35", "--db", str(seeded), "--format", "csv", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    (row,) = list(csv.DictReader(io.StringIO(out)))
    best = search("chi thi 35", seeded)[0]
    assert out.startswith("article_id,title,site,published_at,score,copies,url,snippet\n")
    assert (row["article_id"], row["url"], row["snippet"]) == (best.article_id, best.url or "", best.snippet)
    assert "**Chỉ thị 35**" in row["snippet"] and row["copies"] == "0"  # the phrase, marked
    assert main(["report", "--db", str(seeded), "--format", "markdown"]) == 0
    assert "**articles**: 5" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "csv"), "--format", "csv", "--db", str(seeded)]) == 0
    assert "articles: 5 rows" in capsys.readouterr().out
    assert main(["search", "chi thi", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "no warehouse at" in capsys.readouterr().err


def test_document_refs_and_people_of_the_seeds(seeded):
    citing = rows(seeded, "SELECT a.source, r.mention FROM document_refs r JOIN articles a USING (article_id)"
                          " WHERE r.code = '205-QĐ/TW' ORDER BY a.source")
    assert [(source.rsplit("/", 1)[-1][:3], mention) for source, mention in citing] == [
        ("000", "Quy định số 205-QĐ/TƯ"), ("003", "Quy định số 205-QĐ/TW")]
    codes = {code for (code,) in rows(seeded, "SELECT code FROM document_refs")}
    assert {"35-CT/TW", "26-HD/BTCTW", "134-KH/TU", "Nghị quyết Trung ương 4 khóa XI"} <= codes
    posts = dict(rows(seeded, "SELECT name, position FROM people_positions"))
    assert posts["Trương Thị Mai"].startswith("Ủy viên Bộ Chính trị") and "Trưởng Ban Tổ chức Trung ương" in posts["Trương Thị Mai"]
    assert "Tô Huy Rứa" in posts
    held = rows(seeded, "SELECT name, first_stated FROM people_positions"
                        " WHERE regexp_matches(position, '(^|, )Trưởng Ban Tổ chức Trung ương$')"
                        " AND first_stated IS NOT NULL ORDER BY first_stated")
    assert [name for name, _ in held] == ["Phạm Minh Chính", "Trương Thị Mai"]  # 2019, then 2021
