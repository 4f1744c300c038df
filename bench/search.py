"""Full-text search on the baomoi corpus: precision@10 on judged queries, index rebuild cost,
query latency, accent-insensitivity.

    .venv/bin/python bench/search.py [--db WAREHOUSE]

Without --db it loads the 21,448 baomoi articles into a fresh warehouse first (`tinbai
ingest`, ~25 s). Prints, each measured in this run:
- precision@10 on the judged queries of tests/fixtures/search_judged.json (28 queries an
  analyst of this corpus asks: people, places, document codes, topics, with and without
  accents; every article in the top 10 of the search before and after judged by hand),
  today's search against the top 10 the search before issue 16 gave, and the median and
  worst query time (one `search` call each: connection, query, snippets);
- the rebuild of the folded corpus and its BM25 index (done after every writing run);
- per query: BM25 latency against a plain scan (`search_fold(text) LIKE '%words%'`), and
  how many of the top 10 an unaccented query shares with the accented one.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
CORPUS = PROJECT.parent / "shared" / "corpora" / "baomoi" / "baomoi_21448.jsonl.gz"
JUDGED = PROJECT / "tests" / "fixtures" / "search_judged.json"

from warehouse.connection import opened  # noqa: E402
from warehouse.search import fold, refresh_index, search  # noqa: E402

QUERIES = ["chỉ thị 35", "giá xăng", "Bộ Chính trị", "bão số 1", "Hà Nội tắc đường", "đội tuyển bóng đá Việt Nam"]
REPEATS = 5


def corpus_warehouse(given: str | None, name: str) -> Path | None:
    """The warehouse given, else a fresh one with the baomoi corpus loaded (`tinbai ingest`); None without the corpus."""
    if given:
        return Path(given)
    if not CORPUS.exists():
        print(f"{CORPUS} is missing", file=sys.stderr)
        return None
    db = Path(tempfile.mkdtemp()) / f"{name}.duckdb"
    subprocess.run([str(PROJECT / ".venv" / "bin" / "tinbai"), "ingest", str(CORPUS), "--db", str(db)], check=True,
                   stdout=subprocess.DEVNULL)
    return db


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing warehouse (default: load the baomoi corpus into a new one)")
    args = parser.parse_args()
    db = corpus_warehouse(args.db, "search")
    if db is None:
        return 1
    precision(db)
    with opened(db) as con:
        con.execute("DELETE FROM search_corpus")
        indexed, rebuild = timed(refresh_index, con)
        unchanged, noop = timed(refresh_index, con)
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    print(f"index rebuild: {indexed} articles folded and indexed in {rebuild:.2f} s ({indexed / rebuild:,.0f} articles/s);"
          f" again with nothing changed: {noop:.2f} s")
    print(f"{'query':32} {'BM25 ms':>8} {'scan ms':>8} {'ratio':>6} {'hits':>5} {'same top-10 unaccented':>24}")
    ratios = []
    for query in QUERIES:
        bm25 = statistics.median(timed(search, query, db)[1] for _ in range(REPEATS))
        scan = statistics.median(timed(_scan, db, query)[1] for _ in range(REPEATS))
        accented = [hit.article_id for hit in search(query, db)]
        plain = [hit.article_id for hit in search(fold(query), db)]
        shared = len(set(accented) & set(plain))
        ratios.append(scan / bm25)
        print(f"{query:32} {bm25 * 1000:8.1f} {scan * 1000:8.1f} {scan / bm25:6.2f} {len(accented):5} "
              f"{shared:>14}/{len(accented)}")
    print(f"{articles} articles; median scan/BM25 latency ratio {statistics.median(ratios):.2f} "
          "(BM25 ranks; the scan only filters an exact folded phrase)")
    return 0


def precision(db: Path) -> None:
    """Precision@10 before and now on the judged queries; an article nobody judged counts as not relevant."""
    queries = json.loads(JUDGED.read_text(encoding="utf-8"))["queries"]
    print(f"{'query':28} {'P@10 before':>11} {'now':>5} {'ms':>6} {'unjudged':>8}")
    before_all, now_all, times = [], [], []
    for query, judged in queries.items():
        hits, seconds = timed(search, query, db)
        now = [hit.article_id for hit in hits[:10]]
        before = sum(judged["judged"][article] for article in judged["before"]) / 10
        after = sum(judged["judged"].get(article, 0) for article in now) / 10
        unjudged = sum(article not in judged["judged"] for article in now)
        before_all.append(before)
        now_all.append(after)
        times.append(seconds)
        print(f"{query:28} {before:11.1f} {after:5.1f} {seconds * 1000:6.0f} {unjudged:8}")
    print(f"mean precision@10: before {statistics.mean(before_all):.3f}, now {statistics.mean(now_all):.3f};"
          f" query time median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms")


def _scan(db: Path, query: str) -> list:
    from warehouse.queries import open_read_only

    con = open_read_only(db)
    try:
        return con.execute(
            "SELECT article_id, title FROM articles WHERE search_fold(title || ' ' || text) LIKE '%' || search_fold(?) || '%'"
            " LIMIT 10", [query]
        ).fetchall()
    finally:
        con.close()


if __name__ == "__main__":
    sys.exit(main())
