"""Loading a batch into the warehouse in one transaction: all of it or none.

Raw documents, rejects and the fetch state of what was fetched are stored; articles are
deduplicated against the warehouse (warehouse.clusters) and their enrichment stored.
"""
from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from transforms.dates import utc_now
from transforms.models import Processed, RawDocument, Reject
from transforms.revisions import Takedown
from warehouse.arrow import TIMESTAMP, insert_rows, registered
from warehouse.clusters import BatchCounts, article_id_for, settle_clusters
from warehouse.fetch_state import FetchFailureUpdate, record_fetch_failures, record_fetches
from warehouse.revisions import mark_seen, record_restorations, record_takedowns, record_versions
from warehouse.transaction import transaction

RAW_COLUMNS = {
    "document_id": pa.string(), "source": pa.string(), "format": pa.string(), "content_hash": pa.string(),
    "size_bytes": pa.int64(), "received_at": TIMESTAMP, "content": pa.large_binary(), "run_id": pa.string(),
    "final_url": pa.string(), "http_status": pa.int32(), "content_type": pa.string(), "charset": pa.string(),
    "etag": pa.string(), "last_modified": pa.string(), "rules_file": pa.string(),
    "sources_site": pa.string(),
}
REF_COLUMNS = {
    "article_id": pa.string(), "code": pa.string(), "kind": pa.string(), "number": pa.string(), "issuer": pa.string(),
    "mention": pa.string(), "position": pa.int32(),
}
PEOPLE_COLUMNS = {
    "article_id": pa.string(), "name": pa.string(), "position": pa.string(), "honorific": pa.string(),
    "mention": pa.string(), "start": pa.int32(),
}
REJECT_COLUMNS = {
    "source": pa.string(), "content_hash": pa.string(), "stage": pa.string(), "reason": pa.string(),
    "run_id": pa.string(), "rejected_at": TIMESTAMP,
}


def known_documents(con: duckdb.DuckDBPyConnection, document_ids: list[str]) -> set[str]:
    """Which of these raw documents (same source, same bytes) the warehouse already holds."""
    if not document_ids:
        return set()
    with registered(con, batch_ids={"document_id": pa.array(document_ids, pa.string())}):
        rows = con.execute(
            "SELECT r.document_id FROM raw_documents r JOIN batch_ids b ON r.document_id = b.document_id"
        ).fetchall()
    return {row[0] for row in rows}


def load_batch(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: list[Processed],
    read_rejects: list[Reject] = (),
    seen_at: datetime | None = None,
    not_modified: list[tuple[str, datetime]] = (),
    failures: FetchFailureUpdate | None = None,
    unchanged: list[RawDocument] = (),
    takedowns: list[Takedown] = (),
) -> BatchCounts:
    """Load one batch in one transaction: raw documents, rejects, and articles deduplicated against the warehouse.

    not_modified: (URL, time) of 304 answers, whose fetch state is brought up to date;
    failures: the batch's fetch failures and successes, for the per-URL back-off;
    unchanged: documents fetched again with the bytes stored (their fetch state and version are current);
    takedowns: stored pages found gone.
    """
    fetched_again = [document for document in unchanged if document.http is not None]
    answered = list(not_modified) + [(document.source, document.received_at) for document in fetched_again]
    with transaction(con):
        record_fetches(con, fetched_again, not_modified)
        if failures is not None:
            record_fetch_failures(con, failures.failed, failures.succeeded, failures.first_wait_seconds,
                                  failures.max_wait_seconds)
        counts = load_articles(con, run_id, results, list(read_rejects), seen_at or utc_now())
        mark_seen(con, answered)
        counts.removed = record_takedowns(con, list(takedowns), run_id)
        counts.restored = record_restorations(con, answered + [
            (r.document.source, r.document.received_at) for r in results if r.article is not None and r.document.http])
        return counts


def load_articles(
    con, run_id: str, results: list[Processed], read_rejects: list[Reject], seen_at: datetime, record_fetch: bool = True
) -> BatchCounts:
    """The body of load_batch, for callers that hold a transaction of their own.

    record_fetch=False when the documents were fetched in the past (reprocess): their
    fetch state is already newer.
    """
    now = utc_now()
    counts = BatchCounts()
    insert_rows(con, "raw_documents", RAW_COLUMNS, [_raw_row(r.document, r.format, run_id) for r in results],
            key=("document_id",))
    if record_fetch:
        record_fetches(con, [r.document for r in results if r.document.http is not None])
    rejects = read_rejects + [r.reject for r in results if r.reject is not None]
    insert_rows(con, "rejects", REJECT_COLUMNS, [
        {"source": r.source, "content_hash": r.content_hash, "stage": r.stage, "reason": r.reason,
         "run_id": run_id, "rejected_at": now}
        for r in rejects
    ], key=("source", "content_hash", "stage", "reason"))
    counts.rejected = len(rejects)
    fresh = _last_version_per_source([r for r in results if r.article is not None])
    if not fresh:
        return counts
    settle_clusters(con, fresh, run_id, seen_at, now, counts)
    store_enrichment(con, fresh)
    counts.revised = record_versions(con, fresh, run_id, rebuilt=not record_fetch)
    return counts


def store_enrichment(con, results: list[Processed], replace: bool = False) -> None:
    """The documents each member cites and the people it names; `replace` drops what was stored for them first."""
    ids = [article_id_for(result.article.source) for result in results]
    if replace and ids:
        with registered(con, batch_members={"member_id": pa.array(ids, pa.string())}):
            for table in ("document_refs", "people"):
                con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT member_id FROM batch_members)")
    enriched = [(member_id, result.enrichment) for member_id, result in zip(ids, results) if result.enrichment]
    insert_rows(con, "document_refs", REF_COLUMNS, [
        {"article_id": member_id, "code": ref.code, "kind": ref.kind, "number": ref.number, "issuer": ref.issuer,
         "mention": ref.mention, "position": ref.start}
        for member_id, enrichment in enriched for ref in enrichment.document_refs
    ], key=("article_id", "code"))
    insert_rows(con, "people", PEOPLE_COLUMNS, [
        {"article_id": member_id, "name": person.name, "position": person.position, "honorific": person.honorific,
         "mention": person.mention, "start": person.start}
        for member_id, enrichment in enriched for person in enrichment.people
    ], key=("article_id", "name", "start"))


def _raw_row(document, format_: str, run_id: str) -> dict:
    http = document.http
    return {
        "document_id": document.document_id, "source": document.source, "format": format_,
        "content_hash": document.content_hash, "size_bytes": len(document.content),
        "received_at": document.received_at, "content": document.content, "run_id": run_id,
        "final_url": http and http.final_url, "http_status": http and http.status,
        "content_type": http and http.content_type, "charset": http and http.charset,
        "etag": http and http.etag, "last_modified": http and http.last_modified,
        "rules_file": document.rules_file, "sources_site": document.sources_site,
    }


def _last_version_per_source(results: list[Processed]) -> list[Processed]:
    """One result per source: if a batch holds two versions of one input, the later one wins."""
    by_source = {result.article.source: result for result in results}
    return list(by_source.values())
