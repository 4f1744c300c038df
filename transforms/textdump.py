"""The header of a text dump of a web page: source URL, title and site; the rest is body lines."""
from __future__ import annotations

import re
from dataclasses import dataclass

from transforms.clean import CleaningRules, is_furniture, is_headline_like
from transforms.dates import parse_dateline
from transforms.normalise import clean_whitespace

_URL_LINE = re.compile(r"^(?:url\s*:\s*)?(?P<url>https?://\S+)$", re.I)
_SEPARATOR = re.compile(r"^[-=_*~–—•·.]{3,}$")
_HOST = r"(?:[\w-]+\.)+[a-z]{2,12}"
# "Antinet.info – Hội nghị ...": a host-like site name before a dash, bar or colon.
_SITE_PREFIX = re.compile(rf"^(?P<site>{_HOST})\s*[–—|:-]\s+(?P<title>\S.+)$", re.I)
# "Hội nghị ... - Baochinhphu.vn": the same after the title.
_SITE_SUFFIX = re.compile(rf"^(?P<title>\S.+?)\s+[–—|-]\s*(?P<site>{_HOST})$", re.I)


_BREADCRUMB_SEPARATOR = re.compile(r"\s+[›»>]\s+")
# Words of one breadcrumb part ("Chính trị - Xã hội" is four) and of an outlet's name
# printed above the headline ("Dân trí", "Báo Tuổi Trẻ"); headlines run 10 syllables and more.
BREADCRUMB_PART_MAX_WORDS = 5
OUTLET_LINE_MAX_WORDS = 3


@dataclass(frozen=True)
class DumpHeader:
    url: str | None
    title: str
    site: str | None  # as the dump names it (a prefix, a suffix, the outlet's line); None otherwise
    body_lines: list[str]


def parse_header(text: str, rules: CleaningRules) -> DumpHeader:
    """Split a dump into URL, title, site and body lines. Raises ValueError when there is no title.

    The title is the first real line: not blank, not a separator, not the URL, not a
    dateline (kept for the body, where its date is read), not page furniture (by `rules`),
    not a breadcrumb ("Thời sự › Chính trị") and not the outlet's name printed above the
    headline ("Dân trí": a few words followed by a headline-like line), which is the site.
    """
    lines = text.split("\n")
    url = None
    outlet = None
    held: list[str] = []
    index = 0
    while index < len(lines):
        line = clean_whitespace(lines[index])
        index += 1
        if not line or _SEPARATOR.match(line) or is_furniture(line, rules) or _is_breadcrumb(line):
            continue
        found = _URL_LINE.match(line)
        if found and url is None:
            url = found.group("url")
        elif parse_dateline(line):
            held.append(line)
        elif outlet is None and _is_outlet_line(line, _next_real_line(lines, index, rules), rules):
            outlet = line
        else:
            break
    else:
        raise ValueError("no title line")
    title = line
    site = outlet
    for pattern in (_SITE_PREFIX, _SITE_SUFFIX):
        match = pattern.match(title)
        if match:
            site, title = match.group("site"), match.group("title").strip()
            break
    body = held + [line for line in lines[index:] if not _SEPARATOR.match(clean_whitespace(line))]
    return DumpHeader(url=url, title=title, site=site, body_lines=body)


def _is_breadcrumb(line: str) -> bool:
    """Section names joined by › » or > ("Thời sự › Chính trị"), each a few words."""
    parts = _BREADCRUMB_SEPARATOR.split(line)
    return len(parts) >= 2 and all(0 < len(part.split()) <= BREADCRUMB_PART_MAX_WORDS for part in parts)


def _is_outlet_line(line: str, following: str | None, rules: CleaningRules) -> bool:
    """A name of a few words above a longer headline-like line: the outlet, not the title."""
    return (len(line.split()) <= OUTLET_LINE_MAX_WORDS and following is not None
            and is_headline_like(following, rules) and len(following.split()) > len(line.split()) + 1)


def _next_real_line(lines: list[str], index: int, rules: CleaningRules) -> str | None:
    for raw in lines[index:]:
        line = clean_whitespace(raw)
        if line and not _SEPARATOR.match(line) and not is_furniture(line, rules) and not _is_breadcrumb(line) \
                and not parse_dateline(line):
            return line
    return None
