"""The warehouse side of edits and takedowns: `article_versions` kept as members load,
`takedowns` opened and closed as pages are checked again, and the pages a revisit checks
(transforms/revisions.py decides what changed, what is gone and what is due)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from transforms.models import Processed
from transforms.revisions import RevisitSettings, Takedown, is_due, text_change
from warehouse.arrow import TIMESTAMP, arrow_columns, insert_rows, registered
from warehouse.clusters import article_id_for

VERSION_COLUMNS = {
    "article_id": pa.string(), "source": pa.string(), "version": pa.int32(), "document_id": pa.string(),
    "title": pa.string(), "text": pa.large_string(), "content_hash": pa.string(), "title_changed": pa.bool_(),
    "chars_added": pa.int32(), "chars_removed": pa.int32(), "first_seen_at": TIMESTAMP, "last_seen_at": TIMESTAMP,
    "run_id": pa.string(),
}
TAKEDOWN_COLUMNS = {
    "source": pa.string(), "removed_at": TIMESTAMP, "reason": pa.string(), "http_status": pa.int32(),
    "final_url": pa.string(), "restored_at": TIMESTAMP, "run_id": pa.string(),
}
_SEEN = {"source": pa.string(), "version": pa.int32(), "seen_at": TIMESTAMP}


@dataclass(frozen=True)
class _Latest:
    version: int
    title: str
    text: str
    content_hash: str


def _latest_versions(con, sources: list[str]) -> dict[str, _Latest]:
    if not sources:
        return {}
    with registered(con, batch_sources={"source": pa.array(sorted(set(sources)), pa.string())}):
        rows = con.execute(
            "SELECT source, version, title, text, content_hash FROM article_versions"
            " WHERE source IN (SELECT source FROM batch_sources)"
            " QUALIFY row_number() OVER (PARTITION BY source ORDER BY version DESC) = 1"
        ).fetchall()
    return {source: _Latest(*rest) for source, *rest in rows}


def record_versions(con: duckdb.DuckDBPyConnection, results: list[Processed], run_id: str, rebuilt: bool = False) -> int:
    """A new version for each result whose text or title differs from its source's last one;
    the last one seen again otherwise. Returns how many sources changed (first versions not counted).

    rebuilt: the results were rebuilt from stored bytes by newer transforms (reprocess), so
    a difference is tinbai's, not the outlet's: the last version is restated, not followed.
    """
    latest = _latest_versions(con, [r.article.source for r in results])
    new_rows, seen, restated = [], [], []
    for result in results:
        article, received = result.article, result.document.received_at
        previous = latest.get(article.source)
        content_hash = result.fingerprint.content_hash
        if previous is not None and rebuilt:
            restated.append({"source": article.source, "version": previous.version, "title": article.title,
                             "text": article.text, "content_hash": content_hash})
            continue
        if previous is not None and (previous.content_hash, previous.title) == (content_hash, article.title):
            seen.append({"source": article.source, "version": previous.version, "seen_at": received})
            continue
        change = text_change(previous.text, article.text) if previous else None
        new_rows.append({
            "article_id": article_id_for(article.source), "source": article.source,
            "version": previous.version + 1 if previous else 1, "document_id": article.document_id,
            "title": article.title, "text": article.text, "content_hash": content_hash,
            "title_changed": previous.title != article.title if previous else None,
            "chars_added": change.chars_added if change else None, "chars_removed": change.chars_removed if change else None,
            "first_seen_at": received, "last_seen_at": received, "run_id": run_id,
        })
    insert_rows(con, "article_versions", VERSION_COLUMNS, new_rows, key=("source", "version"))
    if restated:
        columns = {"source": pa.string(), "version": pa.int32(), "title": pa.string(), "text": pa.large_string(),
                   "content_hash": pa.string()}
        with registered(con, batch_restated=arrow_columns(columns, restated)):
            con.execute("UPDATE article_versions SET title = b.title, text = b.text, content_hash = b.content_hash"
                        " FROM batch_restated b WHERE article_versions.source = b.source"
                        " AND article_versions.version = b.version")
    _touch(con, seen)
    return sum(row["version"] > 1 for row in new_rows)


def mark_seen(con: duckdb.DuckDBPyConnection, seen: list[tuple[str, datetime]]) -> None:
    """Sources answered again with what is stored (a 304, the same bytes): their last version is still current."""
    latest = _latest_versions(con, [source for source, _ in seen])
    _touch(con, [{"source": source, "version": latest[source].version, "seen_at": at}
                 for source, at in seen if source in latest])


def _touch(con, seen: list[dict]) -> None:
    if not seen:
        return
    with registered(con, batch_seen=arrow_columns(_SEEN, seen)):
        con.execute(
            "UPDATE article_versions SET last_seen_at = greatest(article_versions.last_seen_at, b.seen_at)"
            " FROM (SELECT source, version, max(seen_at) AS seen_at FROM batch_seen GROUP BY ALL) b"
            " WHERE article_versions.source = b.source AND article_versions.version = b.version"
        )


def record_takedowns(con: duckdb.DuckDBPyConnection, takedowns: list[Takedown], run_id: str) -> int:
    """Open a takedown for each page found gone that has none open; their fetch state moves on. Returns how many opened."""
    if not takedowns:
        return 0
    rows = [{"source": t.source, "removed_at": t.checked_at, "reason": t.reason, "http_status": t.http_status,
             "final_url": t.final_url, "restored_at": None, "run_id": run_id} for t in takedowns]
    with registered(con, batch_takedowns=arrow_columns(TAKEDOWN_COLUMNS, rows)):
        con.execute("UPDATE fetch_state SET last_fetched_at = b.removed_at, http_status = b.http_status,"
                    " final_url = coalesce(b.final_url, fetch_state.final_url)"
                    " FROM batch_takedowns b WHERE fetch_state.url = b.source")
        opened = con.execute(
            "SELECT DISTINCT source FROM batch_takedowns"
            " WHERE source NOT IN (SELECT source FROM takedowns WHERE restored_at IS NULL)"
        ).fetchall()
    fresh = {row[0] for row in opened}
    insert_rows(con, "takedowns", TAKEDOWN_COLUMNS, [row for row in rows if row["source"] in fresh],
                key=("source", "removed_at"))
    return len(fresh)


def record_restorations(con: duckdb.DuckDBPyConnection, answered: list[tuple[str, datetime]]) -> int:
    """Close the open takedowns of pages that answered with an article again. Returns how many closed."""
    if not answered:
        return 0
    with registered(con, batch_back=arrow_columns({"source": pa.string(), "answered_at": TIMESTAMP},
                                                   [{"source": s, "answered_at": at} for s, at in answered])):
        back = "FROM (SELECT source, min(answered_at) AS answered_at FROM batch_back GROUP BY source) b"
        count = con.execute(f"SELECT count(*) {back} JOIN takedowns t ON t.source = b.source"
                            " WHERE t.restored_at IS NULL AND b.answered_at > t.removed_at").fetchone()[0]
        if count:
            con.execute(f"UPDATE takedowns SET restored_at = b.answered_at {back} WHERE takedowns.source = b.source"
                        " AND takedowns.restored_at IS NULL AND b.answered_at > takedowns.removed_at")
    return count


@dataclass(frozen=True)
class StoredPage:
    """A fetched page the warehouse holds, as a revisit sees it."""

    url: str  # canonical: the member's source
    first_seen_at: datetime
    published_at: datetime | None
    last_checked_at: datetime
    rules_file: str | None  # what its last version was cleaned with
    sources_site: str | None


def pages_to_revisit(con: duckdb.DuckDBPyConnection, now: datetime, every_recent: bool = False,
                     settings: RevisitSettings = RevisitSettings()) -> list[StoredPage]:
    """Fetched pages due for a check by the schedule; with every_recent, every page first seen
    within the schedule's horizon, due or not. Oldest first."""
    # Two horizons back: a page whose last checkpoint was missed (no revisit ran) still gets it.
    reach = settings.horizon if every_recent else 2 * settings.horizon
    rows = con.execute(
        """
        WITH members AS (
            SELECT source, document_id, first_seen_at, published_at FROM articles
            UNION ALL SELECT source, document_id, first_seen_at, published_at FROM duplicates
        )
        SELECT m.source, m.first_seen_at, m.published_at, f.last_fetched_at, r.rules_file, r.sources_site
        FROM members m
        JOIN fetch_state f ON f.url = m.source
        JOIN raw_documents r ON r.document_id = m.document_id
        WHERE m.first_seen_at >= ?
        ORDER BY m.first_seen_at, m.source
        """, [now - reach]).fetchall()
    pages = [StoredPage(*row) for row in rows]
    if every_recent:
        return pages
    return [page for page in pages if is_due(page.first_seen_at, page.published_at, page.last_checked_at, now, settings)]
