"""HTML pages -> article fields with trafilatura (precision-oriented, metadata on)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import trafilatura

from transforms.dates import VIETNAM

EXTRACTOR = "trafilatura"
EXTRACTOR_VERSION = trafilatura.__version__

# favor_precision: tinbai would rather lose a stray line than load a menu into the
# warehouse; comments are never article text.
TRAFILATURA_OPTIONS = dict(favor_precision=True, include_comments=False, include_tables=True, with_metadata=True)


@dataclass(frozen=True)
class ExtractedPage:
    title: str | None
    lines: list[str]
    url: str | None
    site: str | None
    author: str | None
    published_at: datetime | None
    date_precision: str | None


def extract_page(html: bytes | str, url: str | None = None) -> ExtractedPage | None:
    """Main text and metadata of a page, or None when trafilatura finds no text."""
    document = trafilatura.bare_extraction(html, url=url, **TRAFILATURA_OPTIONS)
    if document is None or not (document.text or "").strip():
        return None
    published, precision = None, None
    if document.date:
        try:
            published = datetime.fromisoformat(document.date).replace(tzinfo=VIETNAM)
            precision = "day"
        except ValueError:
            published = None
    return ExtractedPage(
        title=document.title,
        lines=document.text.split("\n"),
        url=document.url or url,
        site=document.sitename or document.hostname,
        author=document.author,
        published_at=published,
        date_precision=precision,
    )
