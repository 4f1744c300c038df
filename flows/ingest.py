"""The `ingest` flow: files, folders, URLs, feeds, sitemaps and sources files -> the warehouse.

The flow only orchestrates: it reads local inputs lazily and fetches web inputs through one
polite Fetcher, hands each batch to a transform task (CPU-bound: local processes or a Dask
cluster) and a load task (one transaction per batch, one writer), and records the run in `runs`.
"""
from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
# quote(): Prefect otherwise walks every parameter to find futures; for a batch of
# documents that walk cost 21 s of a 28 s run of 3,000 articles.
from prefect.utilities.annotations import quote

from sources.config import ConfigError, SourcesConfig, load_sources
from sources.fetch import Fetcher, FetchSettings
from sources.guard import is_private_refusal
from flows.parallel import RunnerSettings
from flows.runs import RunCounts, batch_done, transform_task, transforming, writing_run
from sources.files import find_inputs, iter_documents
from sources.web import (
    FailureBackoff, FetchedArchive, NoArchive, NotModified, StoredPageCheck, WebPlan, WebReport, backs_off,
    web_documents,
)
from transforms.clean import load_cleaning_rules
from transforms.dates import parse_moment, utc_now
from transforms.models import Processed, RawDocument, Reject
from transforms.revisions import Takedown
from transforms.urls import site_of
from warehouse.connection import opened
from warehouse.location import resolve_path
from warehouse.clusters import BatchCounts
from warehouse.fetch_state import FetchFailure, FetchFailureUpdate, fetch_states, urls_not_due
from warehouse.loader import known_documents, load_batch
from warehouse.revisions import pages_to_revisit

# Documents per batch: one load transaction each. Measured on the 21,448 baomoi articles
# (flow time / peak RSS of the main process): 500 -> 50.8 s, 1000 -> 35.9 s / 0.65 GB,
# 2000 -> 27.1 s, 4000 -> 24.6 s / 0.93 GB. Each batch pays a fixed cost (task runs, a
# connection and its checkpoint, the dedup queries); 2000 gets most of the gain.
DEFAULT_BATCH_SIZE = 2000
# A batch is also closed after this many seconds, so a slow web crawl (one request per
# second per host) is loaded as it goes instead of once 2000 pages have arrived.
BATCH_SECONDS = 30.0


@dataclass
class RunSummary(RunCounts):
    discovered: int = 0
    skipped_not_due: int = 0  # failed recently, not asked again yet (per-URL back-off)
    skipped_slow_host: int = 0  # not asked: their host was too slow too often this run
    no_archive: int = 0  # archive days that have no archive page
    refused_private: int = 0  # URLs refused because they resolve to private addresses
    revised: int = 0  # stored articles whose text or title changed (a new version)
    removed: int = 0  # stored pages found taken down
    restored: int = 0  # taken-down pages back
    reject_reasons: dict[str, int] = field(default_factory=dict)


@task(name="load-batch", cache_policy=NO_CACHE)
def load_task(
    db: str, run_id: str, results: list[Processed], read_rejects: list[Reject], seen_at: datetime,
    not_modified: list[NotModified], failures: FetchFailureUpdate, unchanged: list[RawDocument],
    takedowns: list[Takedown],
) -> BatchCounts:
    with opened(db) as con:
        return load_batch(
            con, run_id, results, read_rejects, seen_at,
            not_modified=[(item.source, item.fetched_at) for item in not_modified if item.fetched_at is not None],
            failures=failures, unchanged=unchanged, takedowns=takedowns,
        )


@flow(name="ingest", log_prints=False)
def ingest(
    paths: list[str] | None = None,
    db: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 0,
    urls: list[str] | None = None,
    feeds: list[str] | None = None,
    sitemaps: list[str] | None = None,
    sources: str | None = None,
    sites: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    allow_private: bool = False,
    refetch: bool = False,
    runner: str | None = None,
    dask_address: str | None = None,
) -> RunSummary:
    """Load text dumps, HTML pages and JSON Lines corpora from files and folders, and articles
    from the web (pages, RSS/Atom feeds, sitemaps, or every site of a sources file).

    sites picks sites of the sources file by name (default: all); since/until (ISO 8601)
    bound sitemap lastmod; refetch also re-requests discovered articles already stored
    (conditionally: a 304 costs nothing); allow_private permits private and loopback
    addresses (tests, intranets).

    runner is where the transforms run: "local" (`workers` processes, default one per core)
    or "dask" (the Dask scheduler at dask_address, else a LocalCluster of `workers`
    processes); an address alone means dask; without either, $TINBAI_RUNNER and
    $TINBAI_DASK_ADDRESS, else local.
    """
    parameters = {
        "paths": paths, "batch_size": batch_size, "urls": urls, "feeds": feeds, "sitemaps": sitemaps,
        "sources": sources, "sites": sites, "since": since, "until": until, "allow_private": allow_private,
        "refetch": refetch,
    }
    return _load_inputs(
        "ingest", parameters, paths or [], lambda: _web_plan(urls, feeds, sitemaps, sources, sites, since, until, refetch),
        db, batch_size, lambda: RunnerSettings.resolve(runner, dask_address, workers), allow_private,
    )


@flow(name="backfill", log_prints=False)
def backfill(
    sources: str,
    since: str,
    until: str,
    sites: list[str] | None = None,
    db: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 0,
    allow_private: bool = False,
    refetch: bool = False,
    runner: str | None = None,
    dask_address: str | None = None,
) -> RunSummary:
    """Fetch what the sources' sitemaps list as modified in [since, until) (ISO 8601), and
    what their daily archive pages (`archives` in the sources file) list for those days.

    Undated sitemap entries are left out: a backfill asks for a period. Articles already
    stored are not fetched again (unless refetch), so a backfill that crashed resumes where
    its last committed batch ended when it is run again with the same parameters.

    runner and dask_address pick where the transforms run, as for `ingest`.
    """
    parameters = {"sources": sources, "sites": sites, "since": since, "until": until, "batch_size": batch_size,
                  "allow_private": allow_private, "refetch": refetch}

    def plan() -> WebPlan:
        web = _web_plan(None, None, None, sources, sites, since, until, refetch, backfilling=True)
        if web.since is None or web.until is None or web.since >= web.until:
            raise ValueError("backfill needs since before until")
        return web

    return _load_inputs("backfill", parameters, [], plan, db, batch_size,
                        lambda: RunnerSettings.resolve(runner, dask_address, workers), allow_private)


def _load_inputs(
    flow_name: str, parameters: dict, paths: list[str], make_plan, db: str | None, batch_size: int,
    make_runner, allow_private: bool,
) -> RunSummary:
    """make_plan and make_runner check the run's parameters; they are called inside the run,
    so a run refused for a bad parameter is recorded in `runs` as failed, with why."""
    logger = get_run_logger()
    started = time.perf_counter()
    summary = RunSummary(run_id="", database=str(resolve_path(db)), flow=flow_name)
    with writing_run(db, flow_name, parameters, summary) as run:
        summary.run_id = run.run_id
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        plan = make_plan()
        try:
            with transforming(make_runner()) as transformer, ExitStack() as stack:
                inputs, missing = find_inputs(paths)
                logger.info("%d input files under %d paths; %d paths unusable", len(inputs), len(paths), len(missing))
                stream: Iterable = chain(missing, iter_documents(inputs))
                report = WebReport()
                if plan:
                    settings = (plan.sources.fetch_settings(allow_private=allow_private) if plan.sources
                                else FetchSettings(allow_private=allow_private))
                    fetcher = stack.enter_context(Fetcher(settings))
                    states = lambda keys: _with_connection(run.database, fetch_states, keys)  # noqa: E731
                    not_due = lambda keys: _with_connection(run.database, urls_not_due, keys, utc_now())  # noqa: E731
                    stream = chain(stream, web_documents(plan, fetcher, states, report, not_due))
                _run_batches(stream, batch_size, transformer, run.database, run.run_id, run.seen_at, summary, logger)
                summary.discovered = len(plan.checks) if plan.revisit else report.discovered
                summary.skipped_not_due = report.skipped_not_due
                summary.skipped_slow_host = report.skipped_slow_host
                summary.no_archive = report.no_archive
        finally:
            summary.seconds = round(time.perf_counter() - started, 3)
    logger.info("run %s: %s", summary.run_id, summary.counts())
    return summary


@flow(name="revisit", log_prints=False)
def revisit(
    db: str | None = None,
    sources: str | None = None,
    all_recent: bool = False,
    allow_private: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 0,
    runner: str | None = None,
    dask_address: str | None = None,
) -> RunSummary:
    """Check stored pages again for edits and takedowns, each on its decaying schedule
    (1 h, 6 h, 1 day, 3 days and 7 days after it was first seen: transforms.revisions), with
    conditional GETs, so an unchanged page costs a 304.

    A changed text or title becomes a new row of `article_versions` (and the article is
    rebuilt); a page that answers 404/410/451 or redirects to its site's home or a section
    page opens a `takedowns` row, closed when it answers with the article again.
    all_recent checks every page first seen in the last 7 days now, due or not; sources
    limits the checks to that file's sites (and fetches with its settings and rules files).
    """
    parameters = {"sources": sources, "all_recent": all_recent, "allow_private": allow_private, "batch_size": batch_size}

    def plan() -> WebPlan:
        config = _sources_config(sources, None)
        with opened(str(resolve_path(db))) as con:
            pages = pages_to_revisit(con, utc_now(), every_recent=all_recent)
        if config is not None:
            hosts = {key for site in config.sites for key in site.site_keys}
            pages = [page for page in pages if (site_of(page.url) or "") in hosts]
        return WebPlan(sources=config, revisit=True,
                       checks=tuple(StoredPageCheck(page.url, page.rules_file, page.sources_site) for page in pages))

    return _load_inputs("revisit", parameters, [], plan, db, batch_size,
                        lambda: RunnerSettings.resolve(runner, dask_address, workers), allow_private)


def _sources_config(sources: str | None, sites: list[str] | None) -> SourcesConfig | None:
    """The sources file (only the named sites), its sites' rules files checked now rather than in a worker."""
    config = load_sources(Path(sources)) if sources else None
    if config is not None and sites:
        config = _only_sites(config, sites)
    for site in config.sites if config else ():
        if site.rules is not None:
            load_cleaning_rules(site.rules)
    return config


def _web_plan(urls, feeds, sitemaps, sources, sites, since, until, refetch, backfilling: bool = False) -> WebPlan:
    since_moment, until_moment = parse_moment("since", since), parse_moment("until", until)
    config = _sources_config(sources, sites)
    return WebPlan(
        urls=tuple(urls or ()), feeds=tuple(feeds or ()), sitemaps=tuple(sitemaps or ()), sources=config,
        since=since_moment, until=until_moment,
        refetch=refetch, keep_undated=not backfilling, read_archives=backfilling,
    )


def _only_sites(config: SourcesConfig, names: list[str]) -> SourcesConfig:
    known = [site.name for site in config.sites]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(f"{config.path}: no site named {', '.join(map(repr, unknown))} (sites: {', '.join(known)})")
    return replace(config, sites=tuple(site for site in config.sites if site.name in names))


def _with_connection(database: str, function, *args):
    with opened(database) as con:
        return function(con, *args)


def _run_batches(stream, batch_size, transformer, database, run_id, seen_at, summary, logger) -> None:
    """Transform batch k+1 on the workers while this thread loads batch k."""
    pending = None
    for number, batch in enumerate(_batches(stream, batch_size), start=1):
        documents = [item for item in batch if isinstance(item, RawDocument)]
        new_documents = _unseen(database, documents)
        new_ids = {document.document_id for document in new_documents}
        # Fetched again with the bytes stored: not transformed, but their fetch state and version move on.
        fetched_again = [d for d in documents if d.document_id not in new_ids and d.http]
        unchanged = len(documents) - len(new_documents) + sum(isinstance(item, NotModified) for item in batch)
        summary.unchanged += unchanged
        summary.read += len(new_documents)
        transformed = transform_task.submit(quote(new_documents), transformer) if new_documents else None
        if pending:
            _load_pending(pending, database, run_id, seen_at, summary, logger)
        pending = (number, batch, len(new_documents), transformed, fetched_again)
    if pending:
        _load_pending(pending, database, run_id, seen_at, summary, logger)


def _load_pending(pending, database: str, run_id: str, seen_at: datetime, summary: RunSummary, logger) -> None:
    number, batch, new_count, transformed, fetched_again = pending
    results = transformed.result() if transformed is not None else []
    read_rejects = [item for item in batch if isinstance(item, Reject)]
    not_modified = [item for item in batch if isinstance(item, NotModified)]
    takedowns = [item for item in batch if isinstance(item, Takedown)]
    counts = load_task(database, run_id, quote(results), quote(read_rejects), seen_at, quote(not_modified),
                       quote(_fetch_failures(batch, read_rejects)), quote(fetched_again), quote(takedowns))
    _record_rejects(summary, read_rejects + [r.reject for r in results if r.reject])
    summary.loaded += counts.loaded
    summary.duplicates += counts.duplicates
    summary.exact_duplicates += counts.exact
    summary.near_duplicates += counts.near
    summary.revised += counts.revised
    summary.removed += counts.removed
    summary.restored += counts.restored
    batch_done(summary.flow, number, len(batch))
    logger.info(
        "batch %d: %d inputs, %d new, %d loaded, %d duplicates (%d exact, %d near), %d rejected,"
        " %d clusters re-canonicalised",
        number, len(batch), new_count, counts.loaded, counts.duplicates, counts.exact, counts.near, counts.rejected,
        counts.recanonicalised,
    )


def _fetch_failures(batch: list, read_rejects: list[Reject], backoff: FailureBackoff = FailureBackoff()):
    """The batch's changes to the per-URL failure state: what failed (and waits), what was fetched (and is forgiven)."""
    now = utc_now()
    failed = [FetchFailure(r.source, "page", r.reason, now) for r in read_rejects if r.stage == "fetch" and backs_off(r.reason)]
    failed += [FetchFailure(item.url, "archive", item.reason, now) for item in batch if isinstance(item, NoArchive)]
    succeeded = [item.source for item in batch if isinstance(item, RawDocument) and item.http is not None]
    succeeded += [item.source for item in batch if isinstance(item, NotModified) and item.fetched_at is not None]
    succeeded += [item.url for item in batch if isinstance(item, FetchedArchive)]
    return FetchFailureUpdate(failed, succeeded, backoff.first_wait_seconds, backoff.max_wait_seconds)


def _batches(items: Iterable, size: int, seconds: float = BATCH_SECONDS) -> Iterator[list]:
    """Lists of up to `size` items, each closed early once `seconds` have passed since it began."""
    batch: list = []
    opened_at = time.monotonic()
    for item in items:
        if not batch:
            opened_at = time.monotonic()
        batch.append(item)
        if len(batch) >= size or time.monotonic() - opened_at >= seconds:
            yield batch
            batch = []
    if batch:
        yield batch


def _unseen(database: str, documents: list[RawDocument]) -> list[RawDocument]:
    """Documents whose exact bytes from the same source are not in the warehouse yet."""
    if not documents:
        return []
    with opened(database) as con:
        known = known_documents(con, [document.document_id for document in documents])
    seen_in_batch: set[str] = set()
    unseen = []
    for document in documents:
        if document.document_id in known or document.document_id in seen_in_batch:
            continue
        seen_in_batch.add(document.document_id)
        unseen.append(document)
    return unseen


def _record_rejects(summary: RunSummary, rejects: list[Reject]) -> None:
    for reject in rejects:
        summary.rejected += 1
        if is_private_refusal(reject.reason):
            summary.refused_private += 1
        summary.reject_reasons[reject.reason] = summary.reject_reasons.get(reject.reason, 0) + 1
