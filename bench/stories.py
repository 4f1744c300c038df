"""Stories on the baomoi corpus: precision and recall of "same story" on hand-labelled pairs,
and the time to assign stories, whole and incrementally.

    .venv/bin/python bench/stories.py [--db WAREHOUSE] [--threshold T ...]

Without --db it loads the 21,448 baomoi articles into a fresh warehouse first (~25 s).
Prints, measured in this run:
- for each threshold: precision and recall of "same story" (two articles with one
  story_id) on the labelled pairs of tests/fixtures/story_pairs.json (pairs of articles
  within 3 days, sampled across similarity bands and from templated series, each judged
  by hand as one event or not), the stories assigned to every article at once;
- the time to assign every canonical article a story at once, and to assign the last
  1,000 (by time) to the stories of the rest, as a run that adds them would.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
PAIRS = PROJECT / "tests" / "fixtures" / "story_pairs.json"

import duckdb  # noqa: E402

from search import corpus_warehouse  # noqa: E402  (bench/search.py: the baomoi warehouse)
from transforms.stories import StoryArticle, StorySettings, assign_stories  # noqa: E402

INCREMENT = 1000


def articles(db: Path) -> list[StoryArticle]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT article_id, site, title, text, coalesce(published_at, first_seen_at) FROM articles"
                           " ORDER BY 5, article_id").fetchall()
    finally:
        con.close()
    return [StoryArticle(*row) for row in rows]


def scored(assigned: dict[str, str], pairs: list[dict]) -> tuple[float, float, int, int]:
    true = false = missed = 0
    for pair in pairs:
        same = assigned[pair["a"]] == assigned[pair["b"]]
        true += same and pair["same_story"]
        false += same and not pair["same_story"]
        missed += pair["same_story"] and not same
    precision = true / (true + false) if true + false else 1.0
    return precision, true / (true + missed), true + false, sum(pair["same_story"] for pair in pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing warehouse (default: load the baomoi corpus into a new one)")
    parser.add_argument("--threshold", type=float, action="append",
                        help=f"cosine thresholds to score (default: {StorySettings().threshold} and around it)")
    args = parser.parse_args()
    db = corpus_warehouse(args.db, "stories")
    if db is None:
        return 1
    if not PAIRS.exists():
        print(f"{PAIRS} is missing: the labelled pairs are not in yet", file=sys.stderr)
        return 1
    pairs = json.loads(PAIRS.read_text(encoding="utf-8"))["pairs"]
    every = articles(db)
    default = StorySettings().threshold
    thresholds = args.threshold or sorted({round(default + step, 2) for step in (-0.1, -0.05, 0, 0.05, 0.1)})
    print(f"{len(pairs)} labelled pairs ({sum(p['same_story'] for p in pairs)} same story), {len(every)} articles")
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'joined':>7} {'stories':>8} {'seconds':>8}")
    for threshold in thresholds:
        started = time.perf_counter()
        assignments, _ = assign_stories(every, [], StorySettings(threshold=threshold))
        seconds = time.perf_counter() - started
        assigned = {a.article_id: a.story_id for a in assignments}
        precision, recall, joined, _ = scored(assigned, pairs)
        print(f"{threshold:9.2f} {precision:9.3f} {recall:7.3f} {joined:7} {len(set(assigned.values())):8} {seconds:8.1f}")
    settings = StorySettings()
    stored, added = every[:-INCREMENT], every[-INCREMENT:]
    first, _ = assign_stories(stored, [], settings)
    story_of = {a.article_id: a.story_id for a in first}
    low = min(a.moment for a in added) - settings.window
    known = [StoryArticle(a.article_id, a.site, a.title, a.text, a.moment, story_of[a.article_id])
             for a in stored if a.moment >= low]
    started = time.perf_counter()
    assign_stories(added, known, settings)
    incremental = time.perf_counter() - started
    print(f"incremental: {INCREMENT} articles against the {len(known)} stored ones of their window in {incremental:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
