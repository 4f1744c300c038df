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
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from transforms.errors import TinbaiError
from warehouse.connection import first_line, is_lake, load_fts
from warehouse.arrow import registered
from warehouse.queries import open_read_only, published_and_site
from warehouse.search_query import (QuerySyntaxError, SearchQuery, adjacent_pairs, exact_pattern, fold,
                                    folded_pattern, parse_query, snippet)
from warehouse.transaction import transaction

# The fts index's tokenizer: any run of characters that are not letters or digits splits words.
_SEPARATORS = r"[^\p{L}\p{N}]+"
_FTS = "fts_main_search_corpus"  # the schema of the fts extension's index of search_corpus
LAKE_INDEX = "search_index"  # the DuckLake's own index: schema of the postings and docs tables
BM25_K1, BM25_B = 1.2, 0.75  # fts's match_bm25 defaults
# How many of the best articles by BM25 (of the syllables) are ranked again by phrases and
# accents. Chosen on the baomoi corpus's 28 judged queries (bench/search.py): the top 10 at
# depth 300 and 1000 share 279 of 280 articles; median query time 238 ms against 275 ms.
RERANK_DEPTH = 300


class SearchError(TinbaiError, ValueError):
    """The search could not run; one line for the user."""


@dataclass(frozen=True)
class Hit:
    article_id: str  # a duplicate_id for a copy
    title: str
    url: str | None
    site: str | None
    published_at: datetime | None
    score: float
    copies: int  # the cluster's other members (duplicates)
    snippet: str
    copy_of: str | None = None  # with all_copies: the canonical article_id this hit copies


@dataclass(frozen=True)
class SearchFilters:
    site: str | None = None  # as --site everywhere: the sources file's site, else articles.site
    since: datetime | None = None  # published_at range
    until: datetime | None = None


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
    if not _lake_index_exists(con):
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


def _lake_index_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ?"
        " AND table_name = 'postings'", [LAKE_INDEX]
    ).fetchone()[0])


def _index_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = ?", [_FTS]).fetchone()[0])


def search(text: str, db: str | os.PathLike | None = None, limit: int = 10, filters: SearchFilters = SearchFilters(),
           all_copies: bool = False) -> list[Hit]:
    """Best matches first (see warehouse.search_query for what a query says); [] when nothing matches.

    One hit per duplicate cluster, its canonical article with its number of copies; with
    `all_copies` each copy follows its canonical as a hit of its own (`copy_of` set).
    """
    try:
        query = parse_query(text)
    except QuerySyntaxError as error:
        raise SearchError(str(error)) from error
    con = open_read_only(db, extensions=load_fts)
    try:
        ranked = _ranked(con, query, filters, limit)
        hits = _hits(con, ranked, query)
        return _with_copies(con, hits) if all_copies else hits
    except duckdb.CatalogException as error:
        raise SearchError("the warehouse has no search index yet: run 'tinbai ingest' (or 'tinbai reprocess')") from error
    except duckdb.Error as error:
        raise SearchError(first_line(error)) from error
    finally:
        con.close()


def _ranked(con: duckdb.DuckDBPyConnection, query: SearchQuery, filters: SearchFilters, limit: int) -> list[tuple]:
    """(article_id, score) of the best `limit` articles that contain every word, in rank order.

    Of the articles that hold every word and pass the filters, the RERANK_DEPTH best by BM25
    are ranked by how many words they hold with the accents typed, then by BM25 with the
    phrases (adjacent pairs, longer runs) and the accented words as terms of their own
    (`_terms_bm25`). A phrase is a weight, not a tier: on the judged queries of
    bench/search.py, ranking every article holding the whole phrase first gave precision@10
    0.696, the weighted phrases 0.704 (the search before, 0.639).
    """
    kept, kept_parameters = published_and_site("a", filters.since, filters.until, filters.site)
    kept.insert(0, "h.score IS NOT NULL")
    matched, matched_parameters = ["TRUE"], []  # on the text: only for quoted phrases and exclusions
    for phrase in query.phrases:
        matched.append(_found(_FOLDED, folded_pattern(phrase), matched_parameters))
        if _has_accents(phrase):
            matched.append(_found(_ORIGINAL, exact_pattern(phrase), matched_parameters))
    for words in query.excluded:
        matched.append("NOT " + _found(_FOLDED, folded_pattern(words), matched_parameters))
    tiers, tier_parameters = [], []
    accented = [exact_pattern((word,)) for word in query.words if _has_accents((word,))]
    if accented:
        tiers.append("(" + " + ".join(f"{_found(_ORIGINAL, pattern, tier_parameters)}::INTEGER" for pattern in accented)
                     + ") DESC")
    # Terms of their own besides the syllables: the adjacent pairs and longer runs as typed
    # (phrases), and the accented words as typed.
    term_counts, term_parameters = [], []
    for column, pattern in [(_FOLDED, folded_pattern(pair)) for pair in adjacent_pairs(query)] + [
            (_FOLDED, folded_pattern(run)) for run in query.runs if len(run) > 2] + [
            (_ORIGINAL, pattern) for pattern in accented]:
        term_counts.append(f"len(regexp_extract_all({column}, ?)) AS tf{len(term_counts)}")
        term_parameters.append(pattern)
    # Without conditions on the text, only the RERANK_DEPTH best articles' texts are read.
    best = "" if len(matched) > 1 else f"ORDER BY h.score DESC LIMIT {RERANK_DEPTH}"
    scores = _LAKE_BM25 if is_lake(con) else _FTS_BM25
    return con.execute(
        f"""
        WITH hit AS ({scores}),
        best AS (SELECT h.article_id, h.score FROM hit h {"JOIN articles a USING (article_id)" if len(kept) > 1 else ""}
                 WHERE {" AND ".join(kept)} {best}),
        texts AS (SELECT b.*, a.published_at, a.title || chr(10) || a.text AS original, s.title || chr(10) || s.body AS folded
                  FROM best b JOIN articles a USING (article_id) JOIN search_corpus s USING (article_id)),
        c AS (SELECT * FROM texts c WHERE {" AND ".join(matched)} ORDER BY c.score DESC LIMIT {RERANK_DEPTH}),
        counted AS (SELECT c.*, {", ".join([*term_counts, "length(c.folded) AS chars"])} FROM c),
        corpus AS (SELECT count(*) AS n, avg(length(title) + 1 + length(body)) AS avg_chars FROM search_corpus)
        SELECT c.article_id, c.score + {_terms_bm25(len(term_counts))} AS score FROM counted c, corpus
        ORDER BY {", ".join([*tiers, "score DESC", "c.published_at DESC NULLS LAST", "c.article_id"])}
        LIMIT ?
        """,
        [" ".join(query.folded_words), *kept_parameters, *matched_parameters, *term_parameters, *tier_parameters, limit],
    ).fetchall()


# Where a pattern is looked for: the title and text folded (search_corpus), or as written.
_FOLDED, _ORIGINAL = "c.folded", "c.original"


def _found(column: str, pattern: str, parameters: list) -> str:
    """SQL: the pattern is found in the column; its parameter appended to `parameters`."""
    parameters.append(pattern)
    return f"regexp_matches({column}, ?)"


def _terms_bm25(terms: int) -> str:
    """SQL: the BM25 of terms other than the indexed syllables, their counts in columns tf0,
    tf1, ...: an adjacent pair ("tắc đường") is a Vietnamese word, rarer than its syllables;
    an accented word as typed ("bán") is not its folded form ("ban": bạn, bản, bàn, bán).
    Document frequencies are counted among the ranked articles (every article holding such
    a term holds its folded syllables, so only articles past RERANK_DEPTH are missed);
    lengths are the folded text's characters."""
    if not terms:
        return "0"
    return "(" + " + ".join(
        _bm25(f"tf{index}", f"(count(*) FILTER (WHERE tf{index} > 0) OVER ())", "corpus.n", "chars", "corpus.avg_chars")
        for index in range(terms)) + ")"



def _has_accents(words: tuple[str, ...]) -> bool:
    return any(fold(word) != word for word in words)


def _hits(con: duckdb.DuckDBPyConnection, ranked: list[tuple], query: SearchQuery) -> list[Hit]:
    if not ranked:
        return []
    scores = {article_id: score for article_id, score in ranked}
    with registered(con, ranked_hits={"article_id": pa.array(list(scores), pa.string())}):
        rows = con.execute(
            "SELECT a.article_id, a.title, a.url, a.site, a.published_at, a.text,"
            " (SELECT count(*) FROM duplicates d WHERE d.canonical_id = a.article_id)"
            " FROM articles a WHERE a.article_id IN (SELECT article_id FROM ranked_hits)"
        ).fetchall()
    found = {row[0]: row for row in rows}
    words, typed = query.folded_words, (query.words if query.accented else [])
    return [Hit(article_id, title, url, site, published, scores[article_id], copies, snippet(text, words, typed=typed))
            for article_id, title, url, site, published, text, copies in (found[key] for key in scores)]


def _with_copies(con: duckdb.DuckDBPyConnection, hits: list[Hit]) -> list[Hit]:
    """Each hit followed by its cluster's copies (duplicates), earliest published first."""
    if not hits:
        return []
    with registered(con, canonical_hits={"article_id": pa.array([hit.article_id for hit in hits], pa.string())}):
        rows = con.execute(
            "SELECT canonical_id, duplicate_id, title, url, site, published_at FROM duplicates"
            " WHERE canonical_id IN (SELECT article_id FROM canonical_hits)"
            " ORDER BY canonical_id, published_at NULLS LAST, duplicate_id"
        ).fetchall()
    copies: dict[str, list[Hit]] = {}
    by_id = {hit.article_id: hit for hit in hits}
    for canonical_id, duplicate_id, title, url, site, published in rows:
        canonical = by_id[canonical_id]
        copies.setdefault(canonical_id, []).append(
            Hit(duplicate_id, title, url, site, published, canonical.score, 0, canonical.snippet, copy_of=canonical_id))
    return [member for hit in hits for member in (hit, *copies.get(hit.article_id, ()))]


def prepare_search_session(con: duckdb.DuckDBPyConnection) -> None:
    """The fts extension, and the table macro `search_hits(words)` for ranking in SQL: the
    (article_id, score) of the articles holding every word, folded as the index is, scored
    by BM25 (on both backends: fts's index, or tinbai's on a DuckLake)."""
    load_fts(con)
    lake = is_lake(con)
    if not (_lake_index_exists(con) if lake else _index_exists(con)):
        return  # a warehouse that has loaded nothing yet: no index to rank with (its tables are bound now)
    scores = _LAKE_BM25 if lake else _FTS_BM25
    con.execute(f"CREATE TEMP MACRO search_hits(words) AS TABLE {scores.replace('?', 'search_fold(words)')}")


def _tokens(column: str) -> str:
    """fts's own tokenizer (its `tokenize` macro with tinbai's ignore pattern), as an SQL expression."""
    return f"string_split_regex(regexp_replace({column}, '{_SEPARATORS}', ' ', 'g'), '\\s+')"


def _bm25(tf: str, df: str, n: str, length: str, average: str) -> str:
    """SQL: one term's BM25 as fts's `match_bm25` computes it (k1, b, log idf), from SQL expressions."""
    return (f"log((({n} - {df}) + 0.5) / ({df} + 0.5) + 1) * (({tf} * ({BM25_K1} + 1))"
            f" / ({tf} + {BM25_K1} * ((1 - {BM25_B}) + {BM25_B} * ({length} / {average}))))")


# (article_id, score) of the articles holding every one of the folded words of the one
# parameter: fts's index on a DuckDB file, tinbai's postings on a DuckLake, with fts's formula.
_QUERY_TERMS = f"(SELECT DISTINCT term FROM (SELECT unnest({_tokens('?')}) AS term) WHERE term <> '')"
_FTS_BM25 = f"""
    WITH q AS {_QUERY_TERMS},
    qt AS (SELECT d.termid, d.df FROM {_FTS}.dict d JOIN q USING (term)),
    tf AS (SELECT t.docid, t.termid, count(*) AS tf FROM {_FTS}.terms t JOIN qt USING (termid) GROUP BY ALL),
    stats AS (SELECT num_docs AS n, avgdl FROM {_FTS}.stats)
    SELECT d.name AS article_id,
           sum({_bm25("tf.tf", "qt.df", "stats.n", "d.len", "stats.avgdl")}) AS score
    FROM tf JOIN qt USING (termid) JOIN {_FTS}.docs d USING (docid), stats
    GROUP BY d.name
    HAVING count(*) = (SELECT count(*) FROM q)
"""
_LAKE_BM25 = f"""
    WITH q AS {_QUERY_TERMS},
    stats AS (SELECT count(*) AS n, avg(len) AS avgdl FROM {LAKE_INDEX}.docs),
    hits AS (SELECT p.article_id, p.term, p.tf FROM {LAKE_INDEX}.postings p JOIN q USING (term)),
    df AS (SELECT term, count(*) AS df FROM hits GROUP BY term)
    SELECT h.article_id,
           sum({_bm25("h.tf", "df.df", "stats.n", "d.len", "stats.avgdl")}) AS score
    FROM hits h JOIN df USING (term) JOIN {LAKE_INDEX}.docs d USING (article_id), stats
    GROUP BY h.article_id
    HAVING count(DISTINCT h.term) = (SELECT count(*) FROM q)
"""
