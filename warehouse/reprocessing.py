"""The warehouse side of `reprocess`: which stored members to rebuild, their raw bytes, and cheap updates.

A member is an article or a duplicate; both keep the raw document they were built from,
so the cleaner can run again without fetching anything.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from transforms.models import HttpFacts, Processed, RawDocument
from warehouse.arrow import registered
from warehouse.loader import store_enrichment
from warehouse.queries import published_and_site

# Columns compared to decide whether a rebuilt member changed.
COMPARED = ("title", "text", "author", "published_at", "date_precision", "original_source", "views", "url", "site",
            "language", "host", "sources_site")
_MEMBER_COLUMNS = ("source, document_id, site, sources_site, published_at, format, extractor_version, cleaner_version,"
                   " enrich_version")
_MEMBERS = f"SELECT {_MEMBER_COLUMNS} FROM articles UNION ALL SELECT {_MEMBER_COLUMNS} FROM duplicates"


@dataclass(frozen=True)
class CurrentVersions:
    """The versions a member of this format, cleaned with this rules file ('' for the default), gets today."""

    format: str
    rules_file: str
    extractor: str
    cleaner: str
    enrichment: str


@dataclass(frozen=True)
class Selection:
    """Which members a reprocess job covers."""

    since: datetime | None = None  # published_at range; members without a date only when no range is given
    until: datetime | None = None
    site: str | None = None
    outdated_only: bool = True  # only members whose stored versions differ from `current`
    current: tuple[CurrentVersions, ...] = ()


def select_batch(con: duckdb.DuckDBPyConnection, selection: Selection, after: str, limit: int) -> list[RawDocument]:
    """The next `limit` members after source `after` (keyset order), as raw documents to transform again."""
    conditions, parameters = published_and_site("m", selection.since, selection.until, selection.site)
    conditions.insert(0, "m.source > ?")
    parameters.insert(0, after)
    if selection.outdated_only:  # a format or rules file without current versions is rebuilt too
        conditions.append(
            "(v.format IS NULL OR m.extractor_version IS DISTINCT FROM v.extractor"
            " OR m.cleaner_version IS DISTINCT FROM v.cleaner OR m.enrich_version IS DISTINCT FROM v.enrichment)"
        )
    columns = {name: [getattr(row, name) for row in selection.current] for name in CurrentVersions.__dataclass_fields__}
    with registered(con, current_versions={name: pa.array(values, pa.string()) for name, values in columns.items()}):
        rows = con.execute(
            "SELECT r.source, r.content, r.received_at, r.format, r.final_url, r.http_status, r.content_type,"
            f" r.charset, r.etag, r.last_modified, r.rules_file, r.sources_site FROM ({_MEMBERS}) m"
            " JOIN raw_documents r ON r.document_id = m.document_id"
            " LEFT JOIN current_versions v ON v.format = m.format AND v.rules_file = coalesce(r.rules_file, '')"
            f" WHERE {' AND '.join(conditions)} ORDER BY m.source LIMIT ?",
            [*parameters, limit],
        ).fetchall()
    return [_document(*row) for row in rows]


def stored_rules_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The sites' own rules files that stored members (articles and duplicates) were cleaned with."""
    rows = con.execute(
        f"SELECT DISTINCT r.rules_file FROM ({_MEMBERS}) m JOIN raw_documents r ON r.document_id = m.document_id"
        " WHERE r.rules_file IS NOT NULL ORDER BY r.rules_file"
    ).fetchall()
    return [row[0] for row in rows]


def fetched_members(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, tuple[str | None, str | None]]]:
    """(document_id, source, (rules_file, sources_site)) of every stored member fetched from the web."""
    rows = con.execute(
        f"SELECT r.document_id, r.source, r.rules_file, r.sources_site FROM ({_MEMBERS}) m"
        " JOIN raw_documents r ON r.document_id = m.document_id WHERE r.http_status IS NOT NULL"
    ).fetchall()
    return [(document_id, source, (rules_file, site)) for document_id, source, rules_file, site in rows]


def assign_sites(con: duckdb.DuckDBPyConnection, sites: dict[str, tuple[str | None, str | None]]) -> None:
    """Record, per document_id, the sources file's site it belongs to and the rules file it is
    cleaned with from now on: (rules_file, sources_site), None for the default rules / no site."""
    if not sites:
        return
    batch = {"document_id": pa.array(list(sites), pa.string()),
             "rules_file": pa.array([rules_file for rules_file, _ in sites.values()], pa.string()),
             "sources_site": pa.array([site for _, site in sites.values()], pa.string())}
    with registered(con, batch_sites=batch):
        con.execute("UPDATE raw_documents SET rules_file = b.rules_file, sources_site = b.sources_site"
                    " FROM batch_sites b WHERE raw_documents.document_id = b.document_id")


def _document(source, content, received_at, format_, final_url, status, content_type, charset, etag, modified,
              rules_file, sources_site):
    http = HttpFacts(final_url, status, content_type, charset, etag, modified) if status is not None else None
    record = None
    if format_ == "jsonl":
        try:
            parsed = json.loads(content)
            record = parsed if isinstance(parsed, dict) else None
        except ValueError:
            pass  # the transform rejects it again, with its reason
    return RawDocument(source, bytes(content), received_at, record=record, http=http, rules_file=rules_file,
                       sources_site=sources_site)


def stored_fields(con: duckdb.DuckDBPyConnection, sources: list[str]) -> dict[str, tuple]:
    """Per source, the COMPARED fields as stored (article or duplicate)."""
    columns = ", ".join(COMPARED)
    with registered(con, batch_sources={"source": pa.array(sources, pa.string())}):
        rows = con.execute(
            f"SELECT source, {columns} FROM articles WHERE source IN (SELECT source FROM batch_sources)"
            f" UNION ALL SELECT source, {columns} FROM duplicates WHERE source IN (SELECT source FROM batch_sources)"
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def rebuilt_fields(result: Processed) -> tuple:
    article = result.article
    return (article.title, article.text, article.author, article.published_at, article.date_precision,
            article.original_source, article.views, article.url, article.site, article.language, article.host,
            article.sources_site)


def update_versions(con: duckdb.DuckDBPyConnection, results: list[Processed], run_id: str) -> None:
    """Members whose rebuild changed nothing but the versions that built them (and their enrichment)."""
    if not results:
        return
    batch = {
        "source": pa.array([r.article.source for r in results], pa.string()),
        "extractor": pa.array([r.article.extractor for r in results], pa.string()),
        "extractor_version": pa.array([r.article.extractor_version for r in results], pa.string()),
        "cleaner_version": pa.array([r.article.cleaner_version for r in results], pa.string()),
        "enrich_version": pa.array([r.article.enrich_version for r in results], pa.string()),
    }
    with registered(con, batch_versions=batch):
        for table in ("articles", "duplicates"):
            con.execute(
                f"UPDATE {table} SET extractor = b.extractor, extractor_version = b.extractor_version,"
                f" cleaner_version = b.cleaner_version, enrich_version = b.enrich_version"
                f" FROM batch_versions b WHERE {table}.source = b.source"
            )
        con.execute("UPDATE articles SET last_run_id = ? FROM batch_versions b WHERE articles.source = b.source",
                    [run_id])
    store_enrichment(con, results, replace=True)  # the enrichment rules may have changed


def job_cursor(con: duckdb.DuckDBPyConnection, job_key: str) -> tuple[int, str]:
    """(batches done, last source done) of an unfinished job; (0, '') for a new one."""
    row = con.execute(
        "SELECT batch, last_source FROM job_progress WHERE job_key = ? ORDER BY batch DESC LIMIT 1", [job_key]
    ).fetchone()
    return (row[0], row[1]) if row else (0, "")


def record_progress(con: duckdb.DuckDBPyConnection, job_key: str, batch: int, last_source: str, run_id: str,
                    at: datetime) -> None:
    con.execute("INSERT INTO job_progress SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS"
                " (SELECT 1 FROM job_progress WHERE job_key = ? AND batch = ?)",
                [job_key, batch, last_source, run_id, at, job_key, batch])


def finish_job(con: duckdb.DuckDBPyConnection, job_key: str) -> None:
    con.execute("DELETE FROM job_progress WHERE job_key = ?", [job_key])
