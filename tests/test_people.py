"""People apart by their posts: namesakes with unrelated posts are two people; spelling and
abbreviation variants of one post are one."""
from __future__ import annotations

import pytest

from transforms.enrich import extract_people, load_enrich_rules
from transforms.people import group_positions

RULES = load_enrich_rules()


def people_of(positions: dict) -> list[set]:
    grouped = group_positions(positions, RULES.position_before)
    people: dict[int, set] = {}
    for position, number in grouped.items():
        people.setdefault(number, set()).add(position)
    return [people[number] for number in sorted(people)]


def test_namesakes_with_unrelated_posts_stay_apart_and_variants_of_one_post_join():
    found = people_of({
        "Thống đốc": 14, "Thống đốc NHNN": 8, None: 7, "Thống đốc Ngân hàng Nhà nước Việt Nam": 3,
        "Thống đốc ngân hàng nhà nước Việt Nam": 1, "Chủ tịch UBND xã Bạch Đích": 1,
        "Chủ tịch CĐ Xây dựng VN": 1, "Đại biểu Quốc hội thành phố Hải Phòng": 1, "Đại biểu": 1,
    })
    assert found[0] == {"Thống đốc", "Thống đốc NHNN", None, "Thống đốc Ngân hàng Nhà nước Việt Nam",
                        "Thống đốc ngân hàng nhà nước Việt Nam"}  # initials, case and the bare post: one governor
    assert {"Chủ tịch UBND xã Bạch Đích"} in found and {"Chủ tịch CĐ Xây dựng VN"} in found  # two chairmen, two people
    assert {"Đại biểu Quốc hội thành phố Hải Phòng", "Đại biểu"} in found
    assert len(found) == 4


def test_a_post_history_of_several_items_is_one_person():
    found = people_of({"Ủy viên Bộ Chính trị, Bộ trưởng Bộ Công an": 11, "Bộ trưởng": 10, "Bộ trưởng Bộ Công an": 4,
                       "Bộ trưởng Công an": 2, "Bộ trưởng Bộ Y tế": 3})
    assert found[0] == {"Ủy viên Bộ Chính trị, Bộ trưởng Bộ Công an", "Bộ trưởng", "Bộ trưởng Bộ Công an",
                        "Bộ trưởng Công an"}
    assert found[1] == {"Bộ trưởng Bộ Y tế"}


def test_a_name_with_only_bare_posts_is_one_person():
    assert people_of({None: 3, "Phó Chủ tịch": 2}) == [{None, "Phó Chủ tịch"}]


@pytest.mark.parametrize("text, position", [
    ("Ông Phạm Minh Chính, Bí thư Tỉnh ủy tỉnh Quảng Ninh cho biết tỉnh sẽ làm.", "Bí thư Tỉnh ủy Quảng Ninh"),
    ("Ông Phạm Minh Chính, Bí thư Tỉnh ủy Thái Bình đi kiểm tra đê.", "Bí thư Tỉnh ủy Thái Bình"),
    ("Ông Nguyễn Xuân Phúc, Chủ tịch Ủy ban An toàn Giao thông Quốc gia giao UBND thành phố Hà Nội làm.",
     "Chủ tịch Ủy ban An toàn Giao thông Quốc gia"),
    ("Ông Trần Văn Hùng, Phó chủ tịch UB ATGT Quốc gia cho VietNamNet biết sẽ xử lý.", "Phó chủ tịch UB ATGT Quốc gia"),
    ("Ông Phạm Bình Minh, Bộ trưởng Bộ Ngoại giao, cho biết.", "Bộ trưởng Bộ Ngoại giao"),  # a body's own 'giao'
    ("Bà Nguyễn Thị Hà, Tổng Thư ký Hội Luật gia, nói.", "Tổng Thư ký Hội Luật gia"),  # and 'ký'
])
def test_a_position_ends_where_the_sentence_goes_on(text, position):
    assert [person.position for person in extract_people(text, RULES)] == [position]


def test_the_warehouse_tells_namesakes_apart_and_counts_people_per_story(tmp_path):
    from datetime import datetime, timezone

    from conftest import rows
    from transforms.models import RawDocument
    from transforms.pipeline import transform_batch
    from warehouse.connection import opened
    from warehouse.loader import load_batch
    from warehouse.people import refresh_people
    from warehouse.report import headline_report

    def page(title: str, sentence: str) -> bytes:
        body = "".join(f"<p>{sentence} Đoạn {n} của bài «{title}» nói thêm về sự việc, với đủ chữ để là một đoạn văn.</p>"
                       for n in range(4))
        return (f'<html lang="vi"><head><meta charset="utf-8"><title>{title}</title></head>'
                f"<body><article><h1>{title}</h1>{body}</article></body></html>").encode()

    governor = "Ông Nguyễn Văn Bình, Thống đốc Ngân hàng Nhà nước, cho biết lãi suất sẽ giảm."
    chairman = "Ông Nguyễn Văn Bình, Chủ tịch UBND xã Bạch Đích, cho biết đường đã thông."
    def raw(url: str, content: bytes) -> RawDocument:
        return RawDocument(url, content, datetime.now(timezone.utc))

    documents = [raw("https://a.vn/1.html", page("Lãi suất sẽ giảm trong quý tới", governor)),
                 raw("https://b.vn/2.html", page("Điều hành tiền tệ linh hoạt trong nửa cuối năm, giữ ổn định tỷ giá",
                                                  "Ông Nguyễn Văn Bình, Thống đốc NHNN, nhấn mạnh tỷ giá sẽ ổn định.")),
                 raw("https://c.vn/3.html", page("Xã Bạch Đích thông đường mới", chairman))]
    db = tmp_path / "people.duckdb"
    with opened(str(db)) as con:
        load_batch(con, "run-1", transform_batch(documents))
        assert refresh_people(con) == 1 and refresh_people(con) == 0  # only names with new mentions
        con.execute("UPDATE articles SET story_id = (SELECT article_id FROM articles WHERE source = 'https://a.vn/1.html')"
                    " WHERE source IN ('https://a.vn/1.html', 'https://b.vn/2.html')")  # the governor's two reports: one story
        people = dict(con.execute("SELECT source, person FROM people JOIN articles USING (article_id)").fetchall())
        top = next(s for s in headline_report(con).sections if s.title.startswith("Top 10 people"))
    assert people["https://a.vn/1.html"] == people["https://b.vn/2.html"] != people["https://c.vn/3.html"]
    assert people["https://c.vn/3.html"] == "Nguyễn Văn Bình (Chủ tịch UBND xã Bạch Đích)"
    counts = {row[0]: row[1:3] for row in top.rows}
    assert counts[people["https://a.vn/1.html"]] == (1, 2)  # one story, two articles
    assert rows(db, "SELECT count(DISTINCT person) FROM people_positions") == [(2,)]
