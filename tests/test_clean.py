"""Boilerplate rules on sites other than the seeds', and the rule file's own contract."""
from __future__ import annotations

from datetime import datetime

import pytest

from conftest import FIXTURES, raw
from transforms.clean import RulesError, clean_lines, load_cleaning_rules, site_template_lines
from transforms.dates import VIETNAM
from transforms.pipeline import transform_batch

RULES = load_cleaning_rules()
PARAGRAPH = "Đây là một đoạn văn đầy đủ của bài báo, có chủ ngữ, vị ngữ và kết thúc bằng dấu chấm như mọi câu văn khác."


def article_of(path):
    [result] = transform_batch([raw(path)])
    assert result.reject is None, result.reject
    return result.article


def test_tuoitre_style_page_furniture_is_removed():
    article = article_of(FIXTURES / "tuoitre_style.txt")
    assert article.title == "Hà Nội khởi công cầu Tứ Liên"
    assert article.site == "Tuoitre.vn"
    assert article.author == "Minh Quang"
    assert article.published_at == datetime(2023, 10, 10, 8, 15, tzinfo=VIETNAM)
    assert [p.split(",")[0] for p in article.paragraphs] == [
        "Sáng 10-10", "Theo thiết kế", "Phát biểu tại lễ khởi công", "Công trình được kỳ vọng giảm tải cho cầu Nhật Tân và cầu Long Biên",
    ]
    for furniture in ("Trang chủ", "Chia sẻ", "Facebook", "[MEDIA", "Phối cảnh", "Xem thêm", "Từ khóa", "In bài",
                      "Tin liên quan", "Cầu Trần Hưng Đạo", "Vành đai 4", "Ý kiến", "Bản quyền", "Minh Quang"):
        assert furniture not in article.text


def test_vov_style_page_byline_source_and_caption():
    article = article_of(FIXTURES / "vov_style.txt")
    assert article.title == "Mưa lớn gây ngập nhiều tuyến phố ở TP.HCM"
    assert article.site == "vov.vn"
    assert article.author == "Hoàng Anh"
    assert article.original_source == "VOV"
    assert article.published_at is None  # "Chiều tối 12/8" names no year
    assert article.paragraphs[0].startswith("VOV.VN - Chiều tối 12/8, mưa lớn")  # the lead as printed, its tag too
    assert len(article.paragraphs) == 4
    for furniture in ("(Ảnh: Hoàng Anh)", "Nước ngập trên đường", "Bài, ảnh", "Theo VOV", "Bình luận",
                      "Lưu tin", "Tin cùng chuyên mục", "Cảnh báo triều cường", "Copyright"):
        assert furniture not in article.text


@pytest.mark.parametrize(
    "line",
    [
        "Bình luận (12)", "Chia sẻ | Facebook | Zalo", "Từ khóa: bão số 3, miền Bắc", "Trang chủ » Kinh tế » Tài chính",
        "© 2024 Báo Điện tử Dân Trí. All rights reserved.", "Xem thêm: Giá vàng hôm nay tăng mạnh", "0:00 / 3:12",
        "1.024 lượt xem", "./.", "Copy link", "Nghe bài viết", "Ảnh minh họa",
    ],
)
def test_furniture_lines_from_other_sites_are_dropped(line):
    body = clean_lines([PARAGRAPH, line, PARAGRAPH.replace("đầy đủ", "thứ hai")], RULES)
    assert line not in body.paragraphs
    assert len(body.paragraphs) == 2


def test_related_list_takes_only_headline_lines_after_its_heading():
    lines = [PARAGRAPH, "Đọc thêm", "Giá xăng giảm lần thứ ba liên tiếp", "Ngân hàng Nhà nước điều chỉnh lãi suất", PARAGRAPH + " Hết."]
    body = clean_lines(lines, RULES)
    assert body.paragraphs == [PARAGRAPH, PARAGRAPH + " Hết."]


def test_comment_form_cuts_the_rest_only_near_the_end():
    late = clean_lines([PARAGRAPH, PARAGRAPH + " Hai.", "Trả lời", "Tên của bạn", "Gửi"], RULES)
    assert late.paragraphs == [PARAGRAPH, PARAGRAPH + " Hai."]
    early = clean_lines(["Trả lời", PARAGRAPH, PARAGRAPH + " Hai.", PARAGRAPH + " Ba."], RULES)
    assert len(early.paragraphs) == 3  # a form prompt at the top must not cut the article


def test_repeated_caption_removed_but_repeated_long_paragraph_kept():
    caption = "Toàn cảnh phiên họp sáng nay"
    body = clean_lines([PARAGRAPH, caption, caption, PARAGRAPH + " Hai."], RULES)
    assert caption not in body.paragraphs
    long_quote = PARAGRAPH * 3
    body = clean_lines([long_quote, PARAGRAPH, long_quote], RULES)
    assert body.paragraphs.count(long_quote) == 2


def test_subheading_inside_the_body_is_kept():
    body = clean_lines([PARAGRAPH, "Nhiều kết quả nổi bật", PARAGRAPH + " Hai."], RULES)
    assert "Nhiều kết quả nổi bật" in body.paragraphs


def test_lines_repeated_across_a_sites_documents_are_template():
    footer = "Báo Ví Dụ - Cơ quan của Hội Nhà báo"
    docs = [("vidu.vn", [f"{PARAGRAPH} {n}", footer]) for n in range(4)] + [("khac.vn", [PARAGRAPH, footer])]
    templates = site_template_lines(docs, RULES)
    assert footer in templates["vidu.vn"]
    assert footer not in templates["khac.vn"]  # one document is no evidence
    body = clean_lines([PARAGRAPH, footer, PARAGRAPH + " Hai."], RULES, template_lines=templates["vidu.vn"])
    assert footer not in body.paragraphs


def test_malformed_rule_file_names_the_file_and_entry(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text(
        (RULES_TEXT := (FIXTURES.parent.parent / "transforms" / "rules" / "boilerplate.toml").read_text(encoding="utf-8"))
        + '\n[[line]]\nkind = "oops"\npattern = "x"\naction = "explode"\n',
        encoding="utf-8",
    )
    with pytest.raises(RulesError, match=r"rules.toml.*oops.*explode"):
        load_cleaning_rules(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text(RULES_TEXT.replace("version =", "version = = "), encoding="utf-8")
    with pytest.raises(RulesError, match="broken.toml"):
        load_cleaning_rules(broken)
