"""Raw documents -> cleaned, fingerprinted articles (or rejects). Pure: no I/O, no Prefect, no DuckDB."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime

from transforms.budget import DEFAULT_DOCUMENT_SECONDS, TooSlow, cpu_budget
from transforms.clean import CleaningRules, clean_lines, site_template_lines
from transforms.dates import infer_from_lead, parse_timestamp
from transforms.decode import DecodeError, decode_bytes, sniff_format
from transforms.enrich import enrich
from transforms.fingerprint import fingerprints
from transforms.html import extract_page
from transforms.normalise import clean_whitespace, name_key
from transforms.models import Article, Processed, RawDocument, Reject
from transforms.rules import Rules, article_versions, rules_for
from transforms.textdump import parse_header
from transforms.urls import site_of

TEXT_EXTRACTOR = "tinbai-textdump"
# An article body shorter than this (in characters, after cleaning) is not an article:
# the shortest real item in the baomoi corpus is 44 characters of lead-only gallery, the
# 10th percentile 809; 40 keeps galleries and refuses stray notes and empty templates.
MIN_ARTICLE_CHARS = 40
# An outlet's name is a few words ("Báo Điện tử Chính phủ", "Tuổi Trẻ Online"); a longer
# "site name" a page declares is a headline or a slogan.
OUTLET_MAX_WORDS = 6
_DOMAIN_NAME = re.compile(r"(?:[\w-]+\.)+[^\W\d_]{2,}")


@dataclass
class _Draft:
    """An article before cleaning: the header fields and the raw body lines."""

    document: RawDocument
    format: str
    title: str
    lines: list[str]
    url: str | None
    site: str | None
    extractor: str
    rules: Rules
    author: str | None = None
    published_at: datetime | None = None
    date_precision: str | None = None
    language: str | None = None


class _Rejected(Exception):
    def __init__(self, stage: str, reason: str):
        super().__init__(reason)
        self.stage, self.reason = stage, reason


def transform_batch(documents: list[RawDocument],
                    document_seconds: float | None = DEFAULT_DOCUMENT_SECONDS) -> list[Processed]:
    """Transform a batch; lines that recur across a site's documents in the batch count as template.

    Each document is made with its own rules (`transforms.rules.rules_for` its
    `rules_file`). Each may use `document_seconds` of CPU to be extracted and as much to be
    cleaned (see transforms.budget); over it, it is one reject and the batch goes on.
    """
    drafts: list[_Draft | Processed] = []
    rules_of: dict[str | None, Rules] = {}  # read once per rules file and batch
    for document in documents:
        try:
            if document.rules_file not in rules_of:
                rules_of[document.rules_file] = rules_for(document.rules_file)
            rules = rules_of[document.rules_file]
            with cpu_budget(document_seconds):
                drafts.append(_draft(document, rules))
        except TooSlow:
            drafts.append(_reject(document, _too_slow("parse", document_seconds)))
        except _Rejected as rejected:
            drafts.append(_reject(document, rejected))
        except Exception as error:  # one odd document never costs the batch: it becomes a reject
            drafts.append(_reject(document, _unexpected("parse", error)))
    templates = _template_lines([draft for draft in drafts if isinstance(draft, _Draft)])
    results: list[Processed] = []
    for draft in drafts:
        if isinstance(draft, Processed):
            results.append(draft)
            continue
        try:
            with cpu_budget(document_seconds):
                article = _finish(draft, templates.get((draft.rules.cleaning.version, draft.site or ""), frozenset()))
                enrichment = enrich(article.title, article.text, draft.rules.enrichment)
            results.append(Processed(document=draft.document, format=draft.format, article=article,
                                     enrichment=enrichment))
        except TooSlow:
            results.append(_reject(draft.document, _too_slow("clean", document_seconds), draft.format))
        except _Rejected as rejected:
            results.append(_reject(draft.document, rejected, draft.format))
        except Exception as error:
            results.append(_reject(draft.document, _unexpected("clean", error), draft.format))
    articles = [index for index, result in enumerate(results) if result.article is not None]
    prints = fingerprints([results[index].article.text for index in articles])
    for index, print_ in zip(articles, prints):
        results[index] = replace(results[index], fingerprint=print_)
    return results


def _template_lines(drafts: list[_Draft]) -> dict[tuple[str, str], frozenset[str]]:
    """Per (cleaning rules version, site), the site's template lines among the documents cleaned
    with those rules, counted with their thresholds (one site's documents may come under two
    rules files: stored before and after the site got its own)."""
    by_rules: dict[str, tuple[CleaningRules, list[_Draft]]] = {}
    for draft in drafts:
        by_rules.setdefault(draft.rules.cleaning.version, (draft.rules.cleaning, []))[1].append(draft)
    templates: dict[tuple[str, str], frozenset[str]] = {}
    for version, (cleaning, group) in by_rules.items():
        lines = site_template_lines(((draft.site, draft.lines) for draft in group), cleaning)
        templates.update(((version, site), found) for site, found in lines.items())
    return templates


def _too_slow(stage: str, seconds: float | None) -> _Rejected:
    return _Rejected(stage, f"too slow to extract (over {seconds:g} s of CPU)")


def _unexpected(stage: str, error: Exception) -> _Rejected:
    return _Rejected(stage, f"unexpected {type(error).__name__}: {str(error)[:200]}")


def _reject(document: RawDocument, rejected: _Rejected, format_: str = "unknown") -> Processed:
    reject = Reject(document.source, rejected.stage, rejected.reason, document.content_hash)
    return Processed(document=document, format=format_, reject=reject)


def _draft(document: RawDocument, rules: Rules) -> _Draft:
    if document.record is not None:
        return _draft_record(document, rules)
    if sniff_format(document.content, document.source) == "html":
        return _draft_html(document, rules)
    try:
        text = decode_bytes(document.content)
    except DecodeError as error:
        raise _Rejected("decode", str(error)) from error
    if sniff_format(text[:8192].encode("utf-8")) == "html":  # e.g. a UTF-16 page
        return _draft_html(document, rules)
    try:
        header = parse_header(text, rules.cleaning)
    except ValueError as error:
        raise _Rejected("parse", str(error)) from error
    return _Draft(
        document=document,
        format="text",
        title=header.title,
        lines=header.body_lines,
        url=header.url,
        site=header.site,
        extractor=TEXT_EXTRACTOR,
        rules=rules,
    )


def _draft_html(document: RawDocument, rules: Rules) -> _Draft:
    url = _url_source(document)
    html: bytes | str = document.content
    if document.http is not None and document.http.charset:
        try:  # the fetcher knows the charset (header, meta or detection): trafilatura would guess again
            html = decode_bytes(document.content, declared=document.http.charset)
        except DecodeError as error:
            raise _Rejected("decode", str(error)) from error
    page = extract_page(html, url, rules.cleaning)
    if page is None:
        raise _Rejected("parse", "no main text found in the HTML page")
    if not page.title:
        raise _Rejected("parse", "no title found in the HTML page")
    return _Draft(
        document=document,
        format="html",
        title=page.title,
        lines=page.lines,
        url=page.url,
        site=page.site,
        extractor=page.method,
        rules=rules,
        author=page.author,
        published_at=page.published_at,
        date_precision=page.date_precision,
        language=page.language,
    )


def _draft_record(document: RawDocument, rules: Rules) -> _Draft:
    record = document.record or {}
    title, text = record.get("title"), record.get("text")
    if not isinstance(title, str) or not title.strip() or not isinstance(text, str):
        raise _Rejected("parse", "JSON record without a title and a text")
    published, precision = record_date(record)
    return _Draft(
        document=document,
        format="jsonl",
        title=title.strip(),
        lines=text.split("\n"),
        url=_text_field(record, "url"),
        site=_text_field(record, "site"),
        extractor="tinbai-jsonl",
        rules=rules,
        published_at=published,
        date_precision=precision,
        language=_text_field(record, "language"),
    )


def _text_field(record: dict, key: str) -> str | None:
    """An optional string field of a JSON record; any other type counts as absent."""
    value = record.get(key)
    return value.strip() or None if isinstance(value, str) else None


def record_date(record: dict) -> tuple[datetime | None, str | None]:
    """A JSON record's publication time: ISO 8601 or a Vietnamese dateline ("27/05/13 08:58 GMT+7")."""
    for key in ("published_at", "published_at_iso", "date"):
        parsed = parse_timestamp(record.get(key))
        if parsed:
            return parsed
    return None, None


def _outlet(draft: _Draft, url: str | None) -> str | None:
    """articles.site, the outlet's name: what the page, record or dump names (never the
    headline, never a sentence), else the sources file's site, else the host when it is a
    domain name ("vov.vn"; an address and port such as 127.0.0.1:8765 names no outlet)."""
    named = draft.site
    if named and len(named.split()) <= OUTLET_MAX_WORDS and name_key(named) != name_key(draft.title):
        return named
    if draft.document.sources_site:
        return draft.document.sources_site
    host = site_of(url)
    return host if host and _DOMAIN_NAME.fullmatch(host) else None


def _url_source(document: RawDocument) -> str | None:
    return document.source if document.source.startswith(("http://", "https://")) else None


def _finish(draft: _Draft, template_lines: frozenset[str]) -> Article:
    body = clean_lines(draft.lines, draft.rules.cleaning, title=draft.title, template_lines=template_lines)
    text_chars = sum(len(paragraph) for paragraph in body.paragraphs)
    if text_chars < MIN_ARTICLE_CHARS:
        raise _Rejected("clean", f"no article text after cleaning ({text_chars} characters)")
    published, precision = draft.published_at, draft.date_precision
    if published is None and "published" in body.fields:
        published, precision = body.fields["published"]
    if published is None:
        inferred = infer_from_lead(body.paragraphs[0])
        if inferred:
            published, precision = inferred
    versions = article_versions(draft.format, draft.rules)
    return Article(
        source=draft.document.source,
        document_id=draft.document.document_id,
        title=clean_whitespace(unicodedata.normalize("NFC", draft.title)),
        paragraphs=tuple(body.paragraphs),
        format=draft.format,
        extractor=draft.extractor,
        extractor_version=versions.extractor,
        cleaner_version=versions.cleaner,
        enrich_version=versions.enrichment,
        url=draft.url,
        site=_outlet(draft, url=draft.url or _url_source(draft.document)),
        host=site_of(draft.url or _url_source(draft.document)),
        sources_site=draft.document.sources_site,
        author=body.fields.get("author") or draft.author,  # a byline printed in the text beats the metadata
        published_at=published,
        date_precision=precision,
        original_source=body.fields.get("original_source"),
        views=body.fields.get("views"),
        language=draft.language,
    )
