"""Dedup in the warehouse: a batch's new articles are clustered with the stored members they
could match (same content hash or a shared LSH band key), and every cluster they touch gets
its canonical chosen again by the deterministic rule in transforms.dedup. Roles that change
are moved between `articles` and `duplicates`, which hold the same parsed payload.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from transforms.dedup import Cluster, Member, build_clusters
from transforms.models import Processed, sha256_hex
from warehouse.arrow import TIMESTAMP, insert_rows, registered

PAYLOAD = {
    "source": pa.string(), "document_id": pa.string(), "url": pa.string(), "site": pa.string(),
    "title": pa.string(), "author": pa.string(), "published_at": TIMESTAMP, "date_precision": pa.string(),
    "original_source": pa.string(), "views": pa.int64(), "text": pa.large_string(), "content_hash": pa.string(),
    "format": pa.string(), "extractor": pa.string(), "extractor_version": pa.string(),
    "cleaner_version": pa.string(), "first_run_id": pa.string(), "first_seen_at": TIMESTAMP, "language": pa.string(),
    "enrich_version": pa.string(), "host": pa.string(), "sources_site": pa.string(),
}
_PAYLOAD_SQL = ", ".join(PAYLOAD)
ARTICLE_EXTRA = {"article_id": pa.string(), "last_run_id": pa.string(), "loaded_at": TIMESTAMP}
DUPLICATE_EXTRA = {
    "duplicate_id": pa.string(), "canonical_id": pa.string(), "similarity": pa.float64(), "method": pa.string(),
    "detected_run_id": pa.string(), "detected_at": TIMESTAMP,
}


@dataclass
class BatchCounts:
    loaded: int = 0  # new canonical articles
    duplicates: int = 0  # new inputs stored as duplicates
    exact: int = 0
    near: int = 0
    rejected: int = 0
    recanonicalised: int = 0  # stored clusters whose canonical changed
    revised: int = 0  # sources whose text or title changed (a new entry in article_versions)
    removed: int = 0  # stored pages found taken down
    restored: int = 0  # taken-down pages back


def article_id_for(source: str) -> str:
    """Every input's member id, and its article_id whenever it is canonical."""
    return sha256_hex(source.encode("utf-8"))[:32]


def settle_clusters(con, fresh: list[Processed], run_id: str, seen_at: datetime, now: datetime,
                    counts: BatchCounts) -> None:
    """Cluster the batch's new articles with the stored members they could match and give every
    member of a touched cluster its role; a source loaded again replaces its stored version."""
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
    insert_rows(con, "articles", {**PAYLOAD, **ARTICLE_EXTRA}, new_articles)
    insert_rows(con, "duplicates", {**PAYLOAD, **DUPLICATE_EXTRA}, new_duplicates)
    insert_rows(con, "member_bands", {"member_id": pa.string(), "band": pa.int16(), "band_key": pa.int64()}, [
        {"member_id": member.member_id, "band": band, "band_key": key}
        for member in new_members for band, key in enumerate(member.band_keys)
    ])


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
        "enrich_version": a.enrich_version, "host": a.host, "sources_site": a.sources_site,
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
        # Re-linked now: detected_at dates the link, so an export --since carries the new one.
        con.execute(
            "UPDATE duplicates SET canonical_id = ?, similarity = ?, method = ?, detected_run_id = ?, detected_at = ?"
            " WHERE duplicate_id = ?",
            [canonical_id, verdict.similarity, verdict.method, run_id, now, member.member_id],
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
