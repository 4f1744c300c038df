"""Exact and near-duplicate detection on copies of real articles."""
from __future__ import annotations

import unicodedata

import pytest

from conftest import raw, seed_paths
from transforms.dedup import DedupIndex, is_near_duplicate, similarity
from transforms.fingerprint import content_hash, fingerprint, shingles
from transforms.normalise import fold_syllable, matching_tokens
from transforms.pipeline import transform_batch


@pytest.fixture(scope="module")
def seeds():
    return [result.article for result in transform_batch([raw(path) for path in seed_paths()])]


@pytest.mark.parametrize("old, new", [("hoà", "hòa"), ("thuý", "thúy"), ("uỷ", "ủy"), ("khoẻ", "khỏe"), ("Quỳnh", "quỳnh")])
def test_old_and_new_tone_placement_fold_together(old, new):
    assert fold_syllable(old.lower()) == fold_syllable(new.lower())


def test_matching_tokens_ignore_form_not_content():
    text = "Ủy ban nhân dân TP. Hà Nội, hòa bình!"
    assert matching_tokens(unicodedata.normalize("NFD", text.upper())) == matching_tokens(text.replace("Ủy", "Uỷ"))
    assert matching_tokens("hoa") != matching_tokens("hòa")  # tones still distinguish words


def test_exact_hash_folds_case_whitespace_and_nfd():
    text = "Ban Tổ chức Trung ương\nhọp   sáng nay."
    assert content_hash(text) == content_hash(unicodedata.normalize("NFD", text.upper().replace("\n", " ")))
    assert content_hash(text) != content_hash(text + " Thêm.")


def _planted_copies(text: str) -> dict[str, str]:
    sentences = text.split(". ")
    return {
        "nfd": unicodedata.normalize("NFD", text),
        "old_tones": text.replace("ủy", "uỷ").replace("hòa", "hoà").replace("Ủy", "Uỷ"),
        "dropped_sentence": ". ".join(sentences[:3] + sentences[4:]),
        "trimmed_lead": text.split("\n", 1)[1],
        "edited_words": text.replace("Ban Tổ chức", "Ban Tổ Chức", 1).replace("tổ chức", "tổ-chức", 2).replace("các", "những", 3),
        "new_wrapper": "(Báo Mới) - " + text + "\nTheo Nhân Dân",
    }


@pytest.mark.parametrize("kind", ["nfd", "old_tones", "dropped_sentence", "trimmed_lead", "edited_words", "new_wrapper"])
def test_planted_copies_of_a_real_article_are_near_duplicates(seeds, kind):
    original = next(a for a in seeds if a.source.endswith(seed_paths()[1].name)).text  # seed 001, 14 paragraphs
    copy = _planted_copies(original)[kind]
    assert copy != original
    index = DedupIndex()
    index.add("original", fingerprint(original))
    match = index.find(fingerprint(copy))
    assert match is not None and match.article_id == "original", similarity(shingles(original), shingles(copy))


def test_same_topic_different_articles_stay_apart(seeds):
    """Seeds 000 and 003 share topic and phrases but are different articles."""
    by_seed = {a.source.rsplit("/", 1)[-1][:3]: a for a in seeds}
    a, b = shingles(by_seed["000"].text), shingles(by_seed["003"].text)
    assert is_near_duplicate(a, b) is None
    index = DedupIndex()
    for article in seeds:
        assert index.find(fingerprint(article.text)) is None  # no seed matches an earlier one
        index.add(article.source, fingerprint(article.text))


def test_exact_match_wins_and_self_is_excluded(seeds):
    index = DedupIndex()
    index.add("a", fingerprint(seeds[0].text))
    assert index.find(fingerprint(seeds[0].text)).method == "exact"
    assert index.find(fingerprint(seeds[0].text), exclude="a") is None
