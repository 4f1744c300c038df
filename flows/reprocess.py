"""The `reprocess` flow: run cleaning, metadata and dedup again over stored raw documents, without fetching.

When the extractor, the cleaning rules or the enrichment rules change, members (articles
and duplicates) built by other versions are rebuilt from their raw bytes, each with the
rules file it was cleaned with (a site's own, recorded in raw_documents.rules_file). A member whose fields come out the same
only gets its versions updated; one that changed is replaced in place (same article_id,
first seen time kept) and its cluster is settled again, so no duplicate row is created.
Batches go in keyset order of source and each commits with its progress row, so a job
that crashed resumes after its last committed batch when run again with the same
parameters.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.utilities.annotations import quote

from flows.ingest import DEFAULT_BATCH_SIZE
from flows.parallel import RunnerSettings
from flows.runs import RunCounts, batch_done, transform_task, transforming, writing_run
from sources.config import SourcesConfig, load_sources
from transforms.clean import load_cleaning_rules
from transforms.dates import parse_moment, utc_now
from transforms.models import FORMATS, Processed
from transforms.rulefile import RulesError
from transforms.rules import article_versions, rules_for
from transforms.urls import site_of
from warehouse.connection import opened
from warehouse.location import resolve_path
from warehouse.loader import load_articles
from warehouse.transaction import transaction
from warehouse.reprocessing import (
    CurrentVersions, Selection, assign_sites, fetched_members, finish_job, job_cursor, rebuilt_fields,
    record_progress, select_batch, stored_fields, stored_rules_files, update_versions,
)


@dataclass
class ReprocessSummary(RunCounts):
    """read: members rebuilt; loaded: of which changed, replaced in place; unchanged: of which
    only the versions were updated; rejected: rebuilds the cleaner now refuses (the stored
    member is kept); duplicates: changed members that now join another cluster."""

    batches: int = 0
    resumed_after: int = 0  # batches an earlier, interrupted run of this job had committed


@flow(name="reprocess", log_prints=False)
def reprocess(
    db: str | None = None,
    since: str | None = None,
    until: str | None = None,
    site: str | None = None,
    all_versions: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 0,
    runner: str | None = None,
    dask_address: str | None = None,
    sources: str | None = None,
) -> ReprocessSummary:
    """Rebuild stored articles and duplicates from their raw documents.

    since/until (ISO 8601) bound published_at; site picks one site; by default only members
    whose stored versions (extractor, cleaning rules, enrichment rules: see
    transforms.rules.article_versions) differ from today's are rebuilt, each with the rules
    file it was cleaned with; all_versions rebuilds every selected member. With sources (a
    sources file), fetched documents of its sites first take the rules file their site names
    now (documents stored before the site had its own rules, or whose rules file moved).
    runner and dask_address pick where the transforms run, as for `ingest`.
    """
    logger = get_run_logger()
    started = time.perf_counter()
    parameters = {"since": since, "until": until, "site": site, "all_versions": all_versions, "batch_size": batch_size,
                  "sources": sources}
    summary = ReprocessSummary(run_id="", database=str(resolve_path(db)), flow="reprocess")
    with writing_run(db, "reprocess", parameters, summary) as run:
        summary.run_id = run.run_id
        # Checked inside the run: a run refused for a bad parameter is in `runs`, failed, with why.
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        runner_settings = RunnerSettings.resolve(runner, dask_address, workers)
        if sources:
            reassigned = _rules_from_sources(run.database, load_sources(Path(sources)))
            if reassigned:
                logger.info("%d stored documents take their site and its rules file from %s", reassigned, sources)
        with opened(run.database) as con:
            rules_files = stored_rules_files(con)
        selection = Selection(
            since=parse_moment("since", since), until=parse_moment("until", until),
            site=site, outdated_only=not all_versions, current=current_versions(rules_files),
        )
        job_key = _job_key(parameters, selection)
        with opened(run.database) as con:
            done, after = job_cursor(con, job_key)
        summary.resumed_after = done
        if done:
            logger.info("resuming job %s after batch %d (source %r)", job_key, done, after)
        try:
            with transforming(runner_settings) as transformer:
                batch_number = done
                while True:
                    with opened(run.database) as con:
                        documents = select_batch(con, selection, after, batch_size)
                    if not documents:
                        break
                    batch_number += 1
                    results = transform_task(quote(documents), transformer)
                    after = documents[-1].source
                    _store(run, results, job_key, batch_number, after, summary)
                    summary.batches += 1
                    batch_done("reprocess", batch_number, len(documents))
                    logger.info("batch %d: %d rebuilt, %d changed so far, %d unchanged, %d now rejected",
                                batch_number, len(documents), summary.loaded, summary.unchanged, summary.rejected)
                with opened(run.database) as con:
                    finish_job(con, job_key)
        finally:
            summary.seconds = round(time.perf_counter() - started, 3)
    logger.info("reprocess %s: %s", summary.run_id, summary.counts())
    return summary


def _store(run, results: list[Processed], job_key: str, batch: int, last_source: str, summary: ReprocessSummary):
    """One transaction: versions of unchanged members, changed members re-settled, the job's progress."""
    rebuilt = [result for result in results if result.article is not None]
    summary.read += len(results)
    summary.rejected += len(results) - len(rebuilt)
    with opened(run.database) as con:
        stored = stored_fields(con, [result.article.source for result in rebuilt])
        changed = [r for r in rebuilt if stored.get(r.article.source) != rebuilt_fields(r)]
        same = [r for r in rebuilt if stored.get(r.article.source) == rebuilt_fields(r)]
        with transaction(con):
            update_versions(con, same, run.run_id)
            counts = load_articles(con, run.run_id, changed, [], run.seen_at, record_fetch=False)
            record_progress(con, job_key, batch, last_source, run.run_id, utc_now())
    summary.unchanged += len(same)
    summary.loaded += len(changed)
    summary.duplicates += counts.duplicates
    summary.exact_duplicates += counts.exact
    summary.near_duplicates += counts.near


def _rules_from_sources(database: str, config: SourcesConfig) -> int:
    """Fetched documents of the sources file's sites take their site's name and the rules file
    it names now (none: the default rules): documents stored before their site had its own
    rules or before the site was recorded, or whose rules file moved. Returns how many changed."""
    by_site: dict[str, tuple[str | None, str]] = {}
    for site in config.sites:
        if site.rules is not None:
            load_cleaning_rules(site.rules)  # a malformed rules file fails the run now, not in a worker
        by_site.update((key, (str(site.rules) if site.rules else None, site.name)) for key in site.site_keys)
    with opened(database) as con:
        changes = {
            document_id: by_site[key] for document_id, source, stored in fetched_members(con)
            if (key := site_of(source) or "") in by_site and by_site[key] != stored
        }
        with transaction(con):
            assign_sites(con, changes)
    return len(changes)


def current_versions(rules_files: list[str]) -> tuple[CurrentVersions, ...]:
    """What each format gets today with the default rules ('') and with each stored site rules file.

    A rules file that stored documents were cleaned with and that is gone or broken stops
    the run: rebuilding those documents with other rules would quietly change them.
    """
    current = []
    for rules_file in ["", *rules_files]:
        try:
            rules = rules_for(rules_file or None)
        except RulesError as error:
            raise RulesError(f"stored documents were cleaned with rules that cannot be read now: {error}") from None
        for format_ in FORMATS:
            versions = article_versions(format_, rules)
            current.append(CurrentVersions(format_, rules_file, versions.extractor, versions.cleaner,
                                           versions.enrichment))
    return tuple(current)


def _job_key(parameters: dict, selection: Selection) -> str:
    identity = {**parameters, "versions": [asdict(row) for row in selection.current]}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
