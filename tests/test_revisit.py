"""Edits and takedowns: a local news site that edits one article and removes two between runs,
checked again by the real `revisit` flow into a real DuckDB file."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from werkzeug import Response

from conftest import raw, rows, run_tinbai, seed_paths
from flows.ingest import ingest, revisit
from transforms.pipeline import transform_batch
from transforms.revisions import RevisitSettings, TextChange, is_due, next_check, takedown_reason, text_change
from warehouse.report import headline_report

BODIES = [list(result.article.paragraphs) for result in transform_batch([raw(path) for path in seed_paths()[:4]])]
TITLES = ["Hà Nội mở thêm tuyến buýt điện", "Giá lúa tăng mạnh ở miền Tây", "Khởi công cầu vượt sông Hồng",
          "Mưa lớn kéo dài ở Trung Bộ"]
ADDED = "Cập nhật lúc 10 giờ: thành phố đã điều chỉnh lộ trình sau ý kiến của người dân."
T0 = datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc)
PUBLISHED = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=3)  # news: published just before


def news_page(title: str, body: list[str]) -> str:
    paragraphs = "".join(f"<p>{line}</p>" for line in body)
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="article:published_time" content="{PUBLISHED.isoformat()}"></head>'
            f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>")


# ---- the pure decisions ------------------------------------------------------------------

def test_text_change_counts_characters_added_and_removed():
    before = "Đoạn một.\nĐoạn hai nói về giá lúa.\nĐoạn ba."
    assert text_change(before, before) == TextChange(0, 0)
    inserted = text_change(before, before + "\nĐoạn bốn mới.")
    assert inserted.chars_added == len("\nĐoạn bốn mới.") - 1 and inserted.chars_removed == 0
    rewritten = text_change(before, before.replace("giá lúa", "giá gạo"))
    assert rewritten.chars_added == rewritten.chars_removed == 3  # "lúa" -> "gạo": the rest of the paragraph kept
    dropped = text_change(before, "Đoạn một.\nĐoạn ba.")
    assert dropped.chars_added == 0 and dropped.chars_removed == len("Đoạn hai nói về giá lúa.")


def test_the_schedule_decays_and_missed_checkpoints_are_covered_once():
    settings = RevisitSettings()
    assert next_check(T0, T0, settings) == T0 + timedelta(hours=1)
    assert not is_due(T0, T0, T0, T0 + timedelta(minutes=59), settings)
    assert is_due(T0, T0, T0, T0 + timedelta(hours=1), settings)
    checked = T0 + timedelta(hours=1, minutes=2)
    assert next_check(T0, checked, settings) == T0 + timedelta(hours=6)
    # no revisit ran for two days: one check now stands for the 6 h and 1 d checkpoints
    assert is_due(T0, T0, checked, T0 + timedelta(days=2), settings)
    assert next_check(T0, T0 + timedelta(days=2), settings) == T0 + timedelta(days=3)
    assert next_check(T0, T0 + timedelta(days=7, minutes=1), settings) is None
    assert not is_due(T0, T0 - timedelta(days=400), T0, T0 + timedelta(days=1), settings)  # backfilled history
    assert is_due(T0, None, T0, T0 + timedelta(hours=2), settings)  # undated: its first fetch is its time


@pytest.mark.parametrize("requested, status, final, reason", [
    ("https://bao.vn/thoi-su/bai-123.html", 404, None, "HTTP 404"),
    ("https://bao.vn/thoi-su/bai-123.html", 410, None, "HTTP 410"),
    ("https://bao.vn/thoi-su/bai-123.html", 451, None, "HTTP 451"),
    ("https://bao.vn/thoi-su/bai-123.html", 200, "https://bao.vn/", "redirected to the home page"),
    ("https://bao.vn/thoi-su/bai-123.html", 200, "https://www.bao.vn/index.html", "redirected to the home page"),
    ("https://bao.vn/thoi-su/bai-123.html", 200, "https://bao.vn/thoi-su/", "redirected to a section page (/thoi-su/)"),
    ("https://bao.vn/bai-123.html", 200, "https://bao.vn/kinh-te", "redirected to a section page (/kinh-te)"),
    # not takedowns: the page itself, a new slug for the same id, a server error, an article without an id
    ("https://bao.vn/thoi-su/bai-123.html", 200, "https://bao.vn/thoi-su/bai-123.html", None),
    ("https://bao.vn/thoi-su/bai-123.html", 200, "https://bao.vn/thoi-su/bai-moi-123.html", None),
    ("https://bao.vn/thoi-su/bai-123.html", 503, None, None),
    ("https://bao.vn/gioi-thieu", 200, "https://bao.vn/lien-he", None),
])
def test_what_counts_as_a_takedown(requested, status, final, reason):
    assert takedown_reason(requested, status, final) == reason


# ---- the flow against a local site ---------------------------------------------------------

@pytest.fixture
def changing_site(httpserver):
    """Four articles; `state` says what each answers now."""
    state = {"edited": False, "gone": False, "moved_home": False, "conditional_hits": 0}

    def article(index: int):
        def respond(request):
            if index == 1 and state["gone"]:
                return Response("không tìm thấy", status=404)
            if index == 2 and state["moved_home"]:
                return Response(status=302, headers={"Location": "/"})
            title, body = TITLES[index], list(BODIES[index])
            if index == 0 and state["edited"]:
                title, body = title + " từ tháng 4", body + [ADDED]
            etag = f'"a{index}-{int(index == 0 and state["edited"])}"'
            if request.headers.get("If-None-Match") == etag:
                state["conditional_hits"] += 1
                return Response(status=304, headers={"ETag": etag})
            return Response(news_page(title, body), content_type="text/html; charset=utf-8", headers={"ETag": etag})
        return respond

    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\n", content_type="text/plain")
    httpserver.expect_request("/").respond_with_data(news_page("Trang chủ", ["Tin mới nhất hôm nay."] * 3),
                                                     content_type="text/html; charset=utf-8")
    urls = []
    for index in range(4):
        path = f"/tin/bai-{index + 101}.html"
        httpserver.expect_request(path).respond_with_handler(article(index))
        urls.append(httpserver.url_for(path))
    return urls, state


def _age_the_warehouse(db, hours: float) -> None:
    """Move every first-seen and fetch time back, as if `hours` had passed since the ingest."""
    con = duckdb.connect(str(db))
    try:
        for table, column in (("articles", "first_seen_at"), ("duplicates", "first_seen_at"),
                              ("fetch_state", "last_fetched_at")):
            con.execute(f"UPDATE {table} SET {column} = {column} - to_seconds(?)", [hours * 3600])
    finally:
        con.close()


@pytest.mark.usefixtures("prefect_server")
def test_revisit_finds_an_edit_two_takedowns_and_a_restoration(changing_site, db):
    urls, state = changing_site
    first = ingest(urls=urls, db=str(db), allow_private=True, workers=1)
    assert first.loaded == 4
    assert rows(db, "SELECT count(*), max(version) FROM article_versions") == [(4, 1)]

    assert revisit(db=str(db), allow_private=True, workers=1).discovered == 0  # nothing is due yet

    _age_the_warehouse(db, hours=2)  # the 1 h checkpoint has passed
    state.update(edited=True, gone=True, moved_home=True)
    summary = revisit(db=str(db), allow_private=True, workers=1)
    assert (summary.discovered, summary.revised, summary.removed, summary.restored) == (4, 1, 2, 0)
    assert summary.unchanged == 1 and state["conditional_hits"] == 1  # the untouched page cost a 304
    assert summary.rejected == 0 and rows(db, "SELECT count(*) FROM rejects") == [(0,)]

    versions = rows(db, "SELECT version, title, title_changed, chars_added, chars_removed, text"
                        " FROM article_versions WHERE source = ? ORDER BY version", [urls[0]])
    assert [row[:3] for row in versions] == [(1, TITLES[0], None), (2, TITLES[0] + " từ tháng 4", True)]
    assert versions[1][3] == len(ADDED) and versions[1][4] == 0 and versions[1][5].endswith(ADDED)
    assert rows(db, "SELECT title FROM articles WHERE source = ?", [urls[0]]) == [(TITLES[0] + " từ tháng 4",)]

    takedowns = dict((source, rest) for source, *rest in rows(
        db, "SELECT source, reason, http_status, restored_at FROM takedowns"))
    assert takedowns == {urls[1]: ["HTTP 404", 404, None], urls[2]: ["redirected to the home page", 200, None]}
    # the removed articles stay, with the last text seen
    assert rows(db, "SELECT count(*) FROM articles WHERE source IN (?, ?) AND text <> ''", urls[1:3]) == [(2,)]
    seen_again = rows(db, "SELECT last_seen_at > first_seen_at FROM article_versions WHERE source = ?", [urls[3]])
    assert seen_again == [(True,)]

    assert revisit(db=str(db), allow_private=True, workers=1).discovered == 0  # next checkpoint: 6 h

    state.update(gone=False)
    everything = revisit(db=str(db), allow_private=True, workers=1, all_recent=True)
    assert everything.discovered == 4 and everything.restored == 1 and everything.removed == 0
    assert rows(db, "SELECT source FROM takedowns WHERE restored_at IS NOT NULL") == [(urls[1],)]
    assert rows(db, "SELECT count(*) FROM article_versions WHERE source = ?", [urls[1]]) == [(1,)]  # same text back

    con = duckdb.connect(str(db), read_only=True)
    try:
        report = headline_report(con)
    finally:
        con.close()
    assert report.totals["taken down"] == 1 and report.totals["edited"] == 1
    gone = next(section for section in report.sections if section.title.startswith("Taken down"))
    assert [(row[1], row[5]) for row in gone.rows] == [(TITLES[2], "redirected to the home page")]


@pytest.mark.usefixtures("prefect_server")
def test_a_new_url_that_redirects_to_the_home_page_is_no_article(changing_site, db):
    urls, state = changing_site
    state.update(moved_home=True)
    summary = ingest(urls=[urls[2]], db=str(db), allow_private=True, workers=1)
    assert summary.loaded == 0 and rows(db, "SELECT reason FROM rejects") == [("no article: redirected to the home page",)]
    assert rows(db, "SELECT count(*) FROM takedowns") == [(0,)]


def test_revisit_with_a_missing_sources_file_is_one_line(tmp_path):
    result = run_tinbai("revisit", "--db", str(tmp_path / "w.duckdb"), "--sources", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and result.stderr.strip().endswith("no such file or directory: " + str(tmp_path / "none.toml"))
    assert "Traceback" not in result.stderr
