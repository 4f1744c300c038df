"""Web inputs: article URLs given or discovered from feeds and sitemaps, fetched as raw documents.

I/O only, no Prefect: the ingest flow feeds what this yields into its batches, exactly as
it does with local files.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator

from sources.config import Site, SourcesConfig
from sources.discover import archive_pages, discover_archives, discover_articles
from sources.fetch import FetchRequest, Fetcher, FetchResult, canonical_url, clean_url
from sources.guard import url_refusal
from transforms.models import HttpFacts, RawDocument, Reject
from transforms.revisions import Takedown, takedown_reason
from transforms.urls import site_of


@dataclass(frozen=True)
class StoredPageCheck:
    """A stored page to check again (a revisit), with what its stored version was cleaned with."""

    url: str
    rules_file: str | None = None
    sources_site: str | None = None


@dataclass(frozen=True)
class WebPlan:
    """What to fetch in one run."""

    urls: tuple[str, ...] = ()  # article pages named by the user: always fetched (conditionally)
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sources: SourcesConfig | None = None  # every site's feeds and sitemaps
    since: datetime | None = None  # sitemap lastmod range, for backfills
    until: datetime | None = None
    refetch: bool = False  # also fetch discovered URLs the warehouse already holds
    keep_undated: bool = True  # sitemap entries without lastmod (a backfill asks for dated ones only)
    read_archives: bool = False  # the sites' daily archive pages for [since, until) (backfills)
    # A revisit: only `checks`, stored pages checked again conditionally, are fetched; nothing
    # is discovered (the sources file, if any, gives the fetch settings and the sites' rules files).
    revisit: bool = False
    checks: tuple[StoredPageCheck, ...] = ()

    def __bool__(self) -> bool:
        if self.revisit:
            return bool(self.checks)
        return bool(self.urls or self.feeds or self.sitemaps or self.sources)


@dataclass(frozen=True)
class NotModified:
    """A URL whose stored copy is current: a 304, or skipped because the warehouse holds it."""

    source: str
    fetched_at: datetime | None  # None when it was not requested at all


@dataclass(frozen=True)
class NoArchive:
    """A daily archive page that answered 404: that day has no archive. Remembered, not rejected."""

    url: str
    reason: str


@dataclass(frozen=True)
class FetchedArchive:
    """An archive page read this run: any failure state it had is forgotten."""

    url: str


@dataclass
class WebReport:
    discovered: int = 0
    skipped_not_due: int = 0  # failed recently; asked again once its back-off has passed
    skipped_slow_host: int = 0
    no_archive: int = 0  # archive days without an archive page (404), this run and remembered


# (canonical URL) -> (etag, last_modified, already stored as an article or duplicate)
StateLookup = Callable[[list[str]], dict[str, tuple[str | None, str | None, bool]]]
# canonical URLs -> those that failed recently and are not due again yet
NotDueLookup = Callable[[list[str]], set[str]]
@dataclass(frozen=True)
class FailureBackoff:
    """How long a URL that failed waits before it is asked again: first_wait_seconds after
    the first failure, doubling with each failure in a row, at most max_wait_seconds.

    Chosen, not measured: an hourly schedule skips a URL that just failed for one run, and
    a page that keeps failing is still tried daily (sites restore pages, hosts recover).
    """

    first_wait_seconds: float = 1800.0
    max_wait_seconds: float = 86400.0


# Refusals that say nothing about the URL itself: asked again on the next run, whatever happened.
_NO_BACKOFF_PREFIXES = ("refused:", "invalid URL", "skipped:")


def backs_off(reason: str) -> bool:
    """Whether a fetch that failed for this reason waits its back-off before it is asked again."""
    return not reason.startswith(_NO_BACKOFF_PREFIXES)


def web_documents(
    plan: WebPlan, fetcher: Fetcher, states: StateLookup, report: WebReport, not_due: NotDueLookup = lambda urls: set(),
) -> Iterator[RawDocument | Reject | NotModified | NoArchive | FetchedArchive | Takedown]:
    """Discover, then fetch; every outcome is yielded, nothing raises for a bad URL or a bad page.

    URLs that failed recently (not_due) are not asked again until their back-off has
    passed, unless plan.refetch.
    """
    if plan.refetch or plan.revisit:
        not_due = lambda urls: set()  # noqa: E731
    feeds, sitemaps, archives = list(plan.feeds), list(plan.sitemaps), []
    sites_by_key: dict[str, Site] = {}
    if plan.sources is not None:
        for site in plan.sources.sites:
            if not plan.revisit:
                feeds += site.feeds
                sitemaps += site.sitemaps
                archives += site.archives
            sites_by_key.update((key, site) for key in site.site_keys)
    checks = {canonical_url(check.url): check for check in plan.checks}
    explicit: list[str] = [check.url for check in plan.checks]
    for url in plan.urls:
        refusal = url_refusal(url, allow_private=True)  # scheme and syntax here; addresses when fetched
        if refusal:
            yield Reject(url, "fetch", refusal)
        else:
            explicit.append(url)
    discovered: list[str] = []
    if feeds or sitemaps:
        found = discover_articles(fetcher, feeds, sitemaps, since=plan.since, until=plan.until, keep_undated=plan.keep_undated)
        for failure in found.failures:
            yield Reject(failure.source, "discover", failure.reason)
        discovered = [item.url for item in found.urls]
    if archives and plan.read_archives and plan.since and plan.until:
        pages = archive_pages(archives, plan.since, plan.until)
        known_missing = not_due([canonical_url(page) for page in pages])
        report.no_archive += len(known_missing)
        listed = discover_archives(fetcher, [page for page in pages if canonical_url(page) not in known_missing])
        for failure in listed.failures:
            if failure.status in (404, 410):
                report.no_archive += 1
                yield NoArchive(canonical_url(failure.source), f"no archive (HTTP {failure.status})")
            else:
                yield Reject(failure.source, "discover", failure.reason)
        yield from (FetchedArchive(canonical_url(page)) for page in listed.pages_read)
        discovered += [item.url for item in listed.urls]
    report.discovered = len(discovered)
    stored: set[str] = set()
    requests = list(_requests(explicit, discovered, plan.refetch, states, report, not_due, stored))
    for item in requests:
        if isinstance(item, NotModified):
            yield item
    wanted = [item for item in requests if isinstance(item, FetchRequest)]
    for result in fetcher.fetch_many(wanted):
        if result.skipped:  # not a reject: asked again next run
            report.skipped_slow_host += 1
            continue
        yield _outcome(result, sites_by_key, result.canonical_url in stored, checks.get(result.canonical_url))


def _requests(explicit: list[str], discovered: list[str], refetch: bool, states: StateLookup, report: WebReport,
              not_due: NotDueLookup, stored_keys: set[str]):
    """Conditional requests for what the warehouse has seen; discovered URLs it holds are skipped unless refetch,
    and URLs that failed recently until their back-off has passed. The URLs the warehouse holds go into stored_keys."""
    order: dict[str, tuple[str, bool]] = {}
    for url, named in [(u, True) for u in explicit] + [(u, False) for u in discovered]:
        key = canonical_url(url)
        if key not in order or named:
            order[key] = (clean_url(url), named or order.get(key, ("", False))[1])
    known = states(list(order))
    waiting = not_due(list(order))
    for key, (url, named) in order.items():
        if key in waiting and not named:  # a URL the user names is asked for now
            report.skipped_not_due += 1
            continue
        etag, modified, stored = known.get(key, (None, None, False))
        if stored:
            stored_keys.add(key)
        if stored and not named and not refetch:
            yield NotModified(key, None)
            continue
        yield FetchRequest(url, etag=etag, last_modified=modified)


def _outcome(result: FetchResult, sites_by_key: dict[str, Site], stored: bool,
             check: StoredPageCheck | None) -> RawDocument | Reject | NotModified | Takedown:
    """What one fetch gave. A stored page that is gone (404/410/451, or a redirect to the home
    or a section page) is a takedown; a new URL that redirects there is no article."""
    gone = takedown_reason(result.url, result.status, result.final_url)
    if gone and stored:
        return Takedown(result.canonical_url, gone, result.status, result.final_url, result.fetched_at)
    if result.reject_reason is not None:
        return Reject(result.canonical_url, "fetch", result.reject_reason)
    if gone:
        return Reject(result.canonical_url, "fetch", f"no article: {gone}")
    if result.not_modified:
        return NotModified(result.canonical_url, result.fetched_at)
    http = HttpFacts(
        final_url=result.final_url, status=result.status, content_type=result.content_type,
        charset=result.charset, etag=result.etag, last_modified=result.last_modified,
    )
    site = sites_by_key.get(site_of(result.canonical_url) or "")
    if site is not None:
        rules_file, sources_site = (str(site.rules) if site.rules else None), site.name
    else:  # a check without the sources file: cleaned as its stored version was
        rules_file, sources_site = (check.rules_file, check.sources_site) if check else (None, None)
    return RawDocument(
        source=result.canonical_url, content=result.body or b"", received_at=result.fetched_at, http=http,
        rules_file=rules_file, sources_site=sources_site,
    )
