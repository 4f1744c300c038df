"""Enrichment: document references and people with their posts, on the seeds, on targeted
cases (each pattern and each false positive it must not take) and on the hand-labelled
baomoi sample (tests/fixtures/enrich_labelled.jsonl, see bench/enrich_precision.py)."""
from __future__ import annotations

import gzip
import json
import unicodedata

import pytest

from conftest import FIXTURES, raw, seed_paths, shared_path
from transforms.enrich import (
    DocumentRef,
    PersonMention,
    RulesError,
    enrich,
    extract_document_refs,
    extract_people,
    load_enrich_rules,
)
from transforms.pipeline import transform_batch

LABELLED = FIXTURES / "enrich_labelled.jsonl"
RULES = load_enrich_rules()


def codes(text: str) -> list[str]:
    return [ref.code for ref in extract_document_refs(text, RULES)]


def people(text: str) -> dict[str, str | None]:
    return {person.name: person.position for person in extract_people(text, RULES)}


@pytest.fixture(scope="module")
def seeds():
    results = transform_batch([raw(path) for path in seed_paths()])
    return {result.article.source.rsplit("/", 1)[-1][:3]: enrich(result.article.title, result.article.text, RULES)
            for result in results}


# ---------------------------------------------------------------------------------------
# The seeds: what a careful reader finds


SEED_REFS = {
    "000": ["Nghị quyết Trung ương 4 khóa XI", "Nghị quyết Trung ương 4 khóa XII", "05-CT/TW", "205-QĐ/TW"],
    "001": ["Nghị quyết Đại hội XIII"],
    "002": ["35-CT/TW", "26-HD/BTCTW", "134-KH/TU", "05-HD/TU"],
    "003": ["205-QĐ/TW", "Chỉ thị 35", "Công văn 9723", "Hướng dẫn 26"],
    "004": ["Nghị quyết Trung ương 4 khóa XI", "Kết luận 64"],
}

POLITBURO_AND_ORGANISATION = "Ủy viên Bộ Chính trị, Bí thư Trung ương Đảng, Trưởng Ban Tổ chức Trung ương"
SEED_PEOPLE = {
    "000": {},
    "001": {
        "Trương Thị Mai": POLITBURO_AND_ORGANISATION,
        "Nguyễn Quang Dương": "Ủy viên Trung ương Đảng, Phó Trưởng Ban Tổ chức Trung ương",
    },
    "002": {
        "Ngô Chí Cường": "Ủy viên Ban Chấp hành Trung ương Đảng, Bí thư Tỉnh ủy",
        "Nguyễn Minh Tuấn": "Phó Vụ trưởng Vụ địa phương III, Ban Tổ chức Trung ương",
    },
    "003": {"Phạm Minh Chính": POLITBURO_AND_ORGANISATION},
    "004": {"Tô Huy Rứa": "Ủy viên Bộ Chính trị, Bí thư Trung ương Đảng, Trưởng ban Tổ chức Trung ương"},
}


@pytest.mark.parametrize("seed", sorted(SEED_REFS))
def test_seed_document_refs(seeds, seed):
    assert [ref.code for ref in seeds[seed].document_refs] == SEED_REFS[seed]


def test_seeds_000_and_003_cite_the_same_regulation_205(seeds):
    """000 writes 205-QĐ/TƯ, 003 writes 205-QĐ/TW: one document."""
    regulation = {
        seed: next(ref for ref in seeds[seed].document_refs if ref.code == "205-QĐ/TW") for seed in ("000", "003")}
    assert regulation["000"].mention == "Quy định số 205-QĐ/TƯ"
    assert regulation["003"].mention == "Quy định số 205-QĐ/TW"
    for ref in regulation.values():
        assert (ref.kind, ref.number, ref.issuer) == ("Quy định", "205", "TW")


def test_a_directive_cited_five_times_is_one_ref_at_its_first_mention(seeds):
    directive = seeds["002"].document_refs[0]
    assert directive.code == "35-CT/TW"
    assert directive.start < 200  # in the title, which enrich() reads first
    assert directive.mention == "Chỉ thị số 35-CT/TW"


@pytest.mark.parametrize("seed", sorted(SEED_PEOPLE))
def test_seed_people(seeds, seed):
    assert {person.name: person.position for person in seeds[seed].people} == SEED_PEOPLE[seed]


def test_seed_people_keep_their_honorific_and_mention(seeds):
    mai = next(person for person in seeds["001"].people if person.name == "Trương Thị Mai")
    assert mai.honorific == "Các đồng chí"
    assert mai.mention == (
        "Các đồng chí: Trương Thị Mai, Ủy viên Bộ Chính trị, Bí thư T.Ư Đảng, Trưởng Ban Tổ chức T.Ư")
    rua = seeds["004"].people[0]
    assert (rua.honorific, rua.mention.split(",")[0]) == ("Ông", "Ông Tô Huy Rứa")


# ---------------------------------------------------------------------------------------
# Document references, pattern by pattern


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Quy định số 205-QĐ/TƯ của Bộ Chính trị", "205-QĐ/TW"),
        ("Quy định 205-QĐ/T.Ư", "205-QĐ/TW"),
        ("Quy định số: 205-QĐ/TW", "205-QĐ/TW"),
        ("Quy định số 205–QĐ/TW", "205-QĐ/TW"),  # en dash
        ("Quy định số 205\u2011QĐ/TW", "205-QĐ/TW"),  # non-breaking hyphen
        ("Quy định số 205 - QĐ / TW", "205-QĐ/TW"),
        ("Chỉ thị số 20 CT/TW của Bộ Chính trị", "20-CT/TW"),  # a space for the dash
        ("Chỉ thị số 35-CT/TW.", "35-CT/TW"),
        ("Hướng dẫn số 26-HD/BTCTW", "26-HD/BTCTW"),
        ("Kế hoạch số 134-KH/TU ngày 10/7/2019", "134-KH/TU"),
        ("Chương trình hành động số 02-CTr/TU", "02-CTr/TU"),
        ("Quyết định số 09-QĐ/BNCT.Ư", "09-QĐ/BNCTW"),
        ("Nghị định 15/2020/NĐ-CP", "15/2020/NĐ-CP"),
        ("Nghị định số 88/2007/ NĐ-CP", "88/2007/NĐ-CP"),
        ("Quyết định số 1234/QĐ-TTg", "1234/QĐ-TTg"),
        ("theo quyết định số 1234/Qđ-TTG", "1234/QĐ-TTg"),  # one case for symbols
        ("Thông tư 01/2021/TT-BNV", "01/2021/TT-BNV"),
        ("Thông tư liên tịch số 50/2008/TTLT-BGDĐT-BNV-BTC", "50/2008/TTLT-BGDĐT-BNV-BTC"),
        ("Luật số 45/2013/QH13", "45/2013/QH13"),
        ("Công văn số 2998/ BGĐT/KTKĐCLGD", "2998/BGĐT/KTKĐCLGD"),
        ("khoản 4 Điều 10 của Pháp lệnh 20/2004/PL-UBTVQH11về việc", "20/2004/PL-UBTVQH11"),  # glued word
        ("QĐ số 05/2011/QĐ-UBND", "05/2011/QĐ-UBND"),
        ("Kết luận số 64 Hội nghị Trung ương 7", "Kết luận 64"),
        ("Nghị định 61 về nhà ở", "Nghị định 61"),
        ("Quyết định 1234 ngày 5/6/2013 của UBND", "Quyết định 1234"),
        ("theo nghị định 84 về xăng dầu", "Nghị định 84"),
        ("Thông tư 02/2013 quy định", "Thông tư 02/2013"),
        ("ông đã ký công văn số 886, ngày 6/3", "Công văn 886"),
        ("Công văn số1829 gửi Báo", "Công văn 1829"),
        ("Văn bản số 2016 ngày 26/3/2012", "Văn bản 2016"),  # a year-like number after "số" is a number
        ("không phù hợpNghị định 23 lại cho phép", "Nghị định 23"),  # paragraphs glued by the crawler
    ],
)
def test_document_codes(text, expected):
    assert codes(text) == [expected]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Nghị quyết Trung ương 4 (khóa XI) về xây dựng Đảng", ["Nghị quyết Trung ương 4 khóa XI"]),
        ("Nghị quyết T.Ư 4, khoá XI", ["Nghị quyết Trung ương 4 khóa XI"]),  # old-style tone on "khoá"
        ("Nghị quyết Hội nghị T.Ư 7 khóa VIII", ["Nghị quyết Trung ương 7 khóa VIII"]),
        ("Nghị quyết Trung ương 4 là nhân tố quan trọng", ["Nghị quyết Trung ương 4"]),
        ("Nghị quyết Trung ương 4 khóa XI, khóa XII về xây dựng Đảng",
         ["Nghị quyết Trung ương 4 khóa XI", "Nghị quyết Trung ương 4 khóa XII"]),
        ("Nghị quyết Đại hội lần thứ XI của Đảng", ["Nghị quyết Đại hội XI"]),
        ("Nghị quyết Đại hội Đảng toàn quốc lần thứ XI", ["Nghị quyết Đại hội XI"]),
        ("Nghị quyết Đại hội IX của Đảng Nhân dân Cách mạng Lào", []),
        ("Nghị quyết Đại hội cổ đông thường niên năm 2013", []),
        ("Nghị định số 15/2020/NĐ-CP, 16/2020/NĐ-CP và 17/2020/NĐ-CP",
         ["15/2020/NĐ-CP", "16/2020/NĐ-CP", "17/2020/NĐ-CP"]),
        ("Thông tư 63/2011/TT-BTC và Thông tư 105/2011/TT-BTC", ["63/2011/TT-BTC", "105/2011/TT-BTC"]),
    ],
)
def test_party_resolutions_and_lists(text, expected):
    assert codes(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Nhà số 5 đường Lê Lợi, số 12 ngõ 3",  # house numbers
        "Bộ Công Thương quyết định tăng giá xăng 500 đồng",  # "quyết định" as a verb
        "Ban Bí thư quyết định phân công, chỉ định",
        "các nghị quyết, quy định, hướng dẫn của Trung ương",  # kinds without a number
        "Kế hoạch 5 năm lần thứ 12 của Trung Quốc",  # a plan's length
        "vượt kế hoạch 3,58 tỷ kWh",  # an amount
        "Quy định 15% với doanh nghiệp lớn",  # a percentage
        "Quyết định 77 thủ tục hành chính",  # a count
        "các em được hướng dẫn 20 bài học",
        "Công ty Luật số 5 - quốc gia",  # a law firm, not a law
        "Luật sư Quản Văn Minh",
        "ngoài việc kỷ luật 3 cán bộ trên",
        "nâng cao hiệu quả của Luật 2008",  # a year names an edition
        "Pháp lệnh 2001 đã bộc lộ hạn chế",
        "Chương trình 135 giai đoạn II",  # a project
        "QĐ 493, CT1, TT02 và NQ 20",  # abbreviations without a symbol
        "quyết định 493 cũng chưa phản ánh",  # lower-case "quyết định" + bare number: too often a verb
        "gia hạn thông báo 30 ngày",
        "Giấy phép số 99/GP-BC",  # a site's licence in its footer
        "Quyết định ngày 12/5 của UBND",
    ],
)
def test_no_false_document_refs(text):
    assert codes(text) == []


def test_a_bare_number_takes_the_symbol_the_article_gives_it():
    text = "Thực hiện Chỉ thị 35 của Bộ Chính trị. Chỉ thị số 35-CT/TW ngày 30/5/2019 nêu rõ. Chỉ thị 35 yêu cầu"
    (ref,) = extract_document_refs(text, RULES)
    assert (ref.code, ref.mention, ref.start, ref.issuer) == ("35-CT/TW", "Chỉ thị 35", 10, "TW")


def test_a_short_mention_takes_the_fullest_code_of_its_year():
    text = ("Quyết định số 02/2010 ngày 18/01/2010 của UBND. Quyết định số 02 quy định. "
            "Thông tư 02/2013 và Thông tư số 02/2013/TT-NHNN; Thông tư 02/2012 cũ.")
    assert codes(text) == ["Quyết định 02/2010", "02/2013/TT-NHNN", "Thông tư 02/2012"]


def test_one_ref_per_code_at_its_first_mention():
    text = "Quy định số 205-QĐ/TƯ ... Quy định 205-QĐ/TW ... Quy định số 205-QĐ/T.Ư"
    (ref,) = extract_document_refs(text, RULES)
    assert (ref.code, ref.start, ref.mention) == ("205-QĐ/TW", 0, "Quy định số 205-QĐ/TƯ")


def test_ref_fields_and_offsets():
    text = "Căn cứ Nghị định số 15/2020/NĐ-CP và Quyết định 1234/QĐ-TTg; Kết luận số 64."
    refs = extract_document_refs(text, RULES)
    assert [(r.kind, r.number, r.issuer) for r in refs] == [
        ("Nghị định", "15", "CP"), ("Quyết định", "1234", "TTg"), ("Kết luận", "64", None)]
    for ref in refs:
        assert isinstance(ref, DocumentRef)
        assert text[ref.start:ref.start + len(ref.mention)] == ref.mention


def test_decomposed_input_is_read_as_nfc():
    text = unicodedata.normalize("NFD", "Quy định số 205-QĐ/TƯ")
    (ref,) = extract_document_refs(text, RULES)
    assert ref.code == "205-QĐ/TW" and unicodedata.is_normalized("NFC", ref.mention)


# ---------------------------------------------------------------------------------------
# People, pattern by pattern


@pytest.mark.parametrize(
    "text, name, position, honorific",
    [
        ("đồng chí Trương Thị Mai, Ủy viên Bộ Chính trị, Bí thư Trung ương Đảng, Trưởng Ban Tổ chức Trung ương"
         " phát biểu", "Trương Thị Mai", POLITBURO_AND_ORGANISATION, "đồng chí"),
        ("Ông Tô Huy Rứa, Ủy viên Bộ Chính trị, Bí thư T.Ư Đảng, Trưởng ban Tổ chức TƯ dự và chỉ đạo Hội nghị.",
         "Tô Huy Rứa", "Ủy viên Bộ Chính trị, Bí thư Trung ương Đảng, Trưởng ban Tổ chức Trung ương", "Ông"),
        ("Bộ trưởng Bộ Y tế Nguyễn Thanh Long cho biết", "Nguyễn Thanh Long", "Bộ trưởng Bộ Y tế", None),
        ("Sáng nay, Thủ tướng Phạm Minh Chính chủ trì", "Phạm Minh Chính", "Thủ tướng", None),
        ("bà Nguyễn Thị Kim Ngân, Chủ tịch Quốc hội, khẳng định", "Nguyễn Thị Kim Ngân", "Chủ tịch Quốc hội", "bà"),
        ("Phó Chủ tịch UBND tỉnh Quảng Nam Lê Phước Thanh nói", "Lê Phước Thanh", "Phó Chủ tịch UBND tỉnh Quảng Nam",
         None),
        ("Chủ tịch UBND TP Hà Nội Nguyễn Thế Thảo yêu cầu", "Nguyễn Thế Thảo", "Chủ tịch UBND TP Hà Nội", None),
        ("Trung tá Võ Văn Hồng, Phó Trưởng Công an thị xã Thuận An (Bình Dương), cho biết", "Võ Văn Hồng",
         "Phó Trưởng Công an thị xã Thuận An (Bình Dương)", "Trung tá"),
        ("Bộ trưởng Bộ Lao động, Thương binh và Xã hội Phạm Thị Hải Chuyền phát biểu", "Phạm Thị Hải Chuyền",
         "Bộ trưởng Bộ Lao động, Thương binh và Xã hội", None),
        ("Tại hội nghị, Ủy viên Bộ Chính trị, Bí thư Thành ủy Hà Nội Phạm Quang Nghị nhấn mạnh", "Phạm Quang Nghị",
         "Ủy viên Bộ Chính trị, Bí thư Thành ủy Hà Nội", None),
        ("TS Vũ Viết Ngoạn - Chủ tịch Ủy ban Giám sát Tài chính Quốc gia - nhận định", "Vũ Viết Ngoạn",
         "Chủ tịch Ủy ban Giám sát Tài chính Quốc gia", "TS"),
        ("theo PGS.TS Nguyễn Tiến Dũng, Trưởng khoa Nhi, Bệnh viện Bạch Mai, mỗi ngày", "Nguyễn Tiến Dũng",
         "Trưởng khoa Nhi, Bệnh viện Bạch Mai", "PGS.TS"),
        ("nguyên Phó Thủ tướng Nguyễn Mạnh Cầm bày tỏ", "Nguyễn Mạnh Cầm", "nguyên Phó Thủ tướng", None),
        ("ông Lê Hữu Lộc - Chủ tịch UBND tỉnh Bình Định - chia sẻ", "Lê Hữu Lộc", "Chủ tịch UBND tỉnh Bình Định",
         "ông"),
        ("anh Nguyễn Văn Trung, 21 tuổi, trú tại xóm 20", "Nguyễn Văn Trung", None, "anh"),
    ],
)
def test_person_with_position(text, name, position, honorific):
    found = [person for person in extract_people(text, RULES) if person.name == name]
    assert [(person.position, person.honorific) for person in found] == [(position, honorific)]


def test_names_with_old_style_tones_and_positions_are_spelled_one_way():
    assert people("Ông Lê Văn Hoà, Uỷ viên Ban Thường vụ Tỉnh uỷ, cho biết") == {
        "Lê Văn Hòa": "Ủy viên Ban Thường vụ Tỉnh ủy"}


def test_a_list_of_comrades_gives_each_their_posts():
    text = ("Các đồng chí: Trương Thị Mai, Ủy viên Bộ Chính trị, Bí thư T.Ư Đảng, Trưởng Ban Tổ chức T.Ư; "
            "Nguyễn Quang Dương, Ủy viên T.Ư Đảng, Phó Trưởng Ban Tổ chức T.Ư, chủ trì Hội nghị.")
    assert people(text) == SEED_PEOPLE["001"]


def test_a_post_before_a_name_belongs_to_the_nearest_person():
    text = "Thủ tướng Nguyễn Tấn Dũng và Thủ tướng Singapore Lý Hiển Long cùng chứng kiến"
    assert people(text) == {"Nguyễn Tấn Dũng": "Thủ tướng", "Lý Hiển Long": "Thủ tướng Singapore"}


@pytest.mark.parametrize(
    "text, position",
    [  # stop words that are also parts of names of bodies
        ("ông Trương Đăng Tuyến, Phó Trưởng ban thường trực Ban chỉ đạo Festival Biển, cho biết",
         "Phó Trưởng ban thường trực Ban chỉ đạo Festival Biển"),
        ("ông Hoàng Mạnh Bình, Chủ tịch Hiệp hội Doanh nghiệp nhỏ và vừa tỉnh Bình Phước, nói",
         "Chủ tịch Hiệp hội Doanh nghiệp nhỏ và vừa tỉnh Bình Phước"),
        ("ông Vũ Hải, Phó Tổng Giám đốc Đài tiếng nói Việt Nam, phát biểu",
         "Phó Tổng Giám đốc Đài tiếng nói Việt Nam"),
        ("ông Nguyễn Văn Hà, Vụ trưởng Vụ Công nghệ thông tin cho biết", "Vụ trưởng Vụ Công nghệ thông tin"),
        ("ông Hà Anh, Phó tổng thư ký Hội, cho biết", "Phó tổng thư ký Hội"),
    ],
)
def test_stop_words_inside_names_of_bodies(text, position):
    assert list(people(text).values()) == [position]


def test_an_appositive_stops_at_the_next_person():
    text = "Bí thư chi bộ Vũ Xuân Thắng, Trưởng thôn Vũ Quốc Trọng cùng dân làng"
    assert people(text) == {"Vũ Xuân Thắng": "Bí thư chi bộ", "Vũ Quốc Trọng": "Trưởng thôn"}


@pytest.mark.parametrize(
    "text",
    [
        "Ông Bình cho biết",  # one syllable: too ambiguous
        "tỉnh Bà Rịa - Vũng Tàu",
        "đường Nguyễn Văn Cừ, quận Long Biên",  # a street
        "học sinh trường THPT Lê Quý Đôn",  # a school
        "Giải thưởng Hồ Chí Minh, TP Hồ Chí Minh",
        "Chủ tịch UBND TP Hồ Chí Minh vừa ký",  # the city after a post is not a person
        "tư tưởng, đạo đức, phong cách Hồ Chí Minh",
        "Tổng giám đốc Công ty Địa ốc Lê Thành cũng bày tỏ",  # a firm named after someone
        "Ngoại trưởng Hàn Quốc Yun Byung Se hối thúc",  # a foreign name
        "ông Kim Jong-un",
        "chương trình phát thanh Kim Bum Soo làm chủ xị",  # "anh" inside "thanh"
        "nhưng trông Lý Văn Sinh khá phong độ",  # "ông" inside "trông"
        "em Lý Nhạc H. (17 tuổi)",  # an initial hides the name
        "Nguyễn Văn A và Trần Thị B",  # no honorific, no post
        "Hà Nội, Thái Bình và Cao Bằng",
    ],
)
def test_no_false_people(text):
    assert people(text) == {}


def test_a_name_mentioned_bare_and_with_its_post_is_kept_once():
    text = "Ông Tô Huy Rứa, Ủy viên Bộ Chính trị, phát biểu. Ông Tô Huy Rứa nhấn mạnh"
    (person,) = extract_people(text, RULES)
    assert (person.name, person.position, person.start) == ("Tô Huy Rứa", "Ủy viên Bộ Chính trị", 0)


def test_person_offsets_point_at_the_mention():
    text = "Hôm qua, Bộ trưởng Bộ Tài chính Đinh Tiến Dũng cho biết; bà Nguyễn Thị Doan, Phó Chủ tịch nước, dự."
    found = extract_people(text, RULES)
    assert [person.mention for person in found] == [
        "Bộ trưởng Bộ Tài chính Đinh Tiến Dũng", "bà Nguyễn Thị Doan, Phó Chủ tịch nước"]
    for person in found:
        assert isinstance(person, PersonMention)
        assert text[person.start:person.start + len(person.mention)] == person.mention


# ---------------------------------------------------------------------------------------
# enrich() and the rules file


def test_enrich_reads_the_title_then_the_text():
    result = enrich("Thực hiện Chỉ thị số 35-CT/TW", "Ông Tô Huy Rứa, Ủy viên Bộ Chính trị, dự.", RULES)
    assert [ref.code for ref in result.document_refs] == ["35-CT/TW"]
    (person,) = result.people
    whole = "Thực hiện Chỉ thị số 35-CT/TW\nÔng Tô Huy Rứa, Ủy viên Bộ Chính trị, dự."
    assert whole[person.start:person.start + len(person.mention)] == person.mention
    assert isinstance(result.document_refs, tuple) and isinstance(result.people, tuple)


def test_a_broken_rules_file_names_itself(tmp_path):
    broken = tmp_path / "enrich.toml"
    broken.write_text('version = "x"\n[refs]\nnumber_lead = "("\n', encoding="utf-8")
    with pytest.raises(RulesError, match="enrich.toml"):
        load_enrich_rules(broken)


def test_the_rules_file_loads():
    rules = load_enrich_rules()
    assert rules.version
    assert {kind.label for kind in rules.kinds.values()} >= {
        "Quy định", "Chỉ thị", "Nghị quyết", "Kết luận", "Hướng dẫn", "Kế hoạch", "Nghị định", "Thông tư",
        "Quyết định", "Luật"}


# ---------------------------------------------------------------------------------------
# The hand-labelled baomoi sample


def labelled_rows() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_labelled_sample_is_well_formed():
    rows = labelled_rows()
    for kind in ("ref", "person"):
        assert sum(1 for row in rows if row["kind"] == kind) >= 100
    for row in rows:
        assert isinstance(row["label"], bool) and row["article"].startswith("baomoi-") and row["mention"]
        assert ("code" in row) if row["kind"] == "ref" else ({"name", "position"} <= row.keys())


def test_every_item_labelled_correct_is_still_extracted():
    """A regression fails here: each extraction judged correct by hand comes out the same."""
    corpus = shared_path("corpora", "baomoi", "baomoi_21448.jsonl.gz")
    rows = [row for row in labelled_rows() if row["label"]]
    wanted = {row["article"] for row in rows}
    articles = {}
    with gzip.open(corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["id"] in wanted:
                articles[record["id"]] = enrich(record["title"], record["text"], RULES)
    missing = []
    for row in rows:
        found = articles[row["article"]]
        if row["kind"] == "ref":
            extracted = {(ref.mention, ref.code) for ref in found.document_refs}
            key = (row["mention"], row["code"])
        else:
            extracted = {(person.mention, person.name, person.position) for person in found.people}
            key = (row["mention"], row["name"], row["position"])
        if key not in extracted:
            missing.append((row["article"], *key))
    assert missing == []
