-- A person is a name plus a consistent post history (transforms/people.py): namesakes with
-- unrelated posts are apart. `person` is the name alone when the warehouse knows one person
-- of that name, else the name and that person's most stated post ("Nguyễn Văn Bình
-- (Thống đốc NHNN)"). Set after each writing run for the names it touched; NULL until then.
ALTER TABLE people ADD COLUMN person VARCHAR;

DROP VIEW people_positions;

-- Who held a post when: each (person, position) as the articles state it, with the span
-- of publication dates that state it (canonical articles only; undated ones count, not
-- date), and in how many stories (a story's several write-ups count once).
CREATE VIEW people_positions AS
SELECT
    coalesce(p.person, p.name)                          AS person,
    p.name,
    p.position,
    min(a.published_at)                                 AS first_stated,
    max(a.published_at)                                 AS last_stated,
    count(DISTINCT p.article_id)                        AS articles,
    count(DISTINCT coalesce(a.story_id, a.article_id))  AS stories
FROM people p
JOIN articles a USING (article_id)
WHERE p.position IS NOT NULL
GROUP BY ALL;
