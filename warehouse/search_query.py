"""What a search query says, as an analyst types it, and how its matches are shown.

- Adjacent words are a phrase (Vietnamese words are several syllables: "đất đai", "tham
  nhũng"): every word must be in an article, and a phrase found in the order typed weighs
  more than its syllables apart ("nội hà" is not "Hà Nội").
- `"quoted words"` must appear exactly so: in that order, with the accents typed.
- `-word` (or `-"some words"`) leaves out the articles that contain it.
- Accents are optional, not ignored: "gia vang" finds "giá vàng"; when accents are typed,
  the articles with those exact words rank first ("bán" before "bàn").

Words are what the index's tokenizer sees: runs of letters and digits. Matching is done by
regular expressions (RE2, as DuckDB runs them) over the accent-folded copy of an article
(`search_corpus`) and, for typed accents, over its text case-insensitively.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

SNIPPET_CHARS = 180
MARK = "**"  # matched words in a snippet: **Hà Nội** (readable in a terminal, a CSV and markdown)
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')
_WORD = re.compile(r"[^\W_]+")
# What may separate two words of a phrase, as RE2 writes it: spaces and dashes, or one mark
# inside a name or a number ("TP.HCM", "30.000", "35-CT/TW"); not a sentence's full stop,
# a comma, a colon or a quote, which end one phrase and start another.
_GAP = r"(?:[\s\p{Pd}]+|[./'’])"
_BEFORE, _AFTER = r"(?:^|[^\p{L}\p{N}])", r"(?:[^\p{L}\p{N}]|$)"


class QuerySyntaxError(ValueError):
    """The query has nothing to look for."""


@dataclass(frozen=True)
class SearchQuery:
    runs: tuple[tuple[str, ...], ...]      # unquoted words, split where a quote or an exclusion breaks them
    phrases: tuple[tuple[str, ...], ...]   # quoted: must match exactly
    excluded: tuple[tuple[str, ...], ...]  # -word, -"some words"

    @property
    def words(self) -> list[str]:
        """Every word an article must contain, as typed (lower case, NFC), once each."""
        return list(dict.fromkeys(word for group in self.runs + self.phrases for word in group))

    @property
    def folded_words(self) -> list[str]:
        return list(dict.fromkeys(fold(word) for word in self.words))

    @property
    def accented(self) -> bool:
        return any(fold(word) != word for word in self.words)


def parse_query(text: str) -> SearchQuery:
    runs, phrases, excluded, run = [], [], [], []
    for match in _TERM.finditer(unicodedata.normalize("NFC", text).lower()):
        negated, quoted = bool(match[1] or match[3]), match[2] is not None
        words = tuple(_WORD.findall(match[2] if quoted else match[4]))
        if not words:
            continue
        if negated or quoted:
            if run:
                runs.append(tuple(run))
                run = []
            (excluded if negated else phrases).append(words)
        else:
            run.extend(words)
    if run:
        runs.append(tuple(run))
    query = SearchQuery(tuple(runs), tuple(phrases), tuple(excluded))
    if not query.words:
        raise QuerySyntaxError("nothing to search for: give some words (a -word only leaves articles out)")
    return query


def folded_pattern(words: tuple[str, ...]) -> str:
    """RE2 pattern of the words in order, as whole words, in accent-folded text."""
    return _BEFORE + _GAP.join(re.escape(fold(word)) for word in words) + _AFTER


def exact_pattern(words: tuple[str, ...]) -> str:
    """RE2 pattern of the words in order, as whole words, with their accents, in any case."""
    return "(?i)" + _BEFORE + _GAP.join(re.escape(word) for word in words) + _AFTER


def adjacent_pairs(query: SearchQuery) -> list[tuple[str, str]]:
    return [pair for run in query.runs for pair in zip(run, run[1:])]


def fold(text: str) -> str:
    """Python twin of the `search_fold` SQL macro, one character for one, so offsets line up."""
    return "".join(_fold_char(char) for char in text)


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    return unicodedata.normalize("NFD", char)[0].lower()[:1] or char


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS, typed: list[str] = ()) -> str:
    """The stretch of the text around a match of the query's words, the words marked.

    `words` are folded. The centre is the longest run of them found together, one written
    with the accents `typed` first, the earliest of equals.
    """
    folded = fold(text)
    spans = _word_spans(folded, words)
    if not spans:
        return _shorten(text[:width], cut_start=False, cut_end=len(text) > width)
    exact = set(typed)

    def as_typed(span: tuple[int, int]) -> bool:
        return bool(exact) and set(_WORD.findall(text[span[0]:span[1]].lower())) <= exact

    centre = max(spans, key=lambda span: (as_typed(span), span[1] - span[0], -span[0]))[0]
    start = max(0, centre - width // 3)
    end = min(len(text), start + width)
    marked, last = [], start
    for begin, finish in spans:
        if begin >= start and finish <= end:
            marked += [text[last:begin], MARK, text[begin:finish], MARK]
            last = finish
    marked.append(text[last:end])
    return _shorten("".join(marked), cut_start=start > 0, cut_end=end < len(text))


def _word_spans(folded: str, words: list[str]) -> list[tuple[int, int]]:
    """(start, end) of every whole-word occurrence of the words, neighbours separated by spaces joined."""
    if not words:
        return []
    alternatives = "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))
    found = [match.span(1) for match in re.finditer(rf"(?<![^\W_])({alternatives})(?![^\W_])", folded)]
    joined: list[tuple[int, int]] = []
    for begin, end in found:
        if joined and folded[joined[-1][1]:begin].isspace():
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((begin, end))
    return joined


def _shorten(piece: str, cut_start: bool, cut_end: bool) -> str:
    piece = " ".join(piece.split())
    return ("… " if cut_start else "") + piece + (" …" if cut_end else "")
