"""Real Vietnamese pages: title, author and time right, no leftovers in the text.

The dev pages (../shared/corpora/vi-pages-dev) are checked one by one against their
expected parses; each signal is also tested alone on small hand-written HTML.
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timezone

import pytest

from conftest import raw, shared_path
from transforms.clean import clean_lines, load_cleaning_rules
from transforms.dates import VIETNAM, parse_timestamp
from transforms.html import extract_page
from transforms.models import HttpFacts, RawDocument
from transforms.pipeline import transform_batch

RULES = load_cleaning_rules()
LONG = ("Sáng 12/3, Ủy ban nhân dân thành phố Hà Nội tổ chức hội nghị tổng kết công tác phòng chống thiên tai"
        " năm qua và triển khai nhiệm vụ trong năm nay, với sự tham dự của lãnh đạo các sở, ngành và quận, huyện.")
MORE = ("Theo báo cáo, trong năm qua thành phố đã chủ động ứng phó với nhiều đợt mưa lớn, bảo đảm an toàn cho"
        " người dân và hạn chế tới mức thấp nhất thiệt hại về tài sản, hạ tầng giao thông và sản xuất nông nghiệp.")


def squash(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()


def dev_pages() -> list[tuple[str, bytes, dict]]:
    folder = shared_path("corpora", "vi-pages-dev")
    return [(path.name.removesuffix(".expected.json"), (folder / path.name.replace(".expected.json", ".html")).read_bytes(),
             json.loads(path.read_text(encoding="utf-8"))) for path in sorted(folder.glob("*.expected.json"))]


@pytest.fixture(scope="module")
def dev_parses():
    pages = dev_pages()
    received = datetime.now(timezone.utc)
    documents = [RawDocument(expected["url"], html, received,
                             http=HttpFacts(expected["url"], 200, "text/html", None, None, None))
                 for _, html, expected in pages]
    return {name: (expected, result.article) for (name, _, expected), result in zip(pages, transform_batch(documents))}


DEV_NAMES = [
    "baochinhphu-chinh-sach-moi-hieu-luc-thang-3-2026", "cafef-mbs-30-co-phieu-lot-ro-ftse",
    "cafef-tang-ho-tro-chuyen-muc-dich-su-dung-dat", "dantri-gia-vang-giam-van-cao-hon-the-gioi",
    "dantri-mobile-2016-xe-camry-tong-4-xe-may", "nld-sai-sot-ho-kinh-doanh-quy-dinh-thue-moi",
    "tuoitre-2015-thanh-tra-vu-chat-cay-xanh-ha-noi", "tuoitre-chien-su-day-gia-hoa-nhap-khau-8-3",
    "vietnamnet-2020-ngoai-truong-my-cach-ly-covid-19", "vietnamnet-co-phieu-flc-duoc-giao-dich-tro-lai",
]


@pytest.mark.parametrize("name", DEV_NAMES)
def test_a_dev_page_parses_as_expected(dev_parses, name):
    expected, article = dev_parses[name]
    assert article is not None
    assert squash(article.title) == squash(expected["title"])
    assert squash(article.author) == squash(expected["author"])
    wanted, precision = parse_timestamp(expected["published_at"])
    assert article.published_at == wanted and (precision == "day") == (article.date_precision == "day")
    text = squash(article.text)
    assert [leftover for leftover in expected["not_in_text"] if squash(leftover) in text] == []


# ---- each signal alone ---------------------------------------------------------------------

def page(head: str, body: str) -> str:
    return f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'


def parsed(html: str, url: str = "https://baothu.vn/tin/mot.html"):
    return extract_page(html.encode("utf-8"), url, RULES)


def test_entities_escaped_twice_in_a_title_are_decoded():
    html = page('<meta property="og:title" content="5 &amp;quot;bóng hồng&amp;quot; của làng hài">',
                f"<article><p>{LONG}</p><p>{MORE}</p></article>")
    assert parsed(html).title == '5 "bóng hồng" của làng hài'


def test_the_printed_h1_wins_over_a_title_with_a_section_suffix_or_reworded():
    suffixed = page('<title>Thanh tra vụ chặt cây xanh trong 30 ngày - Chính trị - Xã hội</title>',
                    f"<aside><h1>Thông tin bạn đọc</h1></aside><article><h1>Thanh tra vụ chặt cây xanh trong 30 ngày</h1>"
                    f"<p>{LONG}</p><p>{MORE}</p></article>")
    assert parsed(suffixed).title == "Thanh tra vụ chặt cây xanh trong 30 ngày"
    reworded = page('<meta property="og:title" content="Sai sót khi thực hiện quy định thuế mới">',
                    f"<article><h1>Sai sót khi thực hiện quy định mới về thuế</h1><p>{LONG}</p><p>{MORE}</p></article>")
    assert parsed(reworded).title == "Sai sót khi thực hiện quy định mới về thuế"
    unrelated = page('<meta property="og:title" content="Hà Nội tổng kết công tác phòng chống thiên tai">',
                     f"<h1>Tin mới nhất</h1><article><p>{LONG}</p><p>{MORE}</p></article>")
    assert parsed(unrelated).title == "Hà Nội tổng kết công tác phòng chống thiên tai"


@pytest.mark.parametrize("declared, author", [
    ("Dương Ngọc;VCCorp.vn", "Dương Ngọc"),  # a host name is the platform
    ("Công nghệ ChannelVN", None),  # a platform of the rule table
    ("Theo Hồ Hương", "Hồ Hương"),  # a person after "Theo" is the author
    ("Theo VietQ.vn", None),  # an outlet after "Theo" is a source
])
def test_authors_are_people_not_platforms(declared, author):
    html = page(f'<meta name="author" content="{declared}">', f"<article><p>{LONG}</p><p>{MORE}</p></article>")
    assert parsed(html).author == author


def test_several_authors_come_out_as_printed():
    html = page('<meta name="author" content="NHẬT XUÂN;NGHI VŨ">',
                f'<article><p>{LONG}</p><p>{MORE}</p><p class="author">NHẬT XUÂN - NGHI VŨ</p></article>')
    assert parsed(html).author == "NHẬT XUÂN - NGHI VŨ"


def test_a_printed_time_of_day_completes_a_declared_day():
    html = page('<meta property="article:published_time" content="2016-03-14">',
                f'<div class="publishdate">09:15 ngày 13/03/2016</div><article><div class="publishdate">08:36 ngày'
                f" 14/03/2016</div><p>{LONG}</p><p>{MORE}</p></article>")
    found = parsed(html)
    assert (found.published_at, found.date_precision) == (datetime(2016, 3, 14, 8, 36, tzinfo=VIETNAM), "minute")


def test_a_printed_lead_with_the_outlets_tag_is_the_sapo():
    description = "(Báo Thử) - " + LONG
    html = page(f'<meta name="description" content="{description}">',
                f'<article><h2 class="sapo"><span>Báo Thử</span> {LONG}</h2><p>{MORE}</p><p>{MORE[::-1]}</p></article>')
    assert parsed(html).lines[0] == f"Báo Thử {LONG}"


def test_an_end_signature_ends_a_vietnamese_article_and_is_its_author():
    lines = [LONG, MORE, LONG.replace("Hà Nội", "Hải Phòng"), "Dương Lâm",
             "Mỹ tăng kỉ lục ca nhập viện, ca nhiễm ở Hàn cao chưa từng có", MORE.replace("thành phố", "tỉnh")]
    body = clean_lines(lines, RULES)
    assert body.paragraphs == lines[:3] and body.fields["author"] == "Dương Lâm"
    english = [f"The council met on day {day} to discuss the new budget for the coming year and agreed on it."
               for day in range(3)]
    closing = "The mayor said the plan would be published in full before the next session of the council."
    kept = clean_lines([*english, "John Smith", "Budget talks stall", closing], RULES)
    assert kept.paragraphs[-1] == closing  # not Vietnamese: no cut at a name line


def test_a_lead_keeps_the_outlets_tag_as_printed():
    [result] = transform_batch([raw("dump.txt", f"Tiêu đề bài báo thử nghiệm\n(NLĐO) - {LONG}\n{MORE}".encode())])
    assert result.article.paragraphs[0] == f"(NLĐO) - {LONG}"


def test_a_dumps_outlet_breadcrumb_and_dateline_are_not_its_title():
    dump = (f"Dân trí\nThời sự › Chính trị\nThứ Ba, 25/12/2012 - 10:03\n"
            f"Quốc hội thông qua luật đất đai sửa đổi với đa số phiếu tán thành\n{LONG}\n{MORE}\n")
    [result] = transform_batch([raw("dump.txt", dump.encode())])
    article = result.article
    assert article.title == "Quốc hội thông qua luật đất đai sửa đổi với đa số phiếu tán thành"
    assert article.site == "Dân trí"
    assert (article.published_at, article.date_precision) == (datetime(2012, 12, 25, 10, 3, tzinfo=VIETNAM), "minute")
    short = transform_batch([raw("short.txt", f"Bão số 3\n{LONG}\n{MORE}\n".encode())])[0].article
    assert short.title == "Bão số 3"  # a short title followed by prose is the title


def test_a_subheading_trafilatura_drops_is_put_back_before_its_paragraph():
    html = page('<meta property="og:title" content="Chính sách mới có hiệu lực từ tháng 3">',
                f"<article><h1>Chính sách mới có hiệu lực từ tháng 3</h1><p>{LONG}</p>"
                f"<h2>Quy định mới về đăng ký cư trú</h2><figure><img src='a.jpg'></figure><p>{MORE}</p></article>")
    lines = parsed(html).lines
    assert lines.index("Quy định mới về đăng ký cư trú") == lines.index(MORE) - 1


def test_the_site_is_an_outlets_name_never_a_headline_or_an_address():
    body = f"<article><h1>Hà Nội tổng kết công tác phòng chống thiên tai</h1><p>{LONG}</p><p>{MORE}</p></article>"
    named = page('<meta property="og:site_name" content="Báo Thử Nghiệm">', body)
    headline = page('<meta property="og:site_name" content="Hà Nội tổng kết công tác phòng chống thiên tai">', body)
    received = datetime.now(timezone.utc)
    results = transform_batch([
        RawDocument("https://baothu.vn/a.html", named.encode(), received),
        RawDocument("https://www.baothu.vn/b.html", headline.encode(), received),
        RawDocument("http://127.0.0.1:8765/c.html", headline.encode(), received),
        RawDocument("http://127.0.0.1:8765/d.html", headline.encode(), received, sources_site="baothu"),
    ])
    assert [(r.article.site, r.article.host) for r in results] == [
        ("Báo Thử Nghiệm", "baothu.vn"), ("baothu.vn", "baothu.vn"), (None, "127.0.0.1:8765"),
        ("baothu", "127.0.0.1:8765")]


def test_captions_related_lists_prompts_and_polls_inside_the_article_stay_out():
    html = page('<meta property="og:title" content="Hà Nội tổng kết công tác phòng chống thiên tai">',
                f"<article><p>{LONG}</p><table><tr><td><img src='a.jpg'></td></tr>"
                f"<tr><td>Lãnh đạo thành phố tại hội nghị</td></tr></table><p>(Ảnh minh họa)</p><p>{MORE}</p>"
                f"<p>{LONG.replace('Hà Nội', 'Hải Phòng')}</p><p>Tin cùng mục</p><p>Hải Phòng ra quân dọn vệ sinh</p>"
                f"<p>Xem tất cả &gt;&gt;</p><p>Báo Thử Nghiệm hoan nghênh ý kiến của bạn đọc</p>"
                f"<p>Bình chọn</p></article>")
    [result] = transform_batch([RawDocument("https://baothu.vn/tin/mot.html", html.encode(), datetime.now(timezone.utc))])
    text = result.article.text
    assert result.article.paragraphs == (LONG, MORE, LONG.replace("Hà Nội", "Hải Phòng"))
    for leftover in ("Lãnh đạo thành phố", "Ảnh minh họa", "Tin cùng mục", "dọn vệ sinh", "Xem tất cả", "hoan nghênh"):
        assert leftover not in text


def test_a_related_list_ends_where_prose_resumes_whatever_its_headlines_end_with():
    lines = [LONG, MORE, "Tin liên quan", "Vì sao giá vàng tăng mạnh trong tuần qua?", 'Hà Nội: Mưa lớn gây ngập "khủng"!',
             "Theo báo cáo, thành phố đã chủ động ứng phó.", LONG.replace("Hà Nội", "Huế"), "Theo VOV"]
    body = clean_lines(lines, RULES)
    assert body.paragraphs == [LONG, MORE, "Theo báo cáo, thành phố đã chủ động ứng phó.", LONG.replace("Hà Nội", "Huế")]
    assert body.fields["original_source"] == "VOV"  # a capitalised source, not a sentence that starts with "Theo"


def test_a_section_label_is_not_the_headline():
    html = page('<meta property="og:title" content="XH - CHUYỆN VỤ ÁN">'
                "<title>Bắt giam nguyên giám đốc sở vì sai phạm đất đai - Báo Thử</title>",
                f"<article><p>{LONG}</p><p>{MORE}</p></article>")
    assert parsed(html).title == "Bắt giam nguyên giám đốc sở vì sai phạm đất đai"


@pytest.mark.parametrize("printed, expected", [
    ("Cập nhật: 24/12/12 11:05 tối", datetime(2012, 12, 24, 23, 5, tzinfo=VIETNAM)),  # a 12-hour clock, evening
    ("Thứ Ba, 25/12/2012 - 10:03", datetime(2012, 12, 25, 10, 3, tzinfo=VIETNAM)),
])
def test_a_printed_dateline_gives_the_time_when_nothing_is_declared(printed, expected):
    html = page("<title>Hà Nội tổng kết công tác phòng chống thiên tai</title>",
                f'<article><span class="post-time">{printed}</span><p>{LONG}</p><p>{MORE}</p></article>')
    found = parsed(html, url=None)
    assert (found.published_at, found.date_precision) == (expected, "minute")


def test_a_caption_block_under_or_after_a_picture_is_not_text_but_a_paragraph_with_a_picture_is():
    html = page('<meta property="og:title" content="Hà Nội tổng kết công tác phòng chống thiên tai">',
                f"<article><p>{LONG}</p>"
                f'<div align="center"><span style="font-style: italic;"><img src="a.jpg"><br>Lãnh đạo thành phố'
                f' tại hội nghị<br><br><img src="b.jpg"><br>Toàn cảnh hội nghị</span></div>'
                f'<div><img src="c.jpg"></div><div style="TEXT-ALIGN: center"><em>Người dân dọn bùn sau lũ</em></div>'
                f'<p><img src="d.jpg"> {MORE}</p></article>')
    lines = parsed(html).lines
    assert lines == [LONG, MORE]


@pytest.mark.parametrize("byline, author", [
    ('<h1>Hà Nội tổng kết công tác phòng chống thiên tai</h1><p class="post-meta">Hạ Trắng</p>', "Hạ Trắng"),
    ('<div align="right"><strong>Hà Anh</strong></div>', "Hà Anh"),  # the end signature, right-aligned
    ('<p style="text-align: right;">Theo <em>VietQ.vn</em></p>', None),  # a source, not an author
])
def test_a_byline_under_the_headline_or_right_aligned_at_the_end_is_the_author(byline, author):
    headline, _, rest = byline.partition("</h1>")
    before, after = (headline + "</h1>" + rest, "") if rest else ("", byline)
    html = page('<meta property="og:title" content="Hà Nội tổng kết công tác phòng chống thiên tai">',
                f"<article>{before}<p>{LONG}</p><p>{MORE}</p>{after}</article>")
    assert parsed(html).author == author
    [result] = transform_batch([RawDocument("https://baothu.vn/tin/mot.html", html.encode(), datetime.now(timezone.utc))])
    assert result.article.author == author
    assert result.article.original_source == ("VietQ.vn" if "VietQ" in byline else None)


def test_a_printed_time_after_the_byline_in_one_row_is_read():
    html = page('<meta property="article:published_time" content="2026-03-07">',
                f'<div class="author-share"><a class="author">Nguyên Minh</a><span class="post-time"> - 07/03/2026 08:47'
                f"</span></div><article><p>{LONG}</p><p>{MORE}</p></article>")
    found = parsed(html)
    assert (found.published_at, found.date_precision) == (datetime(2026, 3, 7, 8, 47, tzinfo=VIETNAM), "minute")
    assert found.author == "Nguyên Minh"
