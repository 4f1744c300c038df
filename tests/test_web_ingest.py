"""The web path end to end: a fake Vietnamese news site on 127.0.0.1, real Prefect runs, real DuckDB."""
from __future__ import annotations

import pytest
from werkzeug import Response

from conftest import encode_cp1258, raw, rows, seed_paths
from transforms.pipeline import transform_batch
from flows.ingest import ingest

pytestmark = pytest.mark.usefixtures("prefect_server")

# Three different real articles (the seeds' bodies) behind three URLs.
BODIES = [list(result.article.paragraphs) for result in transform_batch([raw(path) for path in seed_paths()[2:5]])]


def page(title: str, body: list[str], charset_meta: str = "utf-8") -> str:
    paragraphs = "".join(f"<p>{line}</p>" for line in body)
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="{charset_meta}"><title>{title} - Báo Thử Nghiệm</title>
<meta property="og:site_name" content="Báo Thử Nghiệm"><meta property="article:published_time" content="2026-03-12T09:30:00+07:00">
</head><body><nav><a href="/">Trang chủ</a> <a href="/thoi-su">Thời sự</a> <a href="/kinh-te">Kinh tế</a></nav>
<article><h1>{title}</h1>{paragraphs}<p class="author">Minh Anh</p></article>
<div class="related"><h3>Tin liên quan</h3><ul><li><a href="/x">Hà Nội chuẩn bị mùa mưa bão</a></li></ul></div>
<form class="comment"><h3>Ý kiến bạn đọc</h3><input name="name"><textarea></textarea><button>Gửi bình luận</button></form>
<footer>© 2026 Báo Thử Nghiệm. Ghi rõ nguồn khi phát hành lại thông tin từ website này.</footer></body></html>"""


@pytest.fixture
def news_site(httpserver):
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /rieng/\n", content_type="text/plain")
    feed_items = "".join(
        f"<item><title>t</title><link>{base}{path}</link></item>"
        for path in ("/tin/mot.html", "/tin/hai.html?utm_source=rss&utm_medium=feed", "/tin/mot.html#binh-luan", "/rieng/an.html")
    )
    httpserver.expect_request("/rss.xml").respond_with_data(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Tin mới</title><link>{base}/</link>{feed_items}</channel></rss>',
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/sitemap.xml").respond_with_data(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base}/tin/ba.html</loc><lastmod>2026-03-12</lastmod></url>"
        f"<url><loc>{base}/tin/cu.html</loc><lastmod>2025-01-01</lastmod></url></urlset>",
        content_type="application/xml",
    )

    def conditional(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(page("Hà Nội tổng kết công tác phòng chống thiên tai", BODIES[0]), content_type="text/html; charset=utf-8",
                        headers={"ETag": '"v1"'})

    httpserver.expect_request("/tin/mot.html").respond_with_handler(conditional)
    # windows-1258 bytes with no charset anywhere: detection has to find it
    cp1258 = encode_cp1258(page("Giá xăng giảm lần thứ ba liên tiếp", BODIES[1], charset_meta=""))
    httpserver.expect_request("/tin/hai.html").respond_with_data(cp1258.replace(b'<meta charset="">', b""), content_type="text/html")
    httpserver.expect_request("/tin/ba.html").respond_with_data(
        page("Khánh thành cầu mới", BODIES[2]),
        content_type="text/html; charset=utf-8",
    )
    httpserver.expect_request("/tin/cu.html").respond_with_data("old", content_type="text/html")
    return base



def test_feed_and_sitemap_to_articles_then_a_conditional_rerun(news_site, db, httpserver):
    summary = ingest(feeds=[f"{news_site}/rss.xml"], sitemaps=[f"{news_site}/sitemap.xml"], since="2026-01-01T00:00:00+07:00",
                     db=str(db), allow_private=True, workers=1)
    articles = {source.rsplit("/", 1)[-1]: row for source, *row in rows(
        db, "SELECT source, title, site, author, published_at, date_precision, text FROM articles")}
    assert set(articles) == {"mot.html", "hai.html", "ba.html"}  # tracking params and fragments folded; old sitemap entry left out
    title, site, author, published, precision, text = articles["mot.html"]
    assert title == "Hà Nội tổng kết công tác phòng chống thiên tai" and site == "Báo Thử Nghiệm"
    assert author == "Minh Anh" and precision in ("second", "minute") and published.isoformat().startswith("2026-03-12")
    for furniture in ("Trang chủ", "Tin liên quan", "Ý kiến", "Gửi bình luận", "©", "Minh Anh"):
        assert furniture not in text
    assert articles["hai.html"][0] == "Giá xăng giảm lần thứ ba liên tiếp"
    assert articles["hai.html"][5] == "\n".join(BODIES[1])  # cp1258 decoded exactly
    rejects = dict(rows(db, "SELECT source, reason FROM rejects"))
    assert any(source.endswith("/rieng/an.html") and "robots" in reason for source, reason in rejects.items())
    assert rows(db, "SELECT DISTINCT language FROM articles") == [("vi",)]
    facts = rows(db, "SELECT http_status, content_type, etag, charset FROM raw_documents WHERE source LIKE '%mot.html'")
    assert facts == [(200, "text/html", '"v1"', "utf-8")]
    assert rows(db, "SELECT charset FROM raw_documents WHERE source LIKE '%hai.html'")[0][0] == "cp1258"
    assert summary.discovered == 4

    before = {table: rows(db, f"SELECT count(*) FROM {table}")[0][0] for table in ("raw_documents", "articles", "duplicates", "rejects")}
    requests_before = len(httpserver.log)
    again = ingest(feeds=[f"{news_site}/rss.xml"], urls=[f"{news_site}/tin/mot.html?fbclid=abc"], db=str(db), allow_private=True, workers=1)
    after = {table: rows(db, f"SELECT count(*) FROM {table}")[0][0] for table in before}
    assert after == before and again.loaded == 0 and again.read == 0
    fetched = [request.path for request, _ in httpserver.log[requests_before:]]
    assert fetched.count("/tin/mot.html") == 1  # named explicitly: asked again, answered 304
    assert "/tin/hai.html" not in fetched  # discovered and already stored: not fetched again
    assert rows(db, "SELECT http_status FROM fetch_state WHERE url LIKE '%mot.html'") == [(304,)]


def test_private_addresses_are_refused_without_allow_private(news_site, db, httpserver):
    summary = ingest(urls=[f"{news_site}/tin/mot.html", "ftp://example.org/a"], feeds=[f"{news_site}/rss.xml"], db=str(db), workers=1)
    assert summary.loaded == 0 and summary.rejected == 3
    reasons = sorted(reason for (reason,) in rows(db, "SELECT reason FROM rejects"))
    assert sum("loopback" in r or "private" in r for r in reasons) == 2 and any("scheme 'ftp'" in r for r in reasons)
    assert not [request for request, _ in httpserver.log if request.path.startswith("/tin/")]
