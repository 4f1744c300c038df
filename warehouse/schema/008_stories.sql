-- Stories: the reports of several outlets on one event (transforms/stories.py). Every
-- article gets a story_id, the article_id of the story's first article; a duplicate is in
-- its canonical's story. Given once, never renumbered; NULL until the run's story pass.
ALTER TABLE articles ADD COLUMN story_id VARCHAR;
ALTER TABLE articles ADD COLUMN story_similarity DOUBLE;  -- to the article it joined; NULL for a story's first

-- The heaviest terms of each story (TF-IDF of its members' titles and leads), as of its last change.
CREATE TABLE story_terms (
    story_id  VARCHAR PRIMARY KEY,
    terms     VARCHAR[] NOT NULL,
    run_id    VARCHAR NOT NULL
);

CREATE VIEW stories AS
WITH members AS (
    SELECT a.story_id, a.article_id, a.site, coalesce(a.published_at, a.first_seen_at) AS moment,
           (SELECT count(*) FROM duplicates d WHERE d.canonical_id = a.article_id) AS copies
    FROM articles a
    WHERE a.story_id IS NOT NULL
)
SELECT
    m.story_id,
    arg_min(m.site, m.moment)                                        AS first_site,
    min(m.moment)                                                    AS first_at,
    list(DISTINCT m.site ORDER BY m.site) FILTER (WHERE m.site IS NOT NULL) AS sites,
    count(DISTINCT m.site)                                           AS outlets,
    count(*)                                                         AS articles,
    sum(m.copies)::BIGINT                                            AS copies,
    round((epoch(max(m.moment)) - epoch(min(m.moment))) / 3600, 1)   AS span_hours,
    any_value(t.terms)                                               AS top_terms
FROM members m
LEFT JOIN story_terms t USING (story_id)
GROUP BY m.story_id;
