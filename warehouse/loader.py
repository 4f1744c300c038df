"""Writing runs and batches to the warehouse. One transaction per batch: all of it or none.

Dedup happens here because it needs the warehouse: a batch's new articles are clustered
with the stored members they could match (same content hash or a shared LSH band key), and
every cluster they touch gets its canonical chosen again by the deterministic rule in
transforms.dedup. Roles that change are moved between `articles` and `duplicates`.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import pyarrow as pa

from transforms.dedup import Cluster, Member, build_clusters
from transforms.models import Processed, Reject, sha256_hex
from warehouse.connection import rollback

_TIME = pa.timestamp("us", tz="UTC")
# The parsed-article columns shared by `articles` and `duplicates`, with their Arrow types.
PAYLOAD = {
    "source": pa.string(), "document_id": pa.string(), "url": pa.string(), "site": pa.string(),
    "title": pa.string(), "author": pa.string(), "published_at": _TIME, "date_precision": pa.string(),
    "original_source": pa.string(), "views": pa.int64(), "text": pa.large_string(), "content_hash": pa.string(),
    "format": pa.string(), "extractor": pa.string(), "extractor_version": pa.string(),
    "cleaner_version": pa.string(), "first_run_id": pa.string(), "first_seen_at": _TIME, "language": pa.string(),
    "enrich_version": pa.string(),
}
_PAYLOAD_SQL = ", ".join(PAYLOAD)
ARTICLE_EXTRA = {"article_id": pa.string(), "last_run_id": pa.string(), "loaded_at": _TIME}
DUPLICATE_EXTRA = {
    "duplicate_id": pa.string(), "canonical_id": pa.string(), "similarity": pa.float64(), "method": pa.string(),
    "detected_run_id": pa.string(), "detected_at": _TIME,
}
RAW_COLUMNS = {
    "document_id": pa.string(), "source": pa.string(), "format": pa.string(), "content_hash": pa.string(),
    "size_bytes": pa.int64(), "received_at": _TIME, "content": pa.large_binary(), "run_id": pa.string(),
    "final_url": pa.string(), "http_status": pa.int32(), "content_type": pa.string(), "charset": pa.string(),
    "etag": pa.string(), "last_modified": pa.string(), "rules_file": pa.string(),
}
FETCH_COLUMNS = {
    "url": pa.string(), "final_url": pa.string(), "http_status": pa.int32(), "etag": pa.string(),
    "last_modified": pa.string(), "content_hash": pa.string(), "last_fetched_at": _TIME, "last_changed_at": _TIME,
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
    "run_id": pa.string(), "rejected_at": _TIME,
}


@dataclass
class BatchCounts:
    loaded: int = 0  # new canonical articles
    duplicates: int = 0  # new inputs stored as duplicates
    exact: int = 0
    near: int = 0
    rejected: int = 0
    recanonicalised: int = 0  # stored clusters whose canonical changed


def article_id_for(source: str) -> str:
    """Every input's member id, and its article_id whenever it is canonical."""
    return sha256_hex(source.encode("utf-8"))[:32]


# ---- runs -------------------------------------------------------------------------------

def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str, parameters: dict) -> datetime:
    """Record the run; returns its start, which is also the 'first seen' time of what it loads."""
    started = _now()
    con.execute(
        "INSERT INTO runs (run_id, flow, parameters, started_at, status) SELECT ?, ?, ?, ?, 'running'"
        " WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = ?)",
        [run_id, flow, json.dumps(parameters, ensure_ascii=False, default=str), started, run_id],
    )
    return con.execute("SELECT started_at FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]


def mark_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Runs still 'running' when a writer takes the lock died without finishing (the lock proves it)."""
    (interrupted,) = con.execute(  # an UPDATE answers with its row count (DuckLake has no RETURNING)
        "UPDATE runs SET status = 'interrupted', message = 'the process ended before the run finished'"
        " WHERE status = 'running'"
    ).fetchone()
    return interrupted


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: dict[str, int], message: str | None = None
) -> None:
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, read_count = ?, unchanged_count = ?, loaded_count = ?,"
        " duplicate_count = ?, exact_duplicate_count = ?, near_duplicate_count = ?, rejected_count = ?, message = ?"
        " WHERE run_id = ?",
        [
            _now(), status, counts.get("read", 0), counts.get("unchanged", 0), counts.get("loaded", 0),
            counts.get("duplicates", 0), counts.get("exact_duplicates", 0), counts.get("near_duplicates", 0),
            counts.get("rejected", 0), message, run_id,
        ],
    )


def known_documents(con: duckdb.DuckDBPyConnection, document_ids: list[str]) -> set[str]:
    """Which of these raw documents (same source, same bytes) the warehouse already holds."""
    if not document_ids:
        return set()
    with registered(con, batch_ids={"document_id": pa.array(document_ids, pa.string())}):
        rows = con.execute(
            "SELECT r.document_id FROM raw_documents r JOIN batch_ids b ON r.document_id = b.document_id"
        ).fetchall()
    return {row[0] for row in rows}


# ---- batches ----------------------------------------------------------------------------

def load_batch(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    results: list[Processed],
    read_rejects: list[Reject] = (),
    seen_at: datetime | None = None,
    not_modified: list[tuple[str, datetime]] = (),
    failures: FetchFailureUpdate | None = None,
) -> BatchCounts:
    """Load one batch in one transaction: raw documents, rejects, and articles deduplicated against the warehouse.

    not_modified: (URL, time) of 304 answers, whose fetch state is brought up to date;
    failures: the batch's fetch failures and successes, for the per-URL back-off.
    """
    with transaction(con):
        record_fetches(con, [], not_modified)
        if failures is not None:
            record_fetch_failures(con, failures.failed, failures.succeeded, failures.first_wait_seconds,
                                  failures.max_wait_seconds)
        return load_articles(con, run_id, results, list(read_rejects), seen_at or _now())


@dataclass(frozen=True)
class FetchFailureUpdate:
    failed: list[FetchFailure]
    succeeded: list[str]  # canonical URLs fetched (200 or 304) in the batch
    first_wait_seconds: float
    max_wait_seconds: float


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        rollback(con)  # a failed COMMIT (a DuckLake catalog conflict) has ended it already
        raise


def load_articles(
    con, run_id: str, results: list[Processed], read_rejects: list[Reject], seen_at: datetime, record_fetch: bool = True
) -> BatchCounts:
    """The body of load_batch, for callers that hold a transaction of their own.

    record_fetch=False when the documents were fetched in the past (reprocess): their
    fetch state is already newer.
    """
    now = _now()
    counts = BatchCounts()
    _insert(con, "raw_documents", RAW_COLUMNS, [_raw_row(r.document, r.format, run_id) for r in results],
            key=("document_id",))
    if record_fetch:
        record_fetches(con, [r.document for r in results if r.document.http is not None])
    rejects = read_rejects + [r.reject for r in results if r.reject is not None]
    _insert(con, "rejects", REJECT_COLUMNS, [
        {"source": r.source, "content_hash": r.content_hash, "stage": r.stage, "reason": r.reason,
         "run_id": run_id, "rejected_at": now}
        for r in rejects
    ], key=("source", "content_hash", "stage", "reason"))
    counts.rejected = len(rejects)
    fresh = _last_version_per_source([r for r in results if r.article is not None])
    if not fresh:
        return counts
    history = _retire_previous_versions(con, [r.article.source for r in fresh])
    stored, links = _stored_members(con, fresh)
    for member in stored:
        member.relink = member.canonical_id in history.retired_ids
    payloads = {}
    new_members = []
    for result in fresh:
        article = result.article
        first_run_id, first_seen = history.first_seen.get(article.source, (run_id, seen_at))
        member = Member(
            member_id=article_id_for(article.source), source=article.source,
            content_hash=result.fingerprint.content_hash, band_keys=result.fingerprint.band_keys,
            first_seen_at=first_seen, published_at=article.published_at, site=article.site, url=article.url,
            original_source=article.original_source, is_new=True, text_of=_constant(article.text),
            shingle_hashes=result.fingerprint.shingles,
        )
        new_members.append(member)
        payloads[member.member_id] = _payload(result, first_run_id, first_seen)
    new_articles, new_duplicates = [], []
    for cluster in build_clusters(stored + new_members, links):
        if any(member.is_new or member.relink for member in cluster.members):
            _settle(con, cluster, payloads, new_articles, new_duplicates, counts, run_id, now)
    _insert(con, "articles", {**PAYLOAD, **ARTICLE_EXTRA}, new_articles)
    _insert(con, "duplicates", {**PAYLOAD, **DUPLICATE_EXTRA}, new_duplicates)
    _insert(con, "member_bands", {"member_id": pa.string(), "band": pa.int16(), "band_key": pa.int64()}, [
        {"member_id": member.member_id, "band": band, "band_key": key}
        for member in new_members for band, key in enumerate(member.band_keys)
    ])
    store_enrichment(con, fresh)
    return counts


def store_enrichment(con, results: list[Processed], replace: bool = False) -> None:
    """The documents each member cites and the people it names; `replace` drops what was stored for them first."""
    ids = [article_id_for(result.article.source) for result in results]
    if replace and ids:
        with registered(con, batch_members={"member_id": pa.array(ids, pa.string())}):
            for table in ("document_refs", "people"):
                con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT member_id FROM batch_members)")
    enriched = [(member_id, result.enrichment) for member_id, result in zip(ids, results) if result.enrichment]
    _insert(con, "document_refs", REF_COLUMNS, [
        {"article_id": member_id, "code": ref.code, "kind": ref.kind, "number": ref.number, "issuer": ref.issuer,
         "mention": ref.mention, "position": ref.start}
        for member_id, enrichment in enriched for ref in enrichment.document_refs
    ], key=("article_id", "code"))
    _insert(con, "people", PEOPLE_COLUMNS, [
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
        "rules_file": document.rules_file,
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
        with registered(con, batch_fetch_state=_arrays(FETCH_COLUMNS, rows)):
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


FAILURE_COLUMNS = {"url": pa.string(), "kind": pa.string(), "last_reason": pa.string(), "failed_at": _TIME}


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
    with registered(con, batch_failures=_arrays(FAILURE_COLUMNS, rows)):
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


def _last_version_per_source(results: list[Processed]) -> list[Processed]:
    """One result per source: if a batch holds two versions of one input, the later one wins."""
    by_source = {result.article.source: result for result in results}
    return list(by_source.values())


@dataclass
class _History:
    first_seen: dict[str, tuple[str, datetime]]  # source -> (first_run_id, first_seen_at) of a retired version
    retired_ids: set[str]  # member ids removed, whose duplicates must find their cluster again


def _retire_previous_versions(con, sources: list[str]) -> _History:
    """Remove stored members of these sources (their content changed); keep when they were first seen."""
    with registered(con, batch_sources={"source": pa.array(sources, pa.string())}):
        rows = con.execute(
            "SELECT article_id, source, first_run_id, first_seen_at FROM articles WHERE source IN (SELECT source FROM batch_sources)"
            " UNION ALL SELECT duplicate_id, source, first_run_id, first_seen_at FROM duplicates"
            " WHERE source IN (SELECT source FROM batch_sources)"
        ).fetchall()
    history = _History(first_seen={}, retired_ids=set())
    for member_id, source, first_run_id, first_seen_at in rows:
        history.first_seen[source] = (first_run_id, first_seen_at)
        history.retired_ids.add(member_id)
    if history.retired_ids:  # one DELETE per table, not per member: each costs a DuckLake delete file
        with registered(con, batch_retired={"member_id": pa.array(sorted(history.retired_ids), pa.string())}):
            for table, key in (("articles", "article_id"), ("duplicates", "duplicate_id"),
                               ("member_bands", "member_id"), ("document_refs", "article_id"), ("people", "article_id")):
                con.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT member_id FROM batch_retired)")
    return history


def _stored_members(con, fresh: list[Processed]) -> tuple[list[Member], list[tuple[str, str]]]:
    """Every stored member of every cluster the batch could touch, and the stored links between them."""
    bands = {
        "band": pa.array([b for r in fresh for b in range(len(r.fingerprint.band_keys))], pa.int16()),
        "band_key": pa.array([k for r in fresh for k in r.fingerprint.band_keys], pa.int64()),
    }
    hashes = {"content_hash": pa.array([r.fingerprint.content_hash for r in fresh], pa.string())}
    with registered(con, batch_bands=bands, batch_hashes=hashes):
        rows = con.execute(
            """
            WITH hit AS (
                SELECT b.member_id FROM member_bands b JOIN batch_bands q ON b.band = q.band AND b.band_key = q.band_key
                UNION SELECT article_id FROM articles WHERE content_hash IN (SELECT content_hash FROM batch_hashes)
                UNION SELECT duplicate_id FROM duplicates WHERE content_hash IN (SELECT content_hash FROM batch_hashes)
            ), canon AS (
                SELECT article_id AS canonical_id FROM articles WHERE article_id IN (SELECT member_id FROM hit)
                UNION SELECT canonical_id FROM duplicates WHERE duplicate_id IN (SELECT member_id FROM hit)
            )
            SELECT article_id, article_id, source, content_hash, first_seen_at, published_at, site, url, original_source, text
            FROM articles WHERE article_id IN (SELECT canonical_id FROM canon)
            UNION ALL
            SELECT duplicate_id, canonical_id, source, content_hash, first_seen_at, published_at, site, url, original_source, text
            FROM duplicates WHERE canonical_id IN (SELECT canonical_id FROM canon)
            """
        ).fetchall()
    if not rows:
        return [], []
    member_bands = _bands_of(con, [row[0] for row in rows])
    members, links = [], []
    # Texts come along (one query, not one per comparison): shingles are recomputed only
    # for the members a comparison actually needs.
    for member_id, canonical_id, source, content_hash, first_seen, published, site, url, original, text in rows:
        members.append(Member(
            member_id=member_id, source=source, content_hash=content_hash, band_keys=member_bands.get(member_id, ()),
            first_seen_at=first_seen, published_at=published, site=site, url=url, original_source=original,
            canonical_id=canonical_id, text_of=_constant(text),
        ))
        if canonical_id != member_id:
            links.append((member_id, canonical_id))
    return members, links


def _bands_of(con, member_ids: list[str]) -> dict[str, tuple[int, ...]]:
    with registered(con, batch_members={"member_id": pa.array(member_ids, pa.string())}):
        rows = con.execute(
            "SELECT member_id, list(band_key ORDER BY band) FROM member_bands"
            " WHERE member_id IN (SELECT member_id FROM batch_members) GROUP BY member_id"
        ).fetchall()
    return {member_id: tuple(keys) for member_id, keys in rows}


def _constant(value):
    return lambda: value


def _payload(result: Processed, first_run_id: str, first_seen_at: datetime) -> dict:
    a = result.article
    return {
        "source": a.source, "document_id": a.document_id, "url": a.url, "site": a.site, "title": a.title,
        "author": a.author, "published_at": a.published_at, "date_precision": a.date_precision,
        "original_source": a.original_source, "views": a.views, "text": a.text,
        "content_hash": result.fingerprint.content_hash, "format": a.format, "extractor": a.extractor,
        "extractor_version": a.extractor_version, "cleaner_version": a.cleaner_version,
        "first_run_id": first_run_id, "first_seen_at": first_seen_at, "language": a.language,
        "enrich_version": a.enrich_version,
    }


def _settle(con, cluster: Cluster, payloads, new_articles, new_duplicates, counts: BatchCounts, run_id, now) -> None:
    """Give every member of a touched cluster its role: the canonical an article, the rest duplicates of it."""
    canonical = cluster.canonical
    canonical_id = canonical.member_id
    if canonical.is_new:
        new_articles.append({**payloads[canonical_id], "article_id": canonical_id, "last_run_id": run_id, "loaded_at": now})
        counts.loaded += 1
    elif canonical.canonical_id != canonical_id:  # a stored duplicate becomes the canonical
        _move(con, canonical_id, to_articles=True, run_id=run_id, now=now)
    for member in cluster.members[1:]:
        verdict = cluster.verdicts[member.member_id]
        if member.is_new:
            new_duplicates.append({
                **payloads[member.member_id], "duplicate_id": member.member_id, "canonical_id": canonical_id,
                "similarity": verdict.similarity, "method": verdict.method, "detected_run_id": run_id, "detected_at": now,
            })
            counts.duplicates += 1
            counts.exact += verdict.method == "exact"
            counts.near += verdict.method == "near"
            continue
        if member.canonical_id == canonical_id and not member.relink:
            continue  # already a duplicate of this canonical
        if member.canonical_id == member.member_id:  # a stored article loses its place
            _move(con, member.member_id, to_articles=False, run_id=run_id, now=now)
            counts.recanonicalised += 1
        con.execute(
            "UPDATE duplicates SET canonical_id = ?, similarity = ?, method = ? WHERE duplicate_id = ?",
            [canonical_id, verdict.similarity, verdict.method, member.member_id],
        )


def _move(con, member_id: str, to_articles: bool, run_id: str, now: datetime) -> None:
    """Move one stored member between `duplicates` and `articles`, keeping its parsed payload."""
    if to_articles:
        con.execute(
            f"INSERT INTO articles (article_id, {_PAYLOAD_SQL}, last_run_id, loaded_at)"
            f" SELECT duplicate_id, {_PAYLOAD_SQL}, ?, ? FROM duplicates WHERE duplicate_id = ?",
            [run_id, now, member_id],
        )
        con.execute("DELETE FROM duplicates WHERE duplicate_id = ?", [member_id])
    else:
        # similarity and method are set by the caller right after
        con.execute(
            f"INSERT INTO duplicates (duplicate_id, {_PAYLOAD_SQL}, canonical_id, similarity, method, detected_run_id, detected_at)"
            f" SELECT article_id, {_PAYLOAD_SQL}, article_id, 1.0, 'exact', ?, ? FROM articles WHERE article_id = ?",
            [run_id, now, member_id],
        )
        con.execute("DELETE FROM articles WHERE article_id = ?", [member_id])


# ---- Arrow plumbing -----------------------------------------------------------------------

def _insert(con, table: str, columns: dict[str, pa.DataType], rows: list[dict], key: tuple[str, ...] = ()) -> None:
    """Insert rows through one Arrow scan (Python-list parameters cost ~0.2 ms per value in duckdb 1.4).

    With a `key`, rows whose key is already stored, or came earlier in `rows`, are left
    out: what `ON CONFLICT DO NOTHING` did with the DuckDB file's primary keys, done by an
    anti-join, because a DuckLake has no keys. Writers are serialised (the writer lock), so
    the check and the insert see the same table.
    """
    if key:
        seen, unique = set(), []
        for row in rows:
            if (found := tuple(row[name] for name in key)) not in seen:
                seen.add(found)
                unique.append(row)
        rows = unique
    if not rows:
        return
    names = ", ".join(columns)
    absent = ""
    if key:
        match = " AND ".join(f"t.{name} = b.{name}" for name in key)
        absent = f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})"
    with registered(con, **{f"batch_{table}": _arrays(columns, rows)}):
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM batch_{table} b{absent}")


def _arrays(columns: dict[str, pa.DataType], rows: list[dict]) -> dict[str, pa.Array]:
    return {name: pa.array([row[name] for row in rows], kind) for name, kind in columns.items()}


@contextmanager
def registered(con, **tables: dict[str, pa.Array]):
    """Arrow tables visible to SQL under these names for the duration of the block."""
    for name, arrays in tables.items():
        con.register(name, pa.table(arrays))
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


def _now() -> datetime:
    return datetime.now(timezone.utc)
