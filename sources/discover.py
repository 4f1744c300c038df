"""Finding article URLs: RSS/Atom/JSON feeds and sitemaps (indexes, Google News sitemaps).

The parsing is trafilatura's (`feeds.find_links`, `sitemaps.SitemapObject`); the network
I/O is tinbai's Fetcher, so robots.txt, host turns, the SSRF guard and size caps apply to
every feed and sitemap read. No Prefect.

Two things trafilatura does not do here, and why:
- its link checks (courlan.check_url, extract_domain) drop every URL whose host is an IP
  address or 'localhost', and it sorts feed links alphabetically; tinbai applies its own
  small link policy (_accept_link) and keeps document order;
- it keeps no dates, so <lastmod>, <news:publication_date>, <pubDate>, <published> and
  <updated> are read in one small lxml pass over the same text (_dates_by_url).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable
from urllib.parse import urlsplit

from courlan import extract_domain, is_navigation_page, is_not_crawlable, is_valid_url, scrub_url
from lxml import etree
from lxml import html as lxml_html
from trafilatura import feeds as tf_feeds
from trafilatura import sitemaps as tf_sitemaps
from trafilatura.utils import safe_relative_url

from sources.config import archive_url
from sources.fetch import Fetcher, FetchRequest, FetchResult, canonical_url, clean_url
from transforms.dates import VIETNAM, parse_timestamp
from transforms.decode import DecodeError, decode_bytes
from transforms.urls import host_of

# Dates without an offset (W3C dates like "2024-05-01", or local times some Vietnamese
# sites print without "+07:00") are read as Vietnam time, where these sites publish.
# An index of indexes of sitemaps is the deepest seen on news sites; 3 leaves a margin.
MAX_DEPTH = 3
# Sitemaps read per discover_articles() call. A news site's index lists one sitemap per day or
# month: 200 is more than a year of monthly ones; a longer backfill raises it (or passes
# `since`, which skips child sitemaps last modified before it).
MAX_SITEMAPS = 200
# The last path segment of an article link on Vietnamese news sites: a page file
# (".html", ".htm", baomoi's ".epi", vietnamplus's ".vnp"), a numeric id of 5+ digits
# ("-4712345", "post812345"), or a slug of 4+ words; "/thoi-su/" or "/the-gioi" are sections.
_ARTICLE_SEGMENT = re.compile(r"\.(s?html?|epi|vnp)$|\d{5,}|^[^/]*(-[^/-]+){3,}$")
_YEAR_MONTH = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_FEED_ENTRIES = ("item", "entry")
_FEED_DATES = ("pubDate", "published", "updated", "date", "modified", "issued")
_SITEMAP_ENTRIES = ("url", "sitemap")
_SITEMAP_DATES = ("lastmod", "publication_date")
# trafilatura takes a <loc> only when its text starts with "http": pretty-printed sitemaps
# ("<loc>\n  https://...\n</loc>") would lose every URL, so that whitespace goes first.
_LOC_SPACE = re.compile(r"(<(?:[\w.-]+:)?loc>)\s+|\s+(</(?:[\w.-]+:)?loc>)")


@dataclass(frozen=True)
class DiscoveredUrl:
    url: str  # to fetch: as listed, made absolute, tracking parameters and fragment removed (fetch.clean_url)
    lastmod: datetime | None  # UTC; the latest date the feed or sitemap gives for the URL
    source: str  # the feed or sitemap it was found in

    @property
    def canonical(self) -> str:
        return canonical_url(self.url)


@dataclass(frozen=True)
class DiscoveryFailure:
    source: str  # feed or sitemap URL
    reason: str
    status: int | None = None  # HTTP status of the answer, when one came


@dataclass(frozen=True)
class Discovery:
    urls: list[DiscoveredUrl]  # one per canonical URL, first sighting wins, in a stable order
    failures: list[DiscoveryFailure]  # feeds and sitemaps not read, and why (limits included)
    sitemaps_read: int = 0
    sitemaps_skipped: int = 0  # child sitemaps last modified before `since`
    pages_read: tuple[str, ...] = ()  # archive pages fetched and read


@dataclass(frozen=True)
class SitemapContents:
    pages: list[DiscoveredUrl]
    sitemaps: list[DiscoveredUrl]  # child sitemaps (from an index), with their lastmod


@dataclass(frozen=True)
class _Pending:
    url: str
    is_feed: bool
    depth: int = 0


def discover_articles(
    fetcher: Fetcher,
    feeds: Iterable[str] = (),
    sitemaps: Iterable[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    keep_undated: bool = True,
    max_depth: int = MAX_DEPTH,
    max_sitemaps: int = MAX_SITEMAPS,
    naive_tz: timezone = VIETNAM,
) -> Discovery:
    """Article URLs from the feeds and sitemaps given, optionally dated within [since, until).

    Order: feeds, then sitemaps as given, then child sitemaps level by level; within a
    document, document order. Sitemap indexes are followed breadth-first up to
    `max_depth` levels and `max_sitemaps` sitemaps in all; each level is fetched with
    fetch_many, so different hosts proceed in parallel. With `since`, child sitemaps whose
    <lastmod> is earlier are not read. URLs without a date are kept unless
    keep_undated=False: their age is unknown, and refetching is cheap (conditional GETs;
    unchanged bytes are skipped by the flow).
    """
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
    found: dict[str, DiscoveredUrl] = {}
    failures: list[DiscoveryFailure] = []
    pending = [_Pending(url, True) for url in dict.fromkeys(feeds)]
    pending += [_Pending(url, False) for url in dict.fromkeys(sitemaps)]
    seen = {_canonical_or_self(item.url) for item in pending if not item.is_feed}
    read = skipped = 0
    while pending:
        is_feed = {item.url: item.is_feed for item in pending}
        # Each document is parsed as soon as it arrives, so only its URLs stay in memory;
        # they are merged afterwards in request order, which keeps the output stable.
        outcomes = {result.url: _read(result, is_feed[result.url], naive_tz)
                    for result in fetcher.fetch_many(FetchRequest(url, kind="xml") for url in is_feed)}
        children: list[_Pending] = []
        for item in pending:
            read += not item.is_feed
            outcome = outcomes[item.url]
            if outcome.failure:
                failures.append(outcome.failure)
            for child in outcome.sitemaps:
                if child.canonical in seen:
                    continue
                seen.add(child.canonical)
                if since is not None and child.lastmod is not None and child.lastmod < since:
                    skipped += 1
                else:
                    children.append(_Pending(child.url, False, item.depth + 1))
            for page in outcome.pages:
                if page.canonical not in found and _in_range(page.lastmod, since, until, keep_undated):
                    found[page.canonical] = page
        pending = _within_limits(children, max_depth, max_sitemaps - read, failures)
    return Discovery(list(found.values()), failures, read, skipped)


@dataclass(frozen=True)
class _Outcome:
    pages: list[DiscoveredUrl]
    sitemaps: list[DiscoveredUrl]
    failure: DiscoveryFailure | None = None


def archive_pages(templates: Iterable[str], since: datetime, until: datetime) -> list[str]:
    """The archive page of every Vietnam-time day in [since, until), newest first, for each template."""
    first, last = since.astimezone(VIETNAM).date(), (until - timedelta(microseconds=1)).astimezone(VIETNAM).date()
    days = [last - timedelta(days=offset) for offset in range((last - first).days + 1)]
    return list(dict.fromkeys(archive_url(template, day) for day in days for template in templates))


def discover_archives(fetcher: Fetcher, pages: list[str]) -> Discovery:
    """Article links of date-based archive pages ("all news of 2026-02-03"): same site, not navigation.

    The page's own date says when its articles appeared, so what it lists is in range by
    construction; a listing split over several pages is followed only as far as given.
    """
    found: dict[str, DiscoveredUrl] = {}
    failures: list[DiscoveryFailure] = []
    read: list[str] = []
    for result in fetcher.fetch_many(FetchRequest(url) for url in pages):
        if not result.ok:
            failures.append(DiscoveryFailure(result.url, result.reject_reason or "not fetched", result.status))
            continue
        read.append(result.url)
        try:
            text = decode_bytes(result.body or b"", result.charset)
        except DecodeError as error:
            failures.append(DiscoveryFailure(result.url, f"cannot decode: {error}"))
            continue
        for page in _discovered(_anchors(text), result.final_url or result.url, {}, same_site=True):
            if page.canonical not in found and page.canonical not in pages and _looks_like_article(page.url):
                found[page.canonical] = page
    return Discovery(list(found.values()), failures, pages_read=tuple(read))


def _looks_like_article(url: str) -> bool:
    """An archive page also links sections, tags and pages of itself; articles have a slug or an id."""
    path = urlsplit(url).path
    return not is_navigation_page(url) and bool(_ARTICLE_SEGMENT.search(path.rstrip("/").rsplit("/", 1)[-1]))


def _anchors(html: str) -> list[str]:
    try:
        tree = lxml_html.fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    return [href for href in tree.xpath("//a/@href") if isinstance(href, str)]


def _read(result: FetchResult, is_feed: bool, naive_tz: timezone) -> _Outcome:
    """A fetched feed or sitemap, parsed; a failure when it was not fetched or is not one."""
    if not result.ok:
        return _Outcome([], [], DiscoveryFailure(result.url, result.reject_reason or "not fetched"))
    try:
        text = decode_bytes(result.body or b"", result.charset).strip()
    except DecodeError as error:
        return _Outcome([], [], DiscoveryFailure(result.url, f"cannot decode: {error}"))
    if is_feed:
        # trafilatura's own test of what a feed looks like (a JSON Feed starts with "{")
        if not (tf_feeds.is_potential_feed(text) or text.startswith("{")):
            return _Outcome([], [], DiscoveryFailure(result.url, "not an RSS, Atom or JSON feed"))
        return _Outcome(parse_feed(text, result.url, naive_tz=naive_tz), [])
    # trafilatura's own test: an XML sitemap, or a text file of URLs, but not an HTML page
    if not tf_sitemaps.is_plausible_sitemap(result.url, text):
        return _Outcome([], [], DiscoveryFailure(result.url, "not a sitemap (XML or text list of URLs)"))
    contents = parse_sitemap(text, result.url, naive_tz=naive_tz)
    return _Outcome(contents.pages, contents.sitemaps)


def _within_limits(children: list[_Pending], max_depth: int, room: int,
                   failures: list[DiscoveryFailure]) -> list[_Pending]:
    """The child sitemaps still within the depth and count limits; what is left out is reported."""
    too_deep = [child for child in children if child.depth > max_depth]
    if too_deep:
        failures.append(DiscoveryFailure(
            too_deep[0].url, f"not read: {len(too_deep)} sitemap(s) nested deeper than max_depth={max_depth}"))
    kept = [child for child in children if child.depth <= max_depth]
    room = max(room, 0)
    if len(kept) > room:
        failures.append(DiscoveryFailure(
            kept[room].url, f"not read: {len(kept) - room} sitemap(s) beyond max_sitemaps"))
    return kept[:room]


def _in_range(when: datetime | None, since: datetime | None, until: datetime | None, keep_undated: bool) -> bool:
    if when is None:
        return keep_undated or (since is None and until is None)
    return (since is None or when >= since) and (until is None or when < until)


# -- parsing already fetched text -------------------------------------------------------


def parse_feed(text: str, feed_url: str, *, same_site: bool = True,
               naive_tz: timezone = VIETNAM) -> list[DiscoveredUrl]:
    """Article URLs of an already fetched RSS, Atom or JSON feed, in feed order, each once."""
    text = text.strip()
    params = tf_feeds.FeedParameters(feed_url, _registered_domain(feed_url), feed_url)
    links = tf_feeds.find_links(text, params)
    if text.startswith("{"):
        return _discovered(links, feed_url, _json_feed_dates(text, naive_tz), same_site)
    root = _parse_xml(text)
    # find_links also returns the feed's own <link> (the site or section it belongs to)
    own = {_canonical_or_self(safe_relative_url(feed_url, link)) for link in _own_links(root)}
    dates = _dates_by_url(root, feed_url, _FEED_ENTRIES, _FEED_DATES, naive_tz)
    return [item for item in _discovered(links, feed_url, dates, same_site) if item.canonical not in own]


def parse_sitemap(text: str, sitemap_url: str, *, same_site: bool = True,
                  naive_tz: timezone = VIETNAM) -> SitemapContents:
    """Page URLs and child sitemaps of an already fetched sitemap: XML urlset or index, or text."""
    text = text.strip()
    root = _parse_xml(text)
    dates = _dates_by_url(root, sitemap_url, _SITEMAP_ENTRIES, _SITEMAP_DATES, naive_tz)
    is_index = root is not None and etree.QName(root).localname == "sitemapindex"
    reader = _SitemapReader(sitemap_url, _LOC_SPACE.sub(lambda m: m[1] or m[2], text), is_index)
    reader.process()
    return SitemapContents(_discovered(reader.urls, sitemap_url, dates, same_site),
                           _discovered(reader.sitemap_urls, sitemap_url, dates, same_site))


class _SitemapReader(tf_sitemaps.SitemapObject):
    """trafilatura's sitemap reading (format check, <loc> of urlset and index, text sitemaps)
    with no network and its own link handling: every <loc> of a <sitemapindex> is a sitemap,
    whatever its name (trafilatura guesses from a '.xml' ending and misses 'sitemap?page=2');
    elsewhere trafilatura's guess stands. Links are checked later, in _discovered."""

    def __init__(self, url: str, text: str, is_index: bool):
        super().__init__(url, _registered_domain(url), [], external=True)
        self.current_url = url
        self.content = text
        self.is_index = is_index

    def handle_link(self, link: str) -> None:
        if self.is_index or tf_sitemaps.DETECT_SITEMAP_LINK.search(link):
            self.sitemap_urls.append(link)
        else:
            self.urls.append(link)


def _discovered(links: Iterable[str], document_url: str, dates: dict[str, datetime],
                same_site: bool) -> list[DiscoveredUrl]:
    out: dict[str, DiscoveredUrl] = {}
    for link in links:
        url = _accept_link(link, document_url, same_site)
        key = url and canonical_url(url)
        if key and key not in out:
            out[key] = DiscoveredUrl(url, dates.get(key), document_url)
    return list(out.values())


def _accept_link(link: str, document_url: str, same_site: bool) -> str | None:
    """The clean URL of a link worth fetching, or None.

    Kept: absolute or relative http(s) links on the document's site (same registered
    domain, or the same host for IP addresses and 'localhost'), other than the document
    itself and a home page, and not courlan's "not crawlable" (login, mailto: ...).
    """
    link = scrub_url(safe_relative_url(document_url, link.strip()))
    if not is_valid_url(link) or is_not_crawlable(link):
        return None
    try:
        url = clean_url(link)
    except ValueError:
        return None
    parts = urlsplit(url)
    if parts.path == "/" and not parts.query:
        return None  # a home page ("https://site.vn/", the channel link of a feed) is not an article
    if canonical_url(url) == _canonical_or_self(document_url):
        return None
    if same_site and _registered_domain(url) != _registered_domain(document_url):
        return None
    return url


def _canonical_or_self(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def _registered_domain(url: str) -> str:
    """The registered domain (vnexpress.net for e.vnexpress.net); the host itself for IPs and localhost."""
    return extract_domain(url, fast=True) or host_of(url)


def _parse_xml(text: str):
    """The root element, or None (JSON, text sitemaps, garbage). The parser settings are
    trafilatura's for sitemaps: recovering, no entity expansion, no network."""
    if not text.startswith("<"):
        return None
    parser = etree.XMLParser(encoding="utf-8", recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return None
    return root if root is not None and isinstance(root.tag, str) else None


def _localname(node) -> str | None:
    return etree.QName(node).localname if isinstance(node.tag, str) else None


def _dates_by_url(root, document_url: str, entries: tuple[str, ...], date_names: tuple[str, ...],
                  naive_tz: timezone) -> dict[str, datetime]:
    """Canonical URL -> latest date given for it, from feed items or sitemap entries.

    An entry's URL is its <loc>, its RSS <link> text or permalink <guid>, or its Atom
    <link href> (rel alternate or absent); its dates, any descendants named in date_names.
    """
    dates: dict[str, datetime] = {}
    if root is None:
        return dates
    for entry in root.iter():
        if _localname(entry) not in entries:
            continue
        found = [parse_date(node.text, naive_tz) for node in entry.iter() if _localname(node) in date_names]
        found = [when for when in found if when is not None]
        link = _entry_link(entry)
        if found and link:
            try:
                url = canonical_url(scrub_url(safe_relative_url(document_url, link)))
            except ValueError:
                continue
            dates[url] = max([*found, dates[url]] if url in dates else found)
    return dates


def _entry_link(entry) -> str | None:
    guid = None
    for child in entry:
        name = _localname(child)
        if name == "loc" and child.text:
            return child.text.strip()
        if name == "link" and _link_of(child):
            return _link_of(child)
        if name == "guid" and child.text and child.get("isPermaLink", "true") == "true":
            guid = child.text.strip()
    return guid


def _link_of(element) -> str | None:
    """An RSS <link>'s text, or an Atom <link>'s href when it is the alternate (page) link."""
    if element.get("href"):
        return element.get("href") if element.get("rel", "alternate") == "alternate" else None
    return element.text.strip() if element.text and element.text.strip() else None


def _own_links(root) -> list[str]:
    """The feed's own page links: RSS <channel><link>, Atom <feed><link rel="alternate">."""
    if root is None:
        return []
    containers = [root, *(child for child in root if _localname(child) == "channel")]
    return [link for container in containers for child in container
            if _localname(child) == "link" and (link := _link_of(child))]


def _json_feed_dates(text: str, naive_tz: timezone) -> dict[str, datetime]:
    """JSON Feed 1.x: items[].url (or id) with date_published / date_modified."""
    try:
        items = json.loads(text).get("items", [])
    except (ValueError, AttributeError, RecursionError):
        return {}
    dates: dict[str, datetime] = {}
    for item in items if isinstance(items, list) else []:
        link = item.get("url") or item.get("id") if isinstance(item, dict) else None
        if not isinstance(link, str):
            continue
        found = [parse_date(item.get(key), naive_tz) for key in ("date_published", "date_modified")]
        found = [when for when in found if when is not None]
        try:
            url = canonical_url(link)
        except ValueError:
            continue
        if found:
            dates[url] = max(found)
    return dates


def parse_date(value: object, naive_tz: timezone = VIETNAM) -> datetime | None:
    """A feed or sitemap date as UTC: W3C / ISO 8601 ('2024-05-01', '2024-05-01T10:00+07:00',
    '2024-05'), or RFC 822 ('Wed, 01 May 2024 10:00:00 +0700'). None when unreadable."""
    match = _YEAR_MONTH.match(value.strip()) if isinstance(value, str) else None
    if match:
        try:
            return datetime(int(match[1]), int(match[2] or 1), 1, tzinfo=naive_tz).astimezone(timezone.utc)
        except ValueError:  # month 13
            return None
    # Feeds write W3C or RFC 822 dates; a "22/11/2024" there may be month-first, so it is not read.
    parsed = parse_timestamp(value, naive_tz, datelines=False)
    return parsed[0].astimezone(timezone.utc) if parsed else None
