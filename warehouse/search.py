"""Full-text search: BM25 over articles' title and text, accent-insensitive, with DuckDB's fts extension.

Vietnamese readers type without diacritics as often as with them, and the fts extension's
own accent stripping keeps đ (FACTS.md). So the index is built over `search_corpus`, an
accent- and case-folded copy of every article (the `search_fold` macro), with no stemmer
and no stop words; a query is folded the same way. "chỉ thị 35" and "chi thi 35" find the
same articles. The extension comes from the `duckdb-ext-fts` wheel: no network, ever.

On a DuckLake the fts extension cannot build its index (it stores macros, and DuckLake
stores no functions), so tinbai keeps the same inverted index itself, as lake tables in
the schema `search_index`: `postings` (article, term, count) and `docs` (article, length),
tokenised exactly as the fts index is, and ranks with the same BM25 formula as fts's
`match_bm25` (k1 1.2, b 0.75, log10 idf): the same words give the same scores on both
backends. Unlike fts's, that index is updated incrementally, in the same transaction as
`search_corpus`.
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from transforms.errors import TinbaiError
from warehouse.connection import first_line, is_lake, load_fts
from warehouse.arrow import registered
from warehouse.queries import open_read_only
from warehouse.transaction import transaction

# The fts index's tokenizer: any run of characters that are not letters or digits splits words.
_SEPARATORS = r"[^\p{L}\p{N}]+"
SNIPPET_CHARS = 180
_WORD = re.compile(r"\w+")
LAKE_INDEX = "search_index"  # the DuckLake's own index: schema of the postings and docs tables
BM25_K1, BM25_B = 1.2, 0.75  # fts's match_bm25 defaults


class SearchError(TinbaiError, ValueError):
    """The search could not run; one line for the user."""


@dataclass(frozen=True)
class Hit:
    article_id: str
    title: str
    site: str | None
    published_at: datetime | None
    score: float
    snippet: str


def refresh_index(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the folded corpus and its BM25 index up to date with `articles`; returns the articles changed.

    Only new, changed and removed articles are folded again. The fts extension has no
    incremental update, so when anything changed its index is rebuilt whole: ~5.5 s for
    14,120 articles here (bench/search.py); a run that changed nothing costs ~0.1 s. On a
    DuckLake only the changed articles' postings are replaced.
    """
    lake = is_lake(con)
    if not lake:
        load_fts(con)
    with transaction(con):
        removed = [row[0] for row in con.execute(
            "SELECT article_id FROM search_corpus s WHERE NOT EXISTS"
            " (SELECT 1 FROM articles a WHERE a.article_id = s.article_id AND a.content_hash = s.content_hash"
            " AND search_fold(a.title) = s.title)"
        ).fetchall()]
        with registered(con, batch_removed={"article_id": pa.array(removed, pa.string())}):
            con.execute("DELETE FROM search_corpus WHERE article_id IN (SELECT article_id FROM batch_removed)")
        added = [row[0] for row in con.execute(
            "SELECT article_id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM search_corpus s WHERE s.article_id = a.article_id)"
        ).fetchall()]
        with registered(con, batch_added={"article_id": pa.array(added, pa.string())}):
            con.execute(
                "INSERT INTO search_corpus SELECT article_id, content_hash, search_fold(title), search_fold(text)"
                " FROM articles WHERE article_id IN (SELECT article_id FROM batch_added)"
            )
        changed = sorted(set(removed) | set(added))
        if lake:
            _update_lake_index(con, changed)
    if not lake and (changed or not _index_exists(con)):
        # A PRAGMA of its own (FACTS.md): it runs its own statements and transaction.
        con.execute(
            "PRAGMA create_fts_index('search_corpus', 'article_id', 'title', 'body', stemmer='none',"
            f" stopwords='none', ignore='{_SEPARATORS}', strip_accents=0, lower=0, overwrite=1)"
        )
    return len(changed)


def _update_lake_index(con: duckdb.DuckDBPyConnection, changed: list[str]) -> None:
    """DuckLake: replace the postings and lengths of the changed articles (all of them on first use)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ?"
        " AND table_name = 'postings'", [LAKE_INDEX]
    ).fetchone()[0]
    if not exists:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {LAKE_INDEX}")
        con.execute(f"CREATE TABLE {LAKE_INDEX}.postings (article_id VARCHAR NOT NULL, term VARCHAR NOT NULL,"
                    " tf INTEGER NOT NULL)")
        con.execute(f"CREATE TABLE {LAKE_INDEX}.docs (article_id VARCHAR NOT NULL, len INTEGER NOT NULL)")
        selected = "SELECT article_id FROM search_corpus"
        changed = None
    else:
        if not changed:
            return
        selected = "SELECT article_id FROM batch_changed"
    with registered(con, batch_changed={"article_id": pa.array(changed or [], pa.string())}):
        for table in ("postings", "docs"):
            con.execute(f"DELETE FROM {LAKE_INDEX}.{table} WHERE article_id IN ({selected})")
        con.execute(
            f"INSERT INTO {LAKE_INDEX}.postings SELECT article_id, term, count(*) FROM"
            f" (SELECT article_id, unnest({_tokens('title')} || {_tokens('body')}) AS term"
            f"  FROM search_corpus WHERE article_id IN ({selected}))"
            " WHERE term <> '' GROUP BY article_id, term"
        )
        con.execute(
            f"INSERT INTO {LAKE_INDEX}.docs SELECT s.article_id, coalesce(sum(p.tf), 0) FROM search_corpus s"
            f" LEFT JOIN {LAKE_INDEX}.postings p USING (article_id) WHERE s.article_id IN ({selected})"
            " GROUP BY s.article_id"
        )


def _index_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'fts_main_search_corpus'").fetchone()[0])


def search(query: str, db: str | os.PathLike | None = None, limit: int = 10) -> list[Hit]:
    """Best matches first; an empty list when nothing matches."""
    words = _WORD.findall(fold(query))
    if not words:
        raise SearchError("nothing to search for: give some words")
    con = open_read_only(db, extensions=load_fts)
    try:
        scores = _LAKE_BM25 if is_lake(con) else _FTS_BM25
        rows = con.execute(
            f"""
            WITH hit AS ({scores})
            SELECT a.article_id, a.title, a.site, a.published_at, hit.score, a.text
            FROM hit JOIN articles a USING (article_id)
            WHERE hit.score IS NOT NULL
            ORDER BY hit.score DESC, a.published_at DESC NULLS LAST, a.article_id
            LIMIT ?
            """,
            [query, limit],
        ).fetchall()
    except duckdb.CatalogException as error:
        raise SearchError("the warehouse has no search index yet: run 'tinbai ingest' (or 'tinbai reprocess')") from error
    except duckdb.Error as error:
        raise SearchError(first_line(error)) from error
    finally:
        con.close()
    return [Hit(article_id, title, site, published, score, snippet(text, words))
            for article_id, title, site, published, score, text in rows]


def _tokens(column: str) -> str:
    """fts's own tokenizer (its `tokenize` macro with tinbai's ignore pattern), as an SQL expression."""
    return f"string_split_regex(regexp_replace({column}, '{_SEPARATORS}', ' ', 'g'), '\\s+')"


# (article_id, score) for the words of the one parameter: fts's index on a DuckDB file,
# tinbai's postings on a DuckLake, with fts's formula.
_FTS_BM25 = (
    "SELECT article_id, fts_main_search_corpus.match_bm25(article_id, search_fold(?)) AS score FROM search_corpus"
)
_LAKE_BM25 = f"""
    WITH q AS (SELECT DISTINCT unnest({_tokens('search_fold(?)')}) AS term),
    stats AS (SELECT count(*) AS n, avg(len) AS avgdl FROM {LAKE_INDEX}.docs),
    hits AS (SELECT p.article_id, p.term, p.tf FROM {LAKE_INDEX}.postings p JOIN q USING (term)),
    df AS (SELECT term, count(*) AS df FROM hits GROUP BY term)
    SELECT h.article_id,
           sum(log((((stats.n - df.df) + 0.5) / (df.df + 0.5)) + 1)
               * ((h.tf * ({BM25_K1} + 1)) / (h.tf + ({BM25_K1} * ((1 - {BM25_B}) + ({BM25_B} * (d.len / stats.avgdl))))))) AS score
    FROM hits h JOIN df USING (term) JOIN {LAKE_INDEX}.docs d USING (article_id), stats
    GROUP BY h.article_id
"""


def fold(text: str) -> str:
    """Python twin of the `search_fold` SQL macro, one character for one, so offsets line up."""
    return "".join(_fold_char(char) for char in text)


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    return unicodedata.normalize("NFD", char)[0].lower()[:1] or char


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """The stretch of the text around the first place where a query word appears as a word."""
    folded = fold(text)
    starts = [found for word in words if (found := _word_at(folded, word)) >= 0]
    if not starts:
        return _shorten(text[:width], cut_start=False, cut_end=len(text) > width)
    start = max(0, min(starts) - width // 3)
    end = min(len(text), start + width)
    return _shorten(text[start:end], cut_start=start > 0, cut_end=end < len(text))


def _word_at(folded: str, word: str) -> int:
    position = folded.find(word)
    while position >= 0:
        before = folded[position - 1] if position else " "
        after = folded[position + len(word)] if position + len(word) < len(folded) else " "
        if not before.isalnum() and not after.isalnum():
            return position
        position = folded.find(word, position + 1)
    return -1


def _shorten(piece: str, cut_start: bool, cut_end: bool) -> str:
    piece = " ".join(piece.split())
    return ("… " if cut_start else "") + piece + (" …" if cut_end else "")
