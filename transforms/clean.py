"""Boilerplate removal over the lines of one article, driven by rules/boilerplate.toml.

Three kinds of signal, in this order:
1. the rule table: patterns for known furniture (comment forms, counters, share bars...);
2. structure inside the document: repeated short lines (captions), short unpunctuated
   lines next to image markers, after list headings, or before/after the body;
3. structure across documents: lines that recur in many documents of one site.
Metadata found on the way (views, original source, byline) is returned, not thrown away.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from transforms.dates import parse_dateline
from transforms.normalise import clean_whitespace, name_key
from transforms.rulefile import RulesError, read_rule_file

CLEANING_RULES_PATH = Path(__file__).parent / "rules" / "boilerplate.toml"
_ACTIONS = {"drop", "drop_rest", "drop_list", "image", "field"}
_FIELDS = {"views", "original_source", "author"}
# CJK full stops and closing quotes count too: the trafilatura eval set has Chinese and
# Japanese pages whose paragraphs were otherwise taken for labels (F1 +0.0013).
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)»。！？“」』]$")
# "...hiện hành.Hoàng Diên", "...mất điện:Theo EVN": two sentences (joined by a crawler)
# are prose, not a label, however short.
# ("TP.HCM" is an abbreviation, not a break: the break needs a lower-case letter or digit
# before it and a capitalised word after it.)
_SENTENCE_BREAK = r"[a-zà-ỹđ0-9]{stops}[\"”’]?\s*[A-ZĐÀ-Ỹ][a-zà-ỹđ]"
_INNER_SENTENCE_BREAK = re.compile(_SENTENCE_BREAK.format(stops="[.!?…:;]"))
# Emoji, dingbats, stars and enclosed numbers (⭐ ✔️ ①) and ℠ ™: decoration, not prose.
# Not every "So" character: ° and ℃ occur in weather reports.
_PICTOGRAPHS = re.compile("[\u2120\u2122\u2460-\u24ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]")
_NAME_WORD = re.compile(r"^(?:[A-ZĐÀ-Ỹ][\wÀ-ỹ'’.-]*|[A-ZĐ]{1,6}\.?)$")
# Letters Vietnamese uses and other Latin-script languages hardly do: ă â đ ê ô ơ ư and
# the tone-marked vowels of the Latin Extended Additional block (U+1EA0-U+1EF9).
# Two sentences in one line; a headline's colon ("Hà Nội: Mưa lớn ...") is not a break.
_INNER_FULL_STOP = re.compile(_SENTENCE_BREAK.format(stops="[.!?…]"))
# How a headline may end where a sentence would not: a question, an exclamation, a quote.
_HEADLINE_END = re.compile(r"[?!…\"”’»]$")
_VIETNAMESE_LETTERS = re.compile("[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]")
# The share of such letters above which a text is Vietnamese: the seeds have 0.23-0.26.
# Gating the end-signature cut with it keeps the eval set's F1 at 0.9310 (0.9291 ungated).
VIETNAMESE_LETTER_SHARE = 0.05
_BYLINE = re.compile(r"^(?P<name>[^()\[\]]+?)\s*(?:[(\[/]\s*(?P<agency>[^()\[\]]{1,20})\s*[)\]]?)?$")


@dataclass(frozen=True)
class LineRule:
    kind: str
    pattern: re.Pattern
    action: str
    field: str | None = None


@dataclass(frozen=True)
class InlineRule:
    kind: str
    pattern: re.Pattern
    where: str


@dataclass(frozen=True)
class CleaningRules:
    version: str
    line_rules: tuple[LineRule, ...]
    inline_rules: tuple[InlineRule, ...]
    short_line_max_words: int
    headline_max_words: int
    repeated_line_max_chars: int
    drop_rest_min_position: float
    branding_min_symbols: int
    site_repeat_min_documents: int
    site_repeat_min_share: float
    byline_max_chars: int
    byline_max_words: int
    not_authors: frozenset[str] = frozenset()  # name_key of platform names that are never authors


def load_cleaning_rules(path: Path = CLEANING_RULES_PATH) -> CleaningRules:
    return read_rule_file(path, _compile)


def _compile(data: dict, version: str) -> CleaningRules:
    line_rules = tuple(_line_rule(entry, index) for index, entry in enumerate(data.get("line", [])))
    inline_rules = tuple(
        InlineRule(entry["kind"], re.compile(entry["pattern"], re.I), entry["where"])
        for entry in data.get("inline", [])
    )
    not_authors = frozenset(name_key(name) for name in data.get("authors", {}).get("not_authors", []))
    return CleaningRules(version=version, line_rules=line_rules, inline_rules=inline_rules, not_authors=not_authors,
                         **data["structure"])


def _line_rule(entry: dict, index: int) -> LineRule:
    action = entry["action"]
    if action not in _ACTIONS:
        raise RulesError(f"[[line]] #{index + 1} ({entry.get('kind')}): unknown action {action!r}")
    field_name = entry.get("field")
    if action == "field" and field_name not in _FIELDS:
        raise RulesError(f"[[line]] #{index + 1} ({entry.get('kind')}): unknown field {field_name!r}")
    return LineRule(entry["kind"], re.compile(entry["pattern"], re.I), action, field_name)


@dataclass
class CleanedBody:
    paragraphs: list[str]
    fields: dict = field(default_factory=dict)  # views, original_source, author, published (datetime, precision)
    removed: list[tuple[str, str]] = field(default_factory=list)  # (kind, line), for tests and debugging


def word_count(line: str) -> int:
    return len(line.split())


def is_short(line: str, rules: CleaningRules) -> bool:
    """A label rather than prose: few words and no sentence punctuation at the end."""
    return word_count(line) < rules.short_line_max_words and not _SENTENCE_END.search(line)


def is_headline_like(line: str, rules: CleaningRules) -> bool:
    """A link text or heading: no longer than a headline, no sentence punctuation at its end or inside it."""
    return (
        word_count(line) <= rules.headline_max_words
        and not _SENTENCE_END.search(line)
        and not _INNER_SENTENCE_BREAK.search(line)
    )


def is_furniture(line: str, rules: CleaningRules) -> bool:
    """Whether a line is removed whole by the rule table (used to find a dump's title line)."""
    rule = _matching_rule(clean_whitespace(line), rules)
    return rule is not None and rule.action in ("drop", "drop_list", "image")


def branding_symbols(line: str) -> int:
    return len(_PICTOGRAPHS.findall(line))


def byline_name(line: str, rules: CleaningRules) -> str | None:
    """The author's name if the line is a byline ("Hồng Hà", "PV", "Minh Anh (TTXVN)")."""
    if len(line) > rules.byline_max_chars or any(char.isdigit() for char in line):
        return None
    match = _BYLINE.match(line)
    if not match:
        return None
    words = match.group("name").split()
    if not 1 <= len(words) <= rules.byline_max_words:
        return None
    if not all(_NAME_WORD.match(word) for word in words):
        return None
    return line


def site_template_lines(documents: Iterable[tuple[str | None, list[str]]], rules: CleaningRules) -> dict[str, frozenset[str]]:
    """Per site, the short lines that recur across enough of its documents to be template text."""
    counts: dict[str, Counter] = defaultdict(Counter)
    totals: Counter = Counter()
    for site, lines in documents:
        if not site:
            continue
        totals[site] += 1
        counts[site].update({line for line in lines if 0 < len(line) <= rules.repeated_line_max_chars})
    result = {}
    for site, counter in counts.items():
        needed = max(rules.site_repeat_min_documents, rules.site_repeat_min_share * totals[site])
        result[site] = frozenset(line for line, seen in counter.items() if seen >= needed)
    return result


def clean_lines(
    raw_lines: Iterable[str],
    rules: CleaningRules,
    title: str | None = None,
    template_lines: frozenset[str] = frozenset(),
) -> CleanedBody:
    """Remove boilerplate from an article's lines; return the body paragraphs and the metadata found."""
    # NFC last: dropping an invisible character can bring a letter and its tone mark together.
    lines = [line for line in (unicodedata.normalize("NFC", clean_whitespace(raw)) for raw in raw_lines) if line]
    result = CleanedBody(paragraphs=[])
    repeats = Counter(lines)
    total_chars = sum(len(line) for line in lines) or 1
    title_key = title.casefold() if title else None
    kept: list[str] = []
    image_neighbours: set[int] = set()  # indexes into `kept` (or about to be) that sit next to an image
    in_list = False
    seen_chars = 0
    for line in lines:
        position = seen_chars / total_chars
        seen_chars += len(line)
        if in_list and _is_list_item(line, rules):
            result.removed.append(("related_articles", line))
            continue
        in_list = False
        rule = _matching_rule(line, rules)
        if rule is not None:
            if rule.action == "drop_rest" and position < rules.drop_rest_min_position:
                result.removed.append((rule.kind, line))
                continue
            result.removed.append((rule.kind, line))
            if rule.action == "drop_rest":
                break
            if rule.action == "drop_list":
                in_list = True
            elif rule.action == "image":
                image_neighbours.update({len(kept) - 1, len(kept)})
            elif rule.action == "field":
                value = rule.pattern.match(line).group("value").strip()
                result.fields.setdefault(rule.field, _field_value(rule.field, value))
            continue
        reason = _structural_reason(line, rules, repeats, title_key, template_lines)
        if reason:
            result.removed.append((reason, line))
            continue
        dated = parse_dateline(line)
        if dated:
            result.fields.setdefault("published", dated)
            result.removed.append(("dateline", line))
            continue
        kept.append(line)
    kept = _drop_captions(kept, image_neighbours, rules, result)
    kept = [_strip_inline(line, rules, result) for line in kept]
    kept = [line for line in kept if line]
    kept = _trim_head(kept, rules, result)
    kept = _cut_at_end_signature(kept, rules, result)
    kept = _trim_tail(kept, rules, result)
    result.paragraphs = kept
    return result


def _matching_rule(line: str, rules: CleaningRules) -> LineRule | None:
    for rule in rules.line_rules:
        if rule.pattern.match(line):
            return rule
    return None


def _field_value(name: str, value: str):
    if name == "views":
        return int(re.sub(r"\D", "", value))
    return value


def _structural_reason(line, rules, repeats, title_key, template_lines) -> str | None:
    if line in template_lines:
        return "site_template"
    if repeats[line] > 1 and len(line) <= rules.repeated_line_max_chars:
        return "repeated_line"
    if branding_symbols(line) >= rules.branding_min_symbols:
        return "branding"
    if title_key and line.casefold() == title_key:
        return "title_repeated"
    return None


def _drop_captions(kept: list[str], neighbours: set[int], rules: CleaningRules, result: CleanedBody) -> list[str]:
    out = []
    for index, line in enumerate(kept):
        if index in neighbours and is_short(line, rules):
            result.removed.append(("image_caption", line))
            continue
        out.append(line)
    return out


def _strip_inline(line: str, rules: CleaningRules, result: CleanedBody) -> str:
    for rule in rules.inline_rules:
        match = rule.pattern.search(line)
        if not match:
            continue
        if rule.where == "start" and match.start() == 0 and match.end() < len(line):
            result.removed.append((rule.kind, match.group(0).strip()))
            line = line[match.end():]
        elif rule.where == "end" and match.end() == len(line):
            line = line[: match.start()]
    return line.strip()


def _trim_head(kept: list[str], rules: CleaningRules, result: CleanedBody) -> list[str]:
    start = 0
    # Only short lines: headline-length lines before the body are as often a sapo or a
    # subtitle as furniture (trafilatura eval set: F1 +0.0020 against headline-like).
    while start < len(kept) - 1 and is_short(kept[start], rules):
        result.removed.append(("head_label", kept[start]))
        start += 1
    return kept[start:]


def _cut_at_end_signature(kept: list[str], rules: CleaningRules, result: CleanedBody) -> list[str]:
    """An end signature ends the article: a byline line after prose, in the text's second
    part (drop_rest_min_position), followed by a headline-like line. What follows it is
    related content inside the container (teaser titles and their summaries, promo boxes).
    Vietnamese text only: the end signature is the Vietnamese press's convention, and on
    English pages a name line before a heading is as often a photo credit or a section."""
    if not is_vietnamese(kept):
        return kept
    total = sum(len(line) for line in kept) or 1
    before = 0
    for index in range(1, len(kept) - 1):
        before += len(kept[index - 1])
        line = kept[index]
        if before / total < rules.drop_rest_min_position:
            continue
        name = byline_name(line, rules)
        if name and not is_headline_like(kept[index - 1], rules) and is_headline_like(kept[index + 1], rules):
            result.fields.setdefault("author", name)
            result.removed.append(("end_signature", line))
            result.removed.extend(("after_end_signature", rest) for rest in kept[index + 1:])
            return kept[:index]
    return kept


def _is_list_item(line: str, rules: CleaningRules) -> bool:
    """A headline in a list of related articles: headline-like, or a headline that ends in a
    question or exclamation mark or a quote ("Vì sao giá vàng tăng?"). The list ends where
    prose resumes: a line with a full stop, or more than one sentence."""
    if is_headline_like(line, rules):
        return True
    return (word_count(line) <= rules.headline_max_words and bool(_HEADLINE_END.search(line))
            and not _INNER_FULL_STOP.search(line))


def is_vietnamese(lines: list[str]) -> bool:
    """Whether the text is Vietnamese: enough of its letters are ones only Vietnamese uses
    (ă, ơ, ư, đ, tone-marked vowels). Vietnamese prose has about one in five such letters,
    other Latin-script languages next to none."""
    text = "".join(lines)
    letters = sum(char.isalpha() for char in text)
    return bool(letters) and len(_VIETNAMESE_LETTERS.findall(text)) >= VIETNAMESE_LETTER_SHARE * letters


def _trim_tail(kept: list[str], rules: CleaningRules, result: CleanedBody) -> list[str]:
    end = len(kept)
    while end > 1 and is_headline_like(kept[end - 1], rules):
        line = kept[end - 1]
        name = byline_name(line, rules)
        if name and "author" not in result.fields:
            result.fields["author"] = name
            result.removed.append(("byline", line))
        else:
            result.removed.append(("tail_label", line))
        end -= 1
    return kept[:end]
