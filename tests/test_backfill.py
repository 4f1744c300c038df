"""`backfill`: what a site's sitemaps list for a date range, fetched once; a rerun resumes, never doubles."""
from __future__ import annotations

import duckdb
import pytest

import re

from werkzeug import Response

from conftest import FIXTURES, article_page, raw, rows, run_tinbai, seed_paths
from flows.ingest import backfill
from transforms.pipeline import transform_batch

pytestmark = pytest.mark.usefixtures("prefect_server")

BODIES = [list(result.article.paragraphs) for result in transform_batch(
    [raw(path) for path in seed_paths()] + [raw(FIXTURES / "tuoitre_style.txt")])]
ARTICLES = {  # path -> (lastmod, body)
    "/2026/01/mot.html": ("2026-01-10", BODIES[0]),
    "/2026/01/hai.html": ("2026-01-20", BODIES[1]),
    "/2026/02/ba.html": ("2026-02-03T08:00:00+07:00", BODIES[2]),
    "/2026/02/bon.html": ("2026-02-27", BODIES[3]),
    "/khong-ngay.html": (None, BODIES[4]),
}


@pytest.fixture
def archive_site(httpserver, tmp_path):
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    children = {"01": "2026-01-31", "02": "2026-02-28"}
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<sitemap><loc>{base}/sitemap-2026-{m}.xml</loc><lastmod>{d}</lastmod></sitemap>" for m, d in children.items())
        + "</sitemapindex>", content_type="application/xml")
    for month in children:
        entries = "".join(
            f"<url><loc>{base}{path}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
            for path, (lastmod, _) in ARTICLES.items() if f"/2026/{month}/" in path or (month == "02" and not lastmod)
        )
        httpserver.expect_request(f"/sitemap-2026-{month}.xml").respond_with_data(
            f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>',
            content_type="application/xml")
    for number, (path, (_, body)) in enumerate(ARTICLES.items()):
        httpserver.expect_request(path).respond_with_data(article_page(f"Bài số {number}: {body[0][:60]}", body),
                                                          content_type="text/html; charset=utf-8")
    # Daily archive pages: 2026-02-10 lists an article no sitemap has, among navigation links.
    httpserver.expect_request("/2026/02/nam.html").respond_with_data(article_page("Bài trong trang lưu trữ", BODIES[5]),
                                                                      content_type="text/html; charset=utf-8")

    def archive(request):
        if request.path.startswith("/ngay/2026-02-2"):  # the site kept no archive of those days
            return Response("<h1>404</h1>", status=404, content_type="text/html")
        links = '<a href="/">Trang chủ</a><a href="/thoi-su/">Thời sự</a><a href="/tag/ha-noi">Hà Nội</a>'
        if request.path == "/ngay/2026-02-10.html":
            links += '<a href="/2026/02/nam.html">Bài năm</a><a href="/2026/02/ba.html?utm_source=archive">Bài ba</a>'
        return Response(f"<html><body><nav>{links}</nav></body></html>", content_type="text/html; charset=utf-8")

    httpserver.expect_request(re.compile(r"^/ngay/")).respond_with_handler(archive)
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[defaults]\nrate_limit_seconds = 0.01\n\n[[site]]\nname = "luu-tru"\nsitemaps = ["{base}/sitemap.xml"]\n'
                       f'archives = ["{base}/ngay/{{date:%Y-%m-%d}}.html"]\n', encoding="utf-8")
    return sources


def fetched(httpserver, start: int = 0) -> list[str]:
    return [request.path for request, _ in httpserver.log[start:]]


def test_backfill_fetches_the_range_and_a_rerun_fetches_nothing_again(archive_site, db, httpserver):
    summary = backfill(sources=str(archive_site), since="2026-02-01T00:00:00+07:00", until="2026-03-01T00:00:00+07:00",
                       db=str(db), allow_private=True, workers=1)
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = sorted(source.split("/", 3)[-1] for (source,) in con.execute("SELECT source FROM articles").fetchall())
        run = con.execute("SELECT flow, status, loaded_count FROM runs").fetchall()
        rejects = con.execute("SELECT source, reason FROM rejects").fetchall()
    finally:
        con.close()
    # undated and January sitemap entries are left out; the archive page adds one
    assert loaded == ["2026/02/ba.html", "2026/02/bon.html", "2026/02/nam.html"]
    assert summary.loaded == 3 and run == [("backfill", "completed", 3)] and rejects == []
    requested = fetched(httpserver)
    assert "/sitemap-2026-01.xml" not in requested  # a child sitemap last modified before the range
    assert sorted(path for path in requested if path.startswith("/ngay/"))[::27] == ["/ngay/2026-02-01.html", "/ngay/2026-02-28.html"]
    assert not {"/thoi-su/", "/tag/ha-noi"} & set(requested)  # navigation links of the archive are not articles

    before = len(httpserver.log)
    again = backfill(sources=str(archive_site), since="2026-02-01T00:00:00+07:00", until="2026-03-01T00:00:00+07:00",
                     db=str(db), allow_private=True, workers=1)
    assert (again.loaded, again.read, again.unchanged) == (0, 0, 3)
    assert not [path for path in fetched(httpserver, before) if path.startswith(("/2026/", "/khong"))]  # articles
    # days without an archive page (404) are remembered once, not rejected, and not asked again at once
    missing_days = [f"/ngay/2026-02-{day}.html" for day in range(20, 29)]
    assert summary.no_archive == again.no_archive == len(missing_days)
    assert not set(missing_days) & set(fetched(httpserver, before))
    assert rows(db, "SELECT count(*), min(kind), min(last_reason), max(failures) FROM fetch_failures") == [
        (len(missing_days), "archive", "no archive (HTTP 404)", 1)]
    assert rows(db, "SELECT count(*) FROM rejects") == [(0,)]


def test_backfill_cli_checks_its_options(archive_site, db):
    result = run_tinbai("backfill", "--sources", str(archive_site), "--since", "2026-03-01", "--until", "2026-02-01",
                        "--db", str(db))
    assert result.returncode == 2 and "--since must be before --until" in result.stderr
    result = run_tinbai("backfill", "--sources", str(archive_site), "--since", "2026-02-01", "--until", "2026-03-01",
                        "--site", "nowhere", "--db", str(db))
    assert result.returncode == 2 and "no site named nowhere" in result.stderr and "Traceback" not in result.stderr
