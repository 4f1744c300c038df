"""What the web path remembers per URL: `fetch_state` (what a conditional GET sends back next
time) and `fetch_failures` (the per-URL back-off after a failure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from warehouse.arrow import TIMESTAMP, arrow_columns, registered

FETCH_COLUMNS = {
    "url": pa.string(), "final_url": pa.string(), "http_status": pa.int32(), "etag": pa.string(),
    "last_modified": pa.string(), "content_hash": pa.string(), "last_fetched_at": TIMESTAMP, "last_changed_at": TIMESTAMP,
}


def record_fetches(con, documents: list, not_modified: list[tuple[str, datetime]] = ()) -> None:
    """Remember per URL what a conditional GET sends back next time; a 304 only moves last_fetched_at.

    An upsert by MERGE (DuckDB and DuckLake alike; DuckLake has no keys for ON CONFLICT);
    the last fetch of a URL in the batch wins.
    """
    latest = {d.source: d for d in documents}
    rows = [
        {"url": d.source, "final_url": d.http.final_url, "http_status": d.http.status, "etag": d.http.etag,
         "last_modified": d.http.last_modified, "content_hash": d.content_hash, "last_fetched_at": d.received_at,
         "last_changed_at": d.received_at}
        for d in latest.values()
    ]
    if rows:
        names = ", ".join(FETCH_COLUMNS)
        with registered(con, batch_fetch_state=arrow_columns(FETCH_COLUMNS, rows)):
            con.execute(
                "MERGE INTO fetch_state USING batch_fetch_state AS b ON fetch_state.url = b.url"
                " WHEN MATCHED THEN UPDATE SET final_url = b.final_url, http_status = b.http_status, etag = b.etag,"
                " last_modified = b.last_modified, last_fetched_at = b.last_fetched_at,"
                " last_changed_at = CASE WHEN fetch_state.content_hash = b.content_hash"
                " THEN fetch_state.last_changed_at ELSE b.last_changed_at END,"
                " content_hash = b.content_hash"
                f" WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({', '.join('b.' + name for name in FETCH_COLUMNS)})"
            )
    for url, fetched_at in not_modified:
        con.execute("UPDATE fetch_state SET last_fetched_at = ?, http_status = 304 WHERE url = ?", [fetched_at, url])


FAILURE_COLUMNS = {"url": pa.string(), "kind": pa.string(), "last_reason": pa.string(), "failed_at": TIMESTAMP}


@dataclass(frozen=True)
class FetchFailure:
    url: str  # canonical
    kind: str  # 'page' or 'archive'
    reason: str
    failed_at: datetime


def record_fetch_failures(con, failures: list[FetchFailure], succeeded: list[str],
                          first_wait_seconds: float, max_wait_seconds: float) -> None:
    """Count failures in a row per URL and when to ask again (the wait doubles, capped); forget successes."""
    if succeeded:
        with registered(con, batch_succeeded={"url": pa.array(sorted(set(succeeded)), pa.string())}):
            con.execute("DELETE FROM fetch_failures WHERE url IN (SELECT url FROM batch_succeeded)")
    latest = {failure.url: failure for failure in failures}
    if not latest:
        return
    rows = [{"url": f.url, "kind": f.kind, "last_reason": f.reason, "failed_at": f.failed_at} for f in latest.values()]
    with registered(con, batch_failures=arrow_columns(FAILURE_COLUMNS, rows)):
        con.execute(
            "MERGE INTO fetch_failures USING batch_failures AS b ON fetch_failures.url = b.url"
            " WHEN MATCHED THEN UPDATE SET failures = fetch_failures.failures + 1, last_reason = b.last_reason,"
            " kind = b.kind, last_failed_at = b.failed_at,"
            " next_attempt_at = b.failed_at + to_seconds(least(?, ? * pow(2, fetch_failures.failures)))"
            " WHEN NOT MATCHED THEN INSERT (url, kind, failures, last_reason, first_failed_at, last_failed_at,"
            " next_attempt_at) VALUES (b.url, b.kind, 1, b.last_reason, b.failed_at, b.failed_at,"
            " b.failed_at + to_seconds(least(?, ?)))",
            [max_wait_seconds, first_wait_seconds, max_wait_seconds, first_wait_seconds],
        )


def urls_not_due(con, urls: list[str], now: datetime) -> set[str]:
    """Which of these canonical URLs failed recently enough that they are not to be asked yet."""
    if not urls:
        return set()
    with registered(con, batch_urls={"url": pa.array(urls, pa.string())}):
        rows = con.execute(
            "SELECT f.url FROM fetch_failures f JOIN batch_urls b ON f.url = b.url WHERE f.next_attempt_at > ?", [now]
        ).fetchall()
    return {row[0] for row in rows}


def fetch_states(con, urls: list[str]) -> dict[str, tuple[str | None, str | None, bool]]:
    """Per canonical URL already fetched: (etag, last_modified, whether an article or duplicate holds it)."""
    if not urls:
        return {}
    with registered(con, batch_urls={"url": pa.array(urls, pa.string())}):
        rows = con.execute(
            "SELECT f.url, f.etag, f.last_modified,"
            " EXISTS (SELECT 1 FROM articles a WHERE a.source = f.url)"
            " OR EXISTS (SELECT 1 FROM duplicates d WHERE d.source = f.url)"
            " FROM fetch_state f JOIN batch_urls b ON f.url = b.url"
        ).fetchall()
    return {url: (etag, modified, stored) for url, etag, modified, stored in rows}


@dataclass(frozen=True)
class FetchFailureUpdate:
    failed: list[FetchFailure]
    succeeded: list[str]  # canonical URLs fetched (200 or 304) in the batch
    first_wait_seconds: float
    max_wait_seconds: float
