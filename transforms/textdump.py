"""The header of a text dump of a web page: source URL, title and site; the rest is body lines."""
from __future__ import annotations

import re
from dataclasses import dataclass

from transforms.clean import CleaningRules, is_furniture
from transforms.dates import parse_dateline
from transforms.normalise import clean_whitespace
from transforms.urls import site_of

_URL_LINE = re.compile(r"^(?:url\s*:\s*)?(?P<url>https?://\S+)$", re.I)
_SEPARATOR = re.compile(r"^[-=_*~–—•·.]{3,}$")
_HOST = r"(?:[\w-]+\.)+[a-z]{2,12}"
# "Antinet.info – Hội nghị ...": a host-like site name before a dash, bar or colon.
_SITE_PREFIX = re.compile(rf"^(?P<site>{_HOST})\s*[–—|:-]\s+(?P<title>\S.+)$", re.I)
# "Hội nghị ... - Baochinhphu.vn": the same after the title.
_SITE_SUFFIX = re.compile(rf"^(?P<title>\S.+?)\s+[–—|-]\s*(?P<site>{_HOST})$", re.I)


@dataclass(frozen=True)
class DumpHeader:
    url: str | None
    title: str
    site: str | None
    body_lines: list[str]


def parse_header(text: str, rules: CleaningRules) -> DumpHeader:
    """Split a dump into URL, title, site and body lines. Raises ValueError when there is no title.

    The title is the first real line: not blank, not a separator, not the URL, not a
    dateline (kept for the body, where its date is read) and not page furniture (by `rules`).
    """
    lines = text.split("\n")
    url = None
    held: list[str] = []
    index = 0
    while index < len(lines):
        line = clean_whitespace(lines[index])
        index += 1
        if not line or _SEPARATOR.match(line) or is_furniture(line, rules):
            continue
        found = _URL_LINE.match(line)
        if found and url is None:
            url = found.group("url")
        elif parse_dateline(line):
            held.append(line)
        else:
            break
    else:
        raise ValueError("no title line")
    title = line
    site = None
    for pattern in (_SITE_PREFIX, _SITE_SUFFIX):
        match = pattern.match(title)
        if match:
            site, title = match.group("site"), match.group("title").strip()
            break
    body = held + [line for line in lines[index:] if not _SEPARATOR.match(clean_whitespace(line))]
    return DumpHeader(url=url, title=title, site=site or site_of(url), body_lines=body)
