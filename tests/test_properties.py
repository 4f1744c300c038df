"""Properties of the pure stages on arbitrary input (hypothesis): they never raise, cleaning and
normalising twice changes nothing, and dedup does not depend on the order of its input."""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from transforms.clean import clean_lines, load_cleaning_rules
from transforms.dates import VIETNAM, infer_from_lead, parse_dateline
from transforms.dedup import Member, build_clusters, choose_canonical
from transforms.fingerprint import content_hash, fingerprints
from transforms.models import REJECT_STAGES, HttpFacts, RawDocument, Reject
from transforms.normalise import clean_whitespace, exact_key, fold_syllable, matching_words
from transforms.pipeline import transform_batch

RULES = load_cleaning_rules()
QUICK = settings(max_examples=300, deadline=None)
SLOW = settings(max_examples=80, deadline=None)  # trafilatura and MinHash in every example
ONE_MB_LINE = ("Sáng 12/3, Hà Nội tổ chức hội nghị tổng kết công tác năm 2025 với sự tham gia của "
               "nhiều đại biểu. " * 12_000)[:1_000_000]
assert len(ONE_MB_LINE) == 1_000_000

# What breaks text code: invisible characters, combining tone marks (NFD Vietnamese),
# right-to-left text and overrides, C0/C1 controls, odd line and space separators.
TRICKY = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u0300", "\u0301", "\u0303", "\u0309",
          "\u0323", "\u0302", "\u031b", "\u202e", "\u202b", "\u200f", "שלום", "مرحبا", "\x00", "\x07", "\x1b",
          "\x85", "\u2028", "\u2029", "\u00a0", "\u3000", "\t", "\r", "\n", "ă", "â", "đ", "Đ", "ơ", "ư", "Ư",
          "\u2000", "\u2001", "ǰ", "İ", "ẞ", "ﬁ", "⭐", "①", "(", ")", ".", "…", ":", "/", "-", "1", "2024",
          "\u200b\u0301", "\u00ad\u0309")  # a tone mark cut off from its letter by an invisible character
# Lines the rule table and the structural signals act on, so cleaning does more than pass text through.
FURNITURE = ("Tin liên quan", "Ảnh: Minh Anh", "Chia sẻ", "Bình luận", "Theo VnExpress", "Minh Anh",
             "Thứ Ba, 03/12/2019, 03:41:31", "Lượt xem: 1.234", "Xem thêm", "[MEDIA]", "⭐⭐ Khuyến mãi ⭐⭐",
             "Hà Nội hôm nay trời nắng, người dân đổ ra đường rất đông vào buổi chiều.",
             "Chiều 28/6, Quốc hội biểu quyết thông qua luật mới năm 2021.")
VIETNAMESE = ("người dân thành phố kinh tế giáo dục giao thông nông nghiệp doanh nghiệp ngân hàng thị trường "
              "giá xăng dầu học sinh bệnh viện công an quốc hội chính phủ dự án cây cầu sân bay mùa mưa bão "
              "tăng giảm phát triển đầu tư xây dựng kiểm tra quy định kế hoạch kết quả hà nội đà nẵng huế").split()

pieces = st.one_of(st.text(max_size=20), st.sampled_from(TRICKY), st.sampled_from(VIETNAMESE))
tricky_text = st.lists(pieces, max_size=30).map("".join)
nfd_text = tricky_text.map(lambda text: unicodedata.normalize("NFD", text))
any_text = st.one_of(st.text(), tricky_text, nfd_text)
lines = st.lists(st.one_of(any_text, st.sampled_from(FURNITURE)), max_size=15)


def clean(raw_lines: list[str], title: str | None = None) -> list[str]:
    return clean_lines(raw_lines, RULES, title=title).paragraphs


# -- the cleaner ----------------------------------------------------------------------


@QUICK
@given(raw_lines=lines, title=st.one_of(st.none(), any_text, st.sampled_from(FURNITURE)))
@example(raw_lines=[ONE_MB_LINE], title=None)
@example(raw_lines=["e\u200b\u0301 tiếp theo"], title=None)  # an invisible character between a letter and its tone
def test_cleaning_twice_changes_nothing(raw_lines, title):
    once = clean(raw_lines, title)
    assert clean(once, title) == once


@QUICK
@given(raw_lines=lines)
def test_cleaned_paragraphs_are_nfc_trimmed_and_not_empty(raw_lines):
    for paragraph in clean(raw_lines):
        assert paragraph and paragraph == paragraph.strip() and unicodedata.is_normalized("NFC", paragraph)


# -- dates ----------------------------------------------------------------------------

# Numbers in and out of range: day 31 of February, hour 25, year 0.
numbers = st.integers(min_value=0, max_value=9999).map(str)
datelines = st.builds(lambda prefix, d, m, y, h, mi, sep: f"{prefix}{d}{sep}{m}{sep}{y} {h}:{mi}",
                      st.sampled_from(["", "Thứ Ba, ", "Cập nhật: ", "ngày "]),
                      numbers, numbers, numbers, numbers, numbers, st.sampled_from(["/", "-", "."]))
leads = st.builds(lambda prefix, d, m, y: f"{prefix}{d}/{m}, hội nghị tổng kết năm {y} đã diễn ra.",
                  st.sampled_from(["", "Chiều ", "(TTXVN) - Sáng ", "Ngày "]), numbers, numbers, numbers)


@QUICK
@given(line=st.one_of(any_text, datelines, leads))
@example(line=ONE_MB_LINE)
@example(line="31/02/2024 25:61")
@example(line="Chiều 31/2, hội nghị tổng kết năm 2021 đã diễn ra.")
def test_date_parsers_never_raise_and_give_vietnam_time(line):
    for parsed in (parse_dateline(line), infer_from_lead(line)):
        if parsed is not None:
            moment, precision = parsed
            assert moment.utcoffset() == VIETNAM.utcoffset(None)
            assert precision in ("second", "minute", "day", "day_inferred_year")


# -- normalisation --------------------------------------------------------------------


@QUICK
@given(text=any_text)
@example(text=ONE_MB_LINE)
def test_normalising_twice_changes_nothing(text):
    assert clean_whitespace(clean_whitespace(text)) == clean_whitespace(text)
    for word in matching_words(text):
        assert fold_syllable(fold_syllable(word)) == fold_syllable(word)


@QUICK
@given(text=any_text)
@example(text="ß\u0301")
def test_exact_key_twice_changes_nothing(text):
    assert exact_key(exact_key(text)) == exact_key(text)


@QUICK
@given(text=any_text, words=st.lists(st.sampled_from(VIETNAMESE)))
def test_exact_hash_ignores_unicode_form_spacing_and_case(text, words):
    assert content_hash(unicodedata.normalize("NFD", text).replace(" ", "\u00a0 \n")) == content_hash(text)
    vietnamese = " ".join(words)
    assert content_hash(vietnamese.upper()) == content_hash(vietnamese)


# -- dedup ----------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
STORY_WORDS = st.lists(st.sampled_from(VIETNAMESE), min_size=40, max_size=80)


@st.composite
def member_specs(draw):
    """3-8 articles: a few stories, each copied exactly, with a word changed, or rewritten."""
    stories = draw(st.lists(STORY_WORDS, min_size=1, max_size=3))
    specs = []
    for number in range(draw(st.integers(3, 8))):
        words = list(draw(st.sampled_from(stories)))
        edit = draw(st.sampled_from(["exact", "case", "one_word", "tail_cut", "other"]))
        if edit == "case":
            words = [word.upper() for word in words]
        elif edit == "one_word":
            words[draw(st.integers(0, len(words) - 1))] = draw(st.sampled_from(VIETNAMESE))
        elif edit == "tail_cut":
            words = words[: max(4, len(words) * 3 // 4)]
        elif edit == "other":
            words = draw(STORY_WORDS)
        site = draw(st.sampled_from(["nhandan.vn", "vnexpress.net", "baomoi.com"]))
        specs.append(dict(
            member_id=f"m{number}", source=f"https://{site}/bai-{number}", text=" ".join(words) + ".", site=site,
            url=f"https://{site}/bai-{number}", original_source=draw(st.sampled_from([None, "Nhân Dân", "VnExpress"])),
            published_at=draw(st.sampled_from([None, T0, T0 + timedelta(hours=1)])),
            first_seen_at=T0 + timedelta(minutes=draw(st.integers(0, 2))),
        ))
    return specs


def members_of(specs: list[dict]) -> list[Member]:
    prints = fingerprints([spec["text"] for spec in specs])
    return [Member(member_id=spec["member_id"], source=spec["source"], content_hash=print_.content_hash,
                   band_keys=print_.band_keys, first_seen_at=spec["first_seen_at"], published_at=spec["published_at"],
                   site=spec["site"], url=spec["url"], original_source=spec["original_source"], is_new=True,
                   text_of=lambda text=spec["text"]: text, shingle_hashes=print_.shingles)
            for spec, print_ in zip(specs, prints)]


def clusters_of(specs: list[dict]) -> set[tuple]:
    return {(cluster.canonical.member_id, tuple(member.member_id for member in cluster.members),
             tuple(sorted((key, verdict.method, verdict.similarity) for key, verdict in cluster.verdicts.items())))
            for cluster in build_clusters(members_of(specs))}


@SLOW
@given(data=st.data(), specs=member_specs())
def test_dedup_gives_the_same_clusters_and_canonicals_in_any_order(data, specs):
    shuffled = data.draw(st.permutations(specs))
    assert clusters_of(shuffled) == clusters_of(specs)
    group = members_of(specs)
    assert choose_canonical(data.draw(st.permutations(group))) is choose_canonical(group)


# -- the whole transform ----------------------------------------------------------------

documents = st.builds(
    lambda content, suffix, charset: RawDocument(
        source=f"https://bao.example/bai{suffix}", content=content, received_at=T0,
        http=HttpFacts(f"https://bao.example/bai{suffix}", 200, "text/html", charset, None, None)
        if charset != "no http" else None),
    content=st.one_of(
        st.binary(max_size=4096),
        st.builds(lambda text, encoding: f"<html><body><h1>{text}</h1><p>{text}</p>".encode(encoding, "replace"),
                  any_text, st.sampled_from(["utf-8", "utf-16", "cp1258", "latin-1"])),
    ),
    suffix=st.sampled_from([".html", ""]),
    charset=st.sampled_from(["no http", None, "utf-8", "cp1258", "utf-16", "no-such-codec"]),
)


PAGE = ("<html><head><title>Hà Nội khánh thành cầu mới</title></head><body><h1>Hà Nội khánh thành cầu mới</h1>"
        "<p>Sáng nay, thành phố Hà Nội khánh thành cây cầu mới bắc qua sông Hồng sau ba năm xây dựng.</p>"
        "<p>Công trình giúp giảm ùn tắc giao thông cho các quận phía bắc thành phố.</p></body></html>").encode()


@SLOW
@given(batch=st.lists(documents, max_size=4))
@example(batch=[RawDocument("dump.txt", ONE_MB_LINE.encode(), T0)])
@example(batch=[RawDocument("https://bao.example/cau.html", PAGE, T0),
                RawDocument("https://bao.example/anh.html", b"\x89PNG\r\n\x1a\n<\x00\xff", T0)])
def test_any_bytes_give_exactly_one_article_or_reject_each(batch):
    results = transform_batch(batch)
    assert [result.document for result in results] == batch
    for result in results:
        assert (result.article is None) != (result.reject is None)
        assert result.reject is None or (result.reject.stage in REJECT_STAGES and result.reject.reason)
        assert result.article is None or (result.fingerprint is not None and result.article.text)


def test_json_records_with_odd_field_types_never_fail_the_batch():
    text = "Hội nghị tổng kết công tác năm với sự tham dự của đại biểu các tỉnh thành trong cả nước."
    records = [{"title": "Một", "text": text, "url": 123, "site": ["a"], "language": 5},
               {"title": "Hai", "text": text + " Hai.", "published_at": 20240101},
               {"title": ["không"], "text": text}]
    documents = [RawDocument(f"odd.jsonl#{n}", b"{}", datetime.now(timezone.utc), record=record)
                 for n, record in enumerate(records)]
    results = transform_batch(documents)
    assert [result.article is not None for result in results] == [True, True, False]
    assert results[0].article.url is None and results[0].article.site is None and results[0].article.language is None
    assert results[2].reject.stage == "parse"


def test_a_reject_stage_is_one_of_the_known_stages():
    assert Reject("a.txt", "clean", "no article text").stage == "clean"
    with pytest.raises(ValueError, match="unknown reject stage 'load'"):
        Reject("a.txt", "load", "a stage nothing records")
