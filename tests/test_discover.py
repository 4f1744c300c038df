"""Discovery over a small fake news site served on localhost (pytest-httpserver), and the parsers alone."""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import pytest

from sources.discover import VIETNAM, DiscoveredUrl, discover_articles, parse_date, parse_feed, parse_sitemap
from sources.fetch import Fetcher, FetchSettings

SETTINGS = FetchSettings(allow_private=True, host_interval=0.0, retries=0, connect_timeout=1.0, read_timeout=1.0)
NOV_1 = datetime(2024, 11, 1, tzinfo=VIETNAM)
NOV_22 = datetime(2024, 11, 22, tzinfo=VIETNAM)

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Tin mới nhất - Báo Thử</title><link>{base}/tin-moi-nhat</link>
<atom:link href="{base}/rss/tin-moi-nhat.rss" rel="self" type="application/rss+xml"/>
<item><title>Bài một</title><link>{base}/thoi-su/bai-mot-1001.html?utm_source=rss&amp;utm_medium=feed</link>
  <pubDate>Thu, 21 Nov 2024 08:00:00 +0700</pubDate></item>
<item><title>Bài hai</title><link><![CDATA[{base}/the-gioi/bai-hai-1002.html]]></link>
  <pubDate>Wed, 20 Nov 2024 15:30:00 +0700</pubDate></item>
<item><title>Ở nơi khác</title><link>https://example.com/khac.html</link></item>
<item><title>Bài ba</title><link>/kinh-te/bai-ba-1003.html#binh-luan</link></item>
<item><title>Trang chủ</title><link>{base}/</link></item>
</channel></rss>"""

INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{base}/sitemaps/2024-11.xml</loc><lastmod>2024-11-22T09:00:00+07:00</lastmod></sitemap>
<sitemap><loc>{base}/sitemaps/2024-10.xml</loc><lastmod>2024-10-31T23:00:00+07:00</lastmod></sitemap>
<sitemap><loc>{base}/sitemap?page=3</loc></sitemap>
</sitemapindex>"""

NOVEMBER = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/thoi-su/bai-mot-1001.html?fbclid=IwAR0</loc><lastmod>2024-11-21T08:05:00+07:00</lastmod></url>
<url><loc>{base}/xa-hoi/bai-bon-1004.html</loc><lastmod>2024-11-05</lastmod></url>
<url><loc>{base}/xa-hoi/bai-nam-1005.html</loc><lastmod>2024-11-22T10:00:00+07:00</lastmod></url>
<url><loc>{base}/xa-hoi/bai-sau-1006.html</loc></url>
</urlset>"""

OCTOBER = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/van-hoa/bai-bay-0901.html</loc><lastmod>2024-10-12</lastmod></url>
</urlset>"""

PAGE_3 = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/the-thao/bai-tam-1008.html</loc><lastmod>2024-11-15</lastmod></url>
</urlset>"""

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
<url><loc>{base}/thoi-su/bai-chin-1009.html</loc>
  <news:news><news:publication><news:name>Báo Thử</news:name><news:language>vi</news:language></news:publication>
  <news:publication_date>2024-11-22T06:45:00+07:00</news:publication_date><news:title>Bài chín</news:title></news:news>
  <image:image><image:loc>{base}/anh/bai-chin.jpg</image:loc></image:image></url>
<url><loc>{base}/thoi-su/bai-muoi-1010.html</loc>
  <news:news><news:publication_date>2024-11-19T21:00:00Z</news:publication_date></news:news></url>
</urlset>"""

ARTICLE = "<html><head><title>Bài</title></head><body><p>Nội dung bài báo.</p></body></html>"


@pytest.fixture
def site(httpserver):
    """The fake site; returns its base URL."""
    base = httpserver.url_for("").rstrip("/")
    xml = "application/xml; charset=utf-8"
    httpserver.expect_request("/robots.txt").respond_with_data(
        f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n", content_type="text/plain")
    for path, template, content_type in [
        ("/rss/tin-moi-nhat.rss", RSS, "application/rss+xml"), ("/private/rss.rss", RSS, "application/rss+xml"),
        ("/sitemap.xml", INDEX, xml), ("/sitemaps/2024-11.xml", NOVEMBER, xml),
        ("/sitemaps/2024-10.xml", OCTOBER, xml), ("/sitemap", PAGE_3, "text/xml"),
        ("/sitemap-news.xml", NEWS, xml), ("/trang-chu.html", ARTICLE, "text/html"),
    ]:
        httpserver.expect_request(path).respond_with_data(template.format(base=base), content_type=content_type)
    httpserver.expect_request("/khong-co.rss").respond_with_data("not found", status=404)
    httpserver.expect_request("/sitemap-news.xml.gz").respond_with_data(
        gzip.compress(NEWS.format(base=base).encode()), content_type="application/x-gzip")
    return base


def run(**kwargs):
    with Fetcher(SETTINGS) as fetcher:
        return discover_articles(fetcher, **kwargs)


def paths(found: list[DiscoveredUrl], base: str) -> list[str]:
    return [item.url.removeprefix(base) for item in found]


def fetched(httpserver, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.full_path.rstrip("?") == path)


def test_feed_gives_its_article_urls_in_feed_order(site):
    found = run(feeds=[f"{site}/rss/tin-moi-nhat.rss"])
    # tracking parameters and fragments gone; the channel's own link, the off-site link and the home page left out
    assert paths(found.urls, site) == ["/thoi-su/bai-mot-1001.html", "/the-gioi/bai-hai-1002.html",
                                       "/kinh-te/bai-ba-1003.html"]
    assert found.urls[0].lastmod == datetime(2024, 11, 21, 1, 0, tzinfo=timezone.utc)
    assert found.urls[2].lastmod is None and found.failures == []
    assert {item.source for item in found.urls} == {f"{site}/rss/tin-moi-nhat.rss"}


def test_sitemap_index_is_followed_to_its_urls_with_lastmod(site, httpserver):
    found = run(sitemaps=[f"{site}/sitemap.xml"])
    assert paths(found.urls, site) == [
        "/thoi-su/bai-mot-1001.html", "/xa-hoi/bai-bon-1004.html", "/xa-hoi/bai-nam-1005.html",
        "/xa-hoi/bai-sau-1006.html", "/van-hoa/bai-bay-0901.html", "/the-thao/bai-tam-1008.html"]
    assert found.sitemaps_read == 4 and found.failures == []
    # an index <loc> is a sitemap even without '.xml' in its name
    assert fetched(httpserver, "/sitemap?page=3") == 1
    by_path = dict(zip(paths(found.urls, site), found.urls))
    assert by_path["/xa-hoi/bai-bon-1004.html"].lastmod == datetime(2024, 11, 4, 17, 0, tzinfo=timezone.utc)
    assert by_path["/van-hoa/bai-bay-0901.html"].source == f"{site}/sitemaps/2024-10.xml"


def test_date_range_filters_urls_and_skips_old_sitemaps(site, httpserver):
    found = run(sitemaps=[f"{site}/sitemap.xml"], since=NOV_1, until=NOV_22, keep_undated=False)
    assert paths(found.urls, site) == ["/thoi-su/bai-mot-1001.html", "/xa-hoi/bai-bon-1004.html",
                                       "/the-thao/bai-tam-1008.html"]
    assert found.sitemaps_skipped == 1 and fetched(httpserver, "/sitemaps/2024-10.xml") == 0
    undated_kept = run(sitemaps=[f"{site}/sitemap.xml"], since=NOV_1, until=NOV_22)
    assert "/xa-hoi/bai-sau-1006.html" in paths(undated_kept.urls, site)


def test_google_news_sitemap_gives_publication_dates(site):
    found = run(sitemaps=[f"{site}/sitemap-news.xml"])
    assert paths(found.urls, site) == ["/thoi-su/bai-chin-1009.html", "/thoi-su/bai-muoi-1010.html"]  # no image URL
    assert [item.lastmod for item in found.urls] == [datetime(2024, 11, 21, 23, 45, tzinfo=timezone.utc),
                                                      datetime(2024, 11, 19, 21, 0, tzinfo=timezone.utc)]


def test_gzipped_sitemap_file_is_read(site):
    found = run(sitemaps=[f"{site}/sitemap-news.xml.gz"])
    assert paths(found.urls, site) == ["/thoi-su/bai-chin-1009.html", "/thoi-su/bai-muoi-1010.html"]


def test_the_same_article_from_feed_and_sitemap_is_listed_once(site):
    found = run(feeds=[f"{site}/rss/tin-moi-nhat.rss"], sitemaps=[f"{site}/sitemaps/2024-11.xml"])
    ones = [item for item in found.urls if "bai-mot-1001" in item.url]
    assert len(ones) == 1 and ones[0].source.endswith(".rss")  # first sighting wins
    assert len({item.canonical for item in found.urls}) == len(found.urls) == 6


def test_unreadable_sources_are_failures_not_exceptions(site):
    found = run(feeds=[f"{site}/private/rss.rss", f"{site}/khong-co.rss"],
                sitemaps=[f"{site}/trang-chu.html", "ftp://localhost/sitemap.xml"])
    assert found.urls == []
    assert [(failure.source.removeprefix(site), failure.reason) for failure in found.failures] == [
        ("/private/rss.rss", "disallowed by robots.txt"),
        ("/khong-co.rss", "HTTP 404 NOT FOUND"),
        ("/trang-chu.html", "unexpected content type 'text/html' (wanted a feed or sitemap)"),
        ("ftp://localhost/sitemap.xml", "refused: scheme 'ftp' is not http(s)"),
    ]


def test_depth_and_count_limits_are_reported(site):
    too_deep = run(sitemaps=[f"{site}/sitemap.xml"], max_depth=0)
    assert too_deep.sitemaps_read == 1 and too_deep.urls == []
    assert too_deep.failures[0].reason == "not read: 3 sitemap(s) nested deeper than max_depth=0"
    too_many = run(sitemaps=[f"{site}/sitemap.xml"], max_sitemaps=2)
    assert too_many.sitemaps_read == 2 and paths(too_many.urls, site)[0] == "/thoi-su/bai-mot-1001.html"
    assert too_many.failures[0].reason == "not read: 2 sitemap(s) beyond max_sitemaps"


def test_naive_date_bounds_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        run(sitemaps=["http://localhost:1/sitemap.xml"], since=datetime(2024, 11, 1))


def test_atom_and_json_feeds_parse_with_dates():
    atom = """<feed xmlns="http://www.w3.org/2005/Atom"><link href="https://baothu.vn/thoi-su" rel="alternate"/>
      <link href="https://baothu.vn/atom.xml" rel="self"/>
      <entry><link href="/bai/1.html"/><published>2024-11-20T08:00:00+07:00</published>
        <updated>2024-11-21T08:00:00Z</updated></entry>
      <entry><link rel="alternate" href="https://e.baothu.vn/bai/2.html"/><updated>2024-11-22</updated></entry>
    </feed>"""
    found = parse_feed(atom, "https://baothu.vn/atom.xml")
    assert [(item.url, item.lastmod) for item in found] == [
        ("https://baothu.vn/bai/1.html", datetime(2024, 11, 21, 8, tzinfo=timezone.utc)),  # the later date
        ("https://e.baothu.vn/bai/2.html", datetime(2024, 11, 21, 17, tzinfo=timezone.utc)),  # a subdomain is on site
    ]
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "url": "https://baothu.vn/bai/3.html", "date_published": "2024-11-20T10:00:00+07:00"}]})
    assert parse_feed(feed, "https://baothu.vn/feed.json") == [
        DiscoveredUrl("https://baothu.vn/bai/3.html", datetime(2024, 11, 20, 3, tzinfo=timezone.utc),
                      "https://baothu.vn/feed.json")]


def test_text_sitemap_and_relative_or_foreign_links():
    text = "https://baothu.vn/bai/5.html\nhttps://baothu.vn/bai/6.html/\nhttps://khac.vn/bai/7.html\n"
    contents = parse_sitemap(text, "https://baothu.vn/sitemap.txt")
    assert [item.url for item in contents.pages] == ["https://baothu.vn/bai/5.html", "https://baothu.vn/bai/6.html/"]
    assert contents.pages[1].canonical == "https://baothu.vn/bai/6.html" and contents.sitemaps == []


def test_pretty_printed_loc_is_read():
    text = """<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>
        https://baothu.vn/bai/1.html
      </loc><lastmod> 2024-11-20 </lastmod></url></urlset>"""
    pages = parse_sitemap(text, "https://baothu.vn/sitemap.xml").pages
    assert [(item.url, item.lastmod) for item in pages] == [
        ("https://baothu.vn/bai/1.html", datetime(2024, 11, 19, 17, tzinfo=timezone.utc))]


@pytest.mark.parametrize("text, expected", [
    ("2024-11-22", datetime(2024, 11, 21, 17, tzinfo=timezone.utc)),  # a bare date is a Vietnamese day
    ("2024-11", datetime(2024, 10, 31, 17, tzinfo=timezone.utc)),
    ("2024-11-22T10:00:00+07:00", datetime(2024, 11, 22, 3, tzinfo=timezone.utc)),
    ("2024-11-22T03:00Z", datetime(2024, 11, 22, 3, tzinfo=timezone.utc)),
    ("Fri, 22 Nov 2024 10:00:00 +0700", datetime(2024, 11, 22, 3, tzinfo=timezone.utc)),
    ("Fri, 22 Nov 2024 03:00:00 GMT", datetime(2024, 11, 22, 3, tzinfo=timezone.utc)),
    ("22/11/2024", None), ("", None), (None, None),
])
def test_dates(text, expected):
    assert parse_date(text) == expected
