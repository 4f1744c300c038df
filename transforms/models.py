"""Plain data passed between the stages: source -> raw document -> article -> fingerprint."""
from __future__ import annotations

import hashlib
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import Any
from datetime import datetime


# What an article can be made from: a text dump, an HTML page, a JSON Lines record.
FORMATS = ("text", "html", "jsonl")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class HttpFacts:
    """How a web document was received."""

    final_url: str  # after redirects
    status: int
    content_type: str | None
    charset: str | None  # codec the body decodes with, from the header, the page or detection
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class RawDocument:
    """One input exactly as received: the bytes and where they came from."""

    source: str  # a path or URL: the identity of the input
    content: bytes
    received_at: datetime
    _: KW_ONLY
    record: dict | None = None  # pre-split fields of a JSON Lines record (title, text, url, ...)
    http: HttpFacts | None = None  # for documents fetched over HTTP
    rules_file: str | None = None  # a site's own cleaning rules file (sources file); None: the default rules
    sources_site: str | None = None  # the name of the sources file's site it was fetched for

    @property
    def content_hash(self) -> str:
        return sha256_hex(self.content)

    @property
    def document_id(self) -> str:
        """Stable id of this version of this input: the same bytes from the same source give the same id."""
        return sha256_hex(f"{self.source}\0{self.content_hash}".encode())[:32]


@dataclass(frozen=True)
class Article:
    """An article parsed and cleaned from one raw document."""

    source: str
    document_id: str
    title: str
    paragraphs: tuple[str, ...]
    format: str  # text | html | jsonl
    extractor: str
    extractor_version: str
    cleaner_version: str
    enrich_version: str
    url: str | None = None
    site: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    date_precision: str | None = None  # see transforms.dates for the values
    original_source: str | None = None
    views: int | None = None
    language: str | None = None  # as declared by the page or record, e.g. "vi"
    host: str | None = None  # of its URL (transforms.urls.site_of: port kept, no "www.")
    sources_site: str | None = None  # the sources file's site it was fetched for

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    def with_changes(self, **changes) -> "Article":
        return replace(self, **changes)


# Where an input can fail, in pipeline order: `rejects.stage` takes these values only.
REJECT_STAGES = ("read", "fetch", "discover", "decode", "parse", "clean")


@dataclass(frozen=True)
class Reject:
    """An input that could not be turned into an article, and why."""

    source: str
    stage: str  # one of REJECT_STAGES
    reason: str
    content_hash: str = ""

    def __post_init__(self):
        if self.stage not in REJECT_STAGES:
            raise ValueError(f"unknown reject stage {self.stage!r} (stages: {', '.join(REJECT_STAGES)})")


@dataclass(frozen=True)
class Fingerprint:
    """What dedup needs to know about an article's text."""

    content_hash: str  # exact-duplicate key over the normalised text
    band_keys: tuple[int, ...]  # LSH band keys of the MinHash signature, one per band
    # Sorted distinct 64-bit shingle hashes (numpy uint64), to verify candidates with the
    # exact Jaccard. An array pickles as one buffer (~5 kB an article); a set of shingle
    # strings cost 6x the text and more time to ship from the workers than to compute.
    shingles: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Processed:
    """The outcome of transforming one raw document: an article with its fingerprint, or a reject."""

    document: RawDocument
    format: str
    article: Article | None = None
    fingerprint: Fingerprint | None = None
    reject: Reject | None = None
    enrichment: Any = None  # transforms.enrich.Enrichment: documents cited, people named
