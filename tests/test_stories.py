"""Stories: reports of one event by several outlets join, other events and daily series do not,
and a story keeps its id as new reports arrive; in the transform and through real runs."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from conftest import rows
from flows.ingest import ingest
from transforms.dates import VIETNAM
from transforms.stories import StoryArticle, StorySettings, assign_stories

FIRE = [
    ("Báo Một", "Cháy lớn tại chợ Phùng Khoang, hàng trăm ki-ốt bị thiêu rụi",
     "Rạng sáng 28/5, một vụ cháy lớn bùng phát tại chợ Phùng Khoang (quận Nam Từ Liêm, Hà Nội), thiêu rụi"
     " hàng trăm ki-ốt của tiểu thương. Cảnh sát phòng cháy chữa cháy Hà Nội điều 15 xe chữa cháy đến hiện trường."),
    ("Báo Hai", "Hà Nội: Chợ Phùng Khoang bốc cháy dữ dội trong đêm",
     "Khoảng 2 giờ sáng 28/5, chợ Phùng Khoang ở quận Nam Từ Liêm, Hà Nội bốc cháy dữ dội. Hàng trăm ki-ốt"
     " bị thiêu rụi; 15 xe chữa cháy của Cảnh sát phòng cháy chữa cháy Hà Nội được điều tới dập lửa."),
    ("Báo Ba", "Tiểu thương chợ Phùng Khoang trắng tay sau vụ cháy",
     "Sau vụ cháy rạng sáng 28/5 tại chợ Phùng Khoang (Nam Từ Liêm, Hà Nội), nhiều tiểu thương mất trắng"
     " hàng hóa khi hàng trăm ki-ốt bị thiêu rụi, dù 15 xe chữa cháy đã có mặt."),
]
WEATHER = [
    ("Báo Một", "Thời tiết ngày 28/5: Bắc Bộ nắng nóng gay gắt",
     "Ngày 28/5, Bắc Bộ và Trung Bộ tiếp tục nắng nóng gay gắt, nhiệt độ cao nhất phổ biến 37 đến 39 độ."
     " Hà Nội nắng nóng, chiều tối có mưa rào và dông vài nơi."),
    ("Báo Một", "Thời tiết ngày 29/5: Bắc Bộ nắng nóng gay gắt",
     "Ngày 29/5, Bắc Bộ và Trung Bộ tiếp tục nắng nóng gay gắt, nhiệt độ cao nhất phổ biến 37 đến 40 độ."
     " Hà Nội nắng nóng, chiều tối có mưa rào và dông vài nơi."),
]
OTHER = ("Báo Hai", "Đội tuyển bóng đá nữ tập trung chuẩn bị vòng loại",
         "Đội tuyển bóng đá nữ quốc gia tập trung tại Trung tâm đào tạo bóng đá trẻ để chuẩn bị cho vòng loại"
         " giải châu Á, với 25 cầu thủ được triệu tập.")
START = datetime(2013, 5, 28, 2, 30, tzinfo=VIETNAM)


def story_articles(items, start=START, prefix="x") -> list[StoryArticle]:
    return [StoryArticle(f"{prefix}{index}", site, title, text, start + timedelta(hours=index * 5))
            for index, (site, title, text) in enumerate(items)]


def test_reports_of_one_event_join_other_events_and_a_daily_series_do_not():
    fire, weather, other = story_articles(FIRE), story_articles(WEATHER, prefix="w"), story_articles([OTHER], prefix="o")
    weather[1] = StoryArticle("w1", *WEATHER[1], START + timedelta(days=1))
    assignments, terms = assign_stories(fire + weather + other, [])
    story = {a.article_id: a.story_id for a in assignments}
    assert story["x0"] == story["x1"] == story["x2"] == "x0"  # the first report's id
    assert story["w0"] != story["w1"]  # the same title but for the date, another day: another event
    assert story["o0"] not in {story["x0"], story["w0"], story["w1"]}
    assert "phùng khoang" in terms["x0"]
    joined = {a.article_id: a.similarity for a in assignments}
    assert joined["x0"] is None and joined["x1"] >= StorySettings().threshold


def test_a_story_keeps_its_id_and_new_reports_join_it():
    first, _ = assign_stories(story_articles(FIRE[:2]), [])
    known = [StoryArticle(a.article_id, a.site, a.title, a.text, a.moment, story.story_id)
             for a, story in zip(story_articles(FIRE[:2]), first)]
    later = [StoryArticle("late", *FIRE[2], START + timedelta(days=1)),
             StoryArticle("far", *FIRE[2], START + timedelta(days=9))]  # past the window: a story of its own
    assignments, _ = assign_stories(later, known)
    assert {a.article_id: a.story_id for a in assignments} == {"late": "x0", "far": "far"}


def write_corpus(path, items, start=START) -> None:
    with path.open("w", encoding="utf-8") as out:
        for index, (site, title, text) in enumerate(items):
            out.write(json.dumps({"id": f"{path.stem}-{index}", "site": site, "title": title, "text": text,
                                  "published_at": (start + timedelta(hours=index * 5)).isoformat()},
                                 ensure_ascii=False) + "\n")


@pytest.mark.usefixtures("prefect_server")
def test_runs_give_every_article_a_story_and_the_view_summarises_them(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    write_corpus(tmp_path / "first.jsonl", FIRE[:2] + [OTHER])
    ingest(paths=[str(tmp_path / "first.jsonl")], db=str(db), workers=1)
    before = dict(rows(db, "SELECT title, story_id FROM articles"))
    assert None not in before.values() and before[FIRE[0][1]] == before[FIRE[1][1]] != before[OTHER[1]]
    write_corpus(tmp_path / "second.jsonl", FIRE[2:], start=START + timedelta(hours=12))
    ingest(paths=[str(tmp_path / "second.jsonl")], db=str(db), workers=1)
    after = dict(rows(db, "SELECT title, story_id FROM articles"))
    assert {title: after[title] for title in before} == before  # never renumbered
    assert after[FIRE[2][1]] == before[FIRE[0][1]]
    [(first_site, outlets, articles, span, terms)] = rows(
        db, "SELECT first_site, outlets, articles, span_hours, top_terms FROM stories WHERE articles > 1")
    assert (first_site, outlets, articles, span) == ("Báo Một", 3, 3, 12.0) and "phùng khoang" in terms
