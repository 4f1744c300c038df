"""The HTML text path: extract_page (trafilatura + page metadata) and the cleaner, through transform_batch."""
from __future__ import annotations

import json
import unicodedata
from datetime import datetime

import pytest
import trafilatura

from tests.conftest import raw, shared_path
from transforms.clean import load_cleaning_rules
from transforms.html import FALLBACK_EXTRACTOR, TRAFILATURA_OPTIONS, extract_page
from transforms.pipeline import transform_batch

RULES = load_cleaning_rules()
VNEXPRESS = ("corpora", "vnexpress", "dau-bung-keo-dai-phat-hien-ung-thu-lymphoma-ruot-non-4954454")


def only_article(html: bytes | str, source: str = "page.html"):
    content = html.encode("utf-8") if isinstance(html, str) else html
    [result] = transform_batch([raw(source, content)])
    assert result.reject is None, result.reject
    return result.article


def in_order(found: list[str], expected: list[str]) -> bool:
    remaining = iter(found)
    return all(any(paragraph == candidate for candidate in remaining) for paragraph in expected)


def test_vnexpress_page_gives_the_expected_parse():
    page = shared_path(*VNEXPRESS[:-1], VNEXPRESS[-1] + ".html")
    expected = json.loads(shared_path(*VNEXPRESS[:-1], VNEXPRESS[-1] + ".expected.json").read_text(encoding="utf-8"))
    [result] = transform_batch([raw(page)])
    article = result.article
    assert result.reject is None, result.reject
    assert article.title == expected["title"]
    assert article.author == expected["author"]  # the byline at the end: the page's meta author is the outlet
    assert article.published_at == datetime.fromisoformat(expected["published_at"])
    assert article.date_precision == "second"
    assert article.url == expected["url"]
    assert article.extractor == "trafilatura"
    # The sapo (p.description, outside the body container) comes first, then every body paragraph.
    assert in_order(list(article.paragraphs), expected["paragraphs"]), article.paragraphs
    assert len(article.paragraphs) == len(expected["paragraphs"]), article.paragraphs
    for furniture in expected["not_in_text"]:
        assert furniture not in article.text


SAPO = (
    "Từ ngày 1/12, ba tuyến xe buýt điện mới nối trung tâm Hà Nội với sân bay Nội Bài, "
    "giá vé 9.000 đồng một lượt và chạy từ 5h đến 23h mỗi ngày."
)
BODY = [
    "Sở Xây dựng Hà Nội cho biết ba tuyến mới xuất phát từ bến Kim Mã, Long Biên và Cầu Giấy, "
    "mỗi tuyến có 12 xe chạy với tần suất 15 phút một chuyến vào giờ cao điểm.",
    "Theo đại diện đơn vị vận hành, toàn bộ xe đều có wifi miễn phí, cổng sạc điện thoại và chỗ để "
    "hành lý, phù hợp với hành khách đi máy bay mang theo vali cỡ lớn.",
    "Trong năm 2026, thành phố dự kiến thay thế thêm 300 xe buýt chạy dầu bằng xe điện trên các "
    "tuyến nội đô, hướng tới mục tiêu giảm phát thải trong giao thông công cộng.",
]
TITLE = "Hà Nội mở thêm ba tuyến buýt điện nối sân bay Nội Bài"
# Another layout than VnExpress: the sapo in p.detail-sapo outside the body's <article> (plain
# trafilatura drops it), byline in p.author, a figure with a
# caption, related links, a comment form, a footer; the outlet declared as author and
# appended to og:title; a timestamp without an offset. The sapo is written decomposed (NFD),
# as some CMSs store Vietnamese.
NEWS_PAGE = f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{TITLE} - Báo Tin Nhanh</title>
<meta property="og:title" content="{TITLE} - Báo Tin Nhanh">
<meta property="og:description" content="{SAPO}">
<meta property="og:site_name" content="Báo Tin Nhanh">
<meta name="author" content="Báo Tin Nhanh">
<meta property="article:published_time" content="2025-11-30T08:15">
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">Báo Tin Nhanh</a>
  <nav class="menu"><ul>
    <li><a href="/">Trang chủ</a></li><li><a href="/thoi-su">Thời sự</a></li>
    <li><a href="/the-gioi">Thế giới</a></li><li><a href="/kinh-doanh">Kinh doanh</a></li>
    <li><a href="/giai-tri">Giải trí</a></li><li><a href="/the-thao">Thể thao</a></li>
  </ul></nav>
</header>
<div class="breadcrumb"><a href="/thoi-su">Thời sự</a> › <a href="/thoi-su/giao-thong">Giao thông</a></div>
<main>
<div class="detail-header">
  <h1 class="article-title">{TITLE}</h1>
  <div class="article-meta"><span class="date">Chủ nhật, 30/11/2025 - 08:15</span></div>
  <p class="detail-sapo">{unicodedata.normalize("NFD", SAPO)}</p>
</div>
<article class="article-detail">
  <div class="detail-content">
    <p>{BODY[0]}</p>
    <figure class="image">
      <img src="/anh/xe-buyt-dien.jpg" alt="Xe buýt điện tại bến Kim Mã">
      <figcaption>Xe buýt điện chạy thử tại bến Kim Mã sáng 29/11. Ảnh: Minh Đức</figcaption>
    </figure>
    <p>{BODY[1]}</p>
    <div class="PhotoCMS_Caption"><p>Hành khách lên xe tại sân bay Nội Bài</p></div>
    <p>{BODY[2]}</p>
    <p class="author"><strong>Minh Đức</strong></p>
  </div>
  <div class="related-news"><h3>Tin liên quan</h3><ul>
    <li><a href="/a">Hà Nội thí điểm vé tháng điện tử cho xe buýt</a></li>
    <li><a href="/b">Tuyến metro Nhổn - ga Hà Nội chạy thêm chuyến dịp cuối tuần</a></li>
  </ul></div>
  <div class="comment-box"><h3>Gửi bình luận</h3>
    <form><input name="name" placeholder="Họ tên"><textarea name="content">Nội dung</textarea><button>Gửi</button></form>
  </div>
</article></main>
<footer class="site-footer">
  <p>© 2025 Báo Tin Nhanh. Giấy phép số 123/GP-BTTTT do Bộ Thông tin và Truyền thông cấp.</p>
  <p>Địa chỉ: 1 Phố Huế, Hà Nội. Điện thoại: 024 3999 9999.</p>
</footer>
</body>
</html>"""


def test_news_page_keeps_sapo_and_body_and_drops_the_furniture():
    article = only_article(NEWS_PAGE)
    assert list(article.paragraphs) == [SAPO, *BODY]
    assert unicodedata.is_normalized("NFC", article.text)
    for furniture in (
        "Trang chủ", "Kinh doanh", "Giao thông", "Chủ nhật, 30/11/2025", "Xe buýt điện chạy thử",
        "Ảnh: Minh Đức", "Hành khách lên xe", "Minh Đức", "Tin liên quan", "vé tháng điện tử",
        "Gửi bình luận", "Họ tên", "Giấy phép", "Địa chỉ",
    ):
        assert furniture not in article.text


def test_news_page_metadata():
    article = only_article(NEWS_PAGE)
    assert article.title == TITLE  # not "... - Báo Tin Nhanh"
    assert article.author == "Minh Đức"  # the byline, not the outlet the page declares as author
    assert article.site == "Báo Tin Nhanh"
    assert article.published_at == datetime.fromisoformat("2025-11-30T08:15:00+07:00")
    assert article.date_precision == "minute"
    page = extract_page(NEWS_PAGE.encode("utf-8"), None, RULES)
    assert (page.language, page.description, page.method) == ("vi", SAPO, "trafilatura")


def test_description_printed_after_the_body_is_not_taken_for_a_sapo():
    bio = (
        "Minh Đức viết về giao thông đô thị và quy hoạch từ năm 2015, trước đó là kỹ sư cầu đường "
        "tại Sở Giao thông vận tải Hà Nội."
    )
    html = NEWS_PAGE.replace(f'content="{SAPO}"', f'content="{bio}"').replace(
        '<div class="related-news">', f'<div class="author-box"><p>{bio}</p></div><div class="related-news">'
    )
    html = html.replace(f'<p class="detail-sapo">{unicodedata.normalize("NFD", SAPO)}</p>', "")
    assert list(only_article(html).paragraphs) == BODY


@pytest.mark.parametrize(
    ("declared", "expected", "precision"),
    [
        ('<meta property="article:published_time" content="2025-10-22T19:25:52+07:00">', "2025-10-22T19:25:52+07:00", "second"),
        ('<meta name="pubdate" content="2025-10-22T12:25:52Z">', "2025-10-22T19:25:52+07:00", "second"),
        ('<meta itemprop="datePublished" content="2025-10-22 19:25">', "2025-10-22T19:25:00+07:00", "minute"),
        ('<script type="application/ld+json">{"@context": "https://schema.org", "@graph": '
         '[{"@type": "NewsArticle", "datePublished": "2025-10-22T19:25+07:00"}]}</script>', "2025-10-22T19:25:00+07:00", "minute"),
    ],
)
def test_declared_timestamp(declared, expected, precision):
    html = NEWS_PAGE.replace('<meta property="article:published_time" content="2025-11-30T08:15">', declared)
    page = extract_page(html.encode("utf-8"), None, RULES)
    assert (page.published_at, page.date_precision) == (datetime.fromisoformat(expected), precision)


def test_dateline_in_the_text_when_nothing_is_declared():
    html = NEWS_PAGE.replace('<meta property="article:published_time" content="2025-11-30T08:15">', "").replace(
        f"<p>{BODY[0]}</p>", f"<p>Thứ bảy, 29/11/2025, 21:40 (GMT+7)</p><p>{BODY[0]}</p>"
    )
    article = only_article(html)
    assert (article.published_at, article.date_precision) == (datetime.fromisoformat("2025-11-29T21:40:00+07:00"), "minute")
    assert "29/11/2025" not in article.text


# trafilatura, with comments off, prunes any element whose id starts with "comment" before
# extracting, so a body wrapped in "commentable-area" leaves it nothing; its baseline finds
# the paragraphs.
COMMENTABLE_PAGE = """<html lang="vi"><head><meta charset="utf-8"><title>Giá xăng giảm lần thứ ba liên tiếp</title></head>
<body><div id="commentable-area">
<h1>Giá xăng giảm lần thứ ba liên tiếp</h1>
<p>Từ 15h chiều nay, giá xăng E5 RON 92 giảm 320 đồng mỗi lít, xuống còn 19.850 đồng, theo thông báo của liên Bộ Công Thương - Tài chính.</p>
<p>Đây là lần giảm thứ ba liên tiếp kể từ đầu tháng, khi giá dầu thế giới tiếp tục đi xuống do lo ngại nhu cầu suy yếu.</p>
</div></body></html>"""


def test_fallback_when_trafilatura_finds_nothing():
    html = COMMENTABLE_PAGE.encode("utf-8")
    assert trafilatura.bare_extraction(html, **TRAFILATURA_OPTIONS) is None
    article = only_article(html)
    assert article.extractor == FALLBACK_EXTRACTOR
    assert article.title == "Giá xăng giảm lần thứ ba liên tiếp"
    assert [paragraph[:20] for paragraph in article.paragraphs] == ["Từ 15h chiều nay, gi", "Đây là lần giảm thứ "]


def test_page_without_text_is_rejected_not_raised():
    [result] = transform_batch([raw("empty.html", b"<html><head><title>x</title></head><body></body></html>")])
    assert result.article is None and result.reject.stage == "parse"
