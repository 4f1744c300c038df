"""Writing runs and batches to the warehouse. One transaction per batch: all of it or none."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

from transforms.dedup import DedupIndex
from transforms.fingerprint import fingerprint
from transforms.models import Processed, Reject, sha256_hex


@dataclass
class BatchCounts:
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0

    def __iadd__(self, other: "BatchCounts") -> "BatchCounts":
        self.loaded += other.loaded
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        return self


def article_id_for(source: str) -> str:
    return sha256_hex(source.encode("utf-8"))[:32]


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str, parameters: dict) -> None:
    con.execute(
        "INSERT INTO runs (run_id, flow, parameters, started_at, status) VALUES (?, ?, ?, ?, 'running')"
        " ON CONFLICT (run_id) DO NOTHING",
        [run_id, flow, json.dumps(parameters, ensure_ascii=False, default=str), _now()],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: dict[str, int], message: str | None = None
) -> None:
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ?, read_count = ?, unchanged_count = ?, loaded_count = ?,"
        " duplicate_count = ?, rejected_count = ?, message = ? WHERE run_id = ?",
        [
            _now(), status, counts.get("read", 0), counts.get("unchanged", 0), counts.get("loaded", 0),
            counts.get("duplicates", 0), counts.get("rejected", 0), message, run_id,
        ],
    )


def known_documents(con: duckdb.DuckDBPyConnection, document_ids: list[str]) -> set[str]:
    """Which of these raw documents (same source, same bytes) the warehouse already holds."""
    if not document_ids:
        return set()
    rows = con.execute(
        "SELECT document_id FROM raw_documents WHERE document_id IN (SELECT unnest(?::VARCHAR[]))", [document_ids]
    ).fetchall()
    return {row[0] for row in rows}


def load_batch(
    con: duckdb.DuckDBPyConnection, run_id: str, results: list[Processed], read_rejects: list[Reject] = ()
) -> BatchCounts:
    """Load one batch in one transaction: raw documents, rejects, articles (deduplicated) and their band keys."""
    con.execute("BEGIN TRANSACTION")
    try:
        counts = _load(con, run_id, results, list(read_rejects))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def _load(con, run_id: str, results: list[Processed], read_rejects: list[Reject]) -> BatchCounts:
    now = _now()
    counts = BatchCounts()
    if results:
        con.executemany(
            "INSERT INTO raw_documents (document_id, source, format, content_hash, size_bytes, received_at, content, run_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (document_id) DO NOTHING",
            [
                [r.document.document_id, r.document.source, r.format, r.document.content_hash,
                 len(r.document.content), r.document.received_at, r.document.content, run_id]
                for r in results
            ],
        )
    rejects = read_rejects + [r.reject for r in results if r.reject is not None]
    if rejects:
        con.executemany(
            "INSERT INTO rejects (source, content_hash, stage, reason, run_id, rejected_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [[r.source, r.content_hash, r.stage, r.reason, run_id, now] for r in rejects],
        )
    counts.rejected = len(rejects)
    articles = sorted((r for r in results if r.article is not None), key=_canonical_order)
    if not articles:
        return counts
    index, by_source = _dedup_index(con, articles)
    for result in articles:
        article, print_ = result.article, result.fingerprint
        existing_id = by_source.get(article.source)
        match = index.find(print_, exclude=existing_id)
        if match is not None:
            con.execute(
                "INSERT INTO duplicates (source, document_id, canonical_id, similarity, method, run_id, detected_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [article.source, article.document_id, match.article_id, match.similarity, match.method, run_id, now],
            )
            counts.duplicates += 1
            continue
        article_id = existing_id or article_id_for(article.source)
        _write_article(con, article_id, result, run_id, now, update=existing_id is not None)
        index.add(article_id, print_)
        counts.loaded += 1
    return counts


def _canonical_order(result: Processed):
    """Within a batch the earliest-published article becomes canonical; the source breaks ties."""
    article = result.article
    published = article.published_at.timestamp() if article.published_at else float("inf")
    return (published, article.source)


def _dedup_index(con, articles: list[Processed]) -> tuple[DedupIndex, dict[str, str]]:
    """A dedup index holding the warehouse articles this batch could match, and the batch's own sources."""
    sources = [r.article.source for r in articles]
    by_source = dict(
        con.execute(
            "SELECT source, article_id FROM articles WHERE source IN (SELECT unnest(?::VARCHAR[]))", [sources]
        ).fetchall()
    )
    hashes = [r.fingerprint.content_hash for r in articles]
    bands = [band for r in articles for band in range(len(r.fingerprint.band_keys))]
    keys = [key for r in articles for key in r.fingerprint.band_keys]
    rows = con.execute(
        "SELECT article_id, text FROM articles WHERE content_hash IN (SELECT unnest(?::VARCHAR[]))"
        " OR article_id IN (SELECT b.article_id FROM article_bands b"
        "   JOIN (SELECT unnest(?::SMALLINT[]) AS band, unnest(?::BIGINT[]) AS band_key) q"
        "   ON b.band = q.band AND b.band_key = q.band_key)"
        " ORDER BY article_id",
        [hashes, bands, keys],
    ).fetchall()
    index = DedupIndex()
    for article_id, text in rows:
        index.add(article_id, fingerprint(text))
    return index, by_source


def _write_article(con, article_id: str, result: Processed, run_id: str, now: datetime, update: bool) -> None:
    a, print_ = result.article, result.fingerprint
    values = [
        a.document_id, a.url, a.site, a.title, a.author, a.published_at, a.date_precision, a.original_source,
        a.views, a.text, print_.content_hash, a.format, a.extractor, a.extractor_version, a.cleaner_version,
    ]
    if update:
        con.execute(
            "UPDATE articles SET document_id = ?, url = ?, site = ?, title = ?, author = ?, published_at = ?,"
            " date_precision = ?, original_source = ?, views = ?, text = ?, content_hash = ?, format = ?,"
            " extractor = ?, extractor_version = ?, cleaner_version = ?, last_run_id = ?, loaded_at = ?"
            " WHERE article_id = ?",
            values + [run_id, now, article_id],
        )
        con.execute("DELETE FROM article_bands WHERE article_id = ?", [article_id])
    else:
        con.execute(
            "INSERT INTO articles (document_id, url, site, title, author, published_at, date_precision,"
            " original_source, views, text, content_hash, format, extractor, extractor_version, cleaner_version,"
            " first_run_id, last_run_id, loaded_at, article_id, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values + [run_id, run_id, now, article_id, a.source],
        )
    con.executemany(
        "INSERT INTO article_bands (article_id, band, band_key) VALUES (?, ?, ?)",
        [[article_id, band, key] for band, key in enumerate(print_.band_keys)],
    )


def _now() -> datetime:
    return datetime.now(timezone.utc)
