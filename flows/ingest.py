"""The `ingest` flow: local files and folders -> raw documents -> articles -> the warehouse.

The flow only orchestrates: it reads inputs lazily, hands each batch to a transform task
(CPU-bound, on a process pool) and a load task (one transaction per batch, one writer),
and records the run in `runs`.
"""
from __future__ import annotations

import time
from datetime import datetime
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Iterable, Iterator

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
# quote(): Prefect otherwise walks every parameter to find futures; for a batch of
# documents and their shingle sets that walk cost 21 s of a 28 s run of 3,000 articles.
from prefect.utilities.annotations import quote

from flows.parallel import TransformPool, default_workers
from flows.sources import discover, iter_documents
from transforms.models import Processed, RawDocument, Reject
from warehouse.connection import opened, resolve_path
from warehouse.loader import BatchCounts, finish_run, known_documents, load_batch, start_run

# Documents per batch: one load transaction each. 500 keeps a batch of real articles
# (~1.5 MB of text) small in memory while making per-transaction overhead negligible.
DEFAULT_BATCH_SIZE = 500


@dataclass
class RunSummary:
    run_id: str
    database: str
    read: int = 0
    unchanged: int = 0
    loaded: int = 0
    duplicates: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    reject_reasons: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {key: value for key, value in asdict(self).items() if isinstance(value, int)}


@task(name="transform-batch", cache_policy=NO_CACHE)
def transform_task(documents: list[RawDocument], pool: TransformPool) -> list[Processed]:
    return pool.transform(documents)


@task(name="load-batch", cache_policy=NO_CACHE)
def load_task(
    db: str, run_id: str, results: list[Processed], read_rejects: list[Reject], seen_at: datetime
) -> BatchCounts:
    with opened(db) as con:
        return load_batch(con, run_id, results, read_rejects, seen_at)


@flow(name="ingest", log_prints=False)
def ingest(paths: list[str], db: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE, workers: int = 0) -> RunSummary:
    """Read text dumps, HTML pages and JSON Lines corpora from files and folders into the warehouse."""
    logger = get_run_logger()
    started = time.perf_counter()
    database = str(resolve_path(db))
    run_id = str(flow_run.id or f"local-{time.time_ns()}")
    summary = RunSummary(run_id=run_id, database=database)
    with opened(database) as con:
        seen_at = start_run(con, run_id, "ingest", {"paths": paths, "db": database, "batch_size": batch_size})
    pool = TransformPool(workers or default_workers())
    status, message = "failed", None
    try:
        inputs, missing = discover(paths)
        logger.info("%d input files under %d paths; %d paths unusable", len(inputs), len(paths), len(missing))
        if missing:
            load_task(database, run_id, [], quote(missing), seen_at)
            _record_rejects(summary, missing)
        # Transform batch k+1 on the worker processes while this thread loads batch k.
        pending = None
        for number, batch in enumerate(_batches(iter_documents(inputs), batch_size), start=1):
            documents = [item for item in batch if isinstance(item, RawDocument)]
            new_documents = _unseen(database, documents)
            summary.unchanged += len(documents) - len(new_documents)
            summary.read += len(new_documents)
            transformed = transform_task.submit(quote(new_documents), pool) if new_documents else None
            if pending:
                _load_pending(pending, database, run_id, seen_at, summary, logger)
            pending = (number, batch, len(new_documents), transformed)
        if pending:
            _load_pending(pending, database, run_id, seen_at, summary, logger)
        status = "completed"
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        raise
    finally:
        pool.close()
        summary.seconds = round(time.perf_counter() - started, 3)
        with opened(database) as con:
            finish_run(con, run_id, status, summary.counts(), message)
    logger.info("run %s: %s", run_id, summary.counts())
    return summary


def _load_pending(pending, database: str, run_id: str, seen_at: datetime, summary: RunSummary, logger) -> None:
    number, batch, new_count, transformed = pending
    results = transformed.result() if transformed is not None else []
    read_rejects = [item for item in batch if isinstance(item, Reject)]
    counts = load_task(database, run_id, quote(results), quote(read_rejects), seen_at)
    _record_rejects(summary, read_rejects + [r.reject for r in results if r.reject])
    summary.loaded += counts.loaded
    summary.duplicates += counts.duplicates
    summary.exact_duplicates += counts.exact
    summary.near_duplicates += counts.near
    logger.info(
        "batch %d: %d documents, %d new, %d loaded, %d duplicates (%d exact, %d near), %d rejected, %d clusters re-canonicalised",
        number, len(batch), new_count, counts.loaded, counts.duplicates, counts.exact, counts.near, counts.rejected,
        counts.recanonicalised,
    )


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, max(1, size))):
        yield batch


def _unseen(database: str, documents: list[RawDocument]) -> list[RawDocument]:
    """Documents whose exact bytes from the same source are not in the warehouse yet."""
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
        summary.reject_reasons[reject.reason] = summary.reject_reasons.get(reject.reason, 0) + 1
