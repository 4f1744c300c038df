"""The warehouse side of stories: which articles need one, the window they are compared
with, and the assignments written back (transforms/stories.py decides)."""
from __future__ import annotations

import duckdb
import pyarrow as pa

from transforms.stories import StoryArticle, StorySettings, assign_stories
from warehouse.arrow import registered
from warehouse.transaction import transaction

_ARTICLE = "SELECT article_id, site, title, text, coalesce(published_at, first_seen_at) AS moment, story_id FROM articles"


def refresh_stories(con: duckdb.DuckDBPyConnection, run_id: str, settings: StorySettings = StorySettings()) -> int:
    """Give every article without a story one, against the stored articles of its window; returns how many."""
    new = [StoryArticle(*row) for row in con.execute(f"{_ARTICLE} WHERE story_id IS NULL").fetchall()]
    if not new:
        return 0
    low = min(article.moment for article in new) - settings.window
    high = max(article.moment for article in new) + settings.window
    known = [StoryArticle(*row) for row in con.execute(
        f"SELECT * FROM ({_ARTICLE}) WHERE story_id IS NOT NULL AND moment BETWEEN ? AND ?", [low, high]).fetchall()]
    assignments, terms = assign_stories(new, known, settings)
    batch = {
        "article_id": pa.array([a.article_id for a in assignments], pa.string()),
        "story_id": pa.array([a.story_id for a in assignments], pa.string()),
        "similarity": pa.array([a.similarity for a in assignments], pa.float64()),
    }
    touched = {"story_id": pa.array(list(terms), pa.string()),
               "terms": pa.array(list(terms.values()), pa.list_(pa.string()))}
    with transaction(con), registered(con, batch_stories=batch, batch_terms=touched):
        con.execute("UPDATE articles SET story_id = b.story_id, story_similarity = b.similarity"
                    " FROM batch_stories b WHERE articles.article_id = b.article_id")
        con.execute("DELETE FROM story_terms WHERE story_id IN (SELECT story_id FROM batch_terms)")
        con.execute("INSERT INTO story_terms SELECT story_id, terms, ? FROM batch_terms", [run_id])
    return len(assignments)
