-- The analyst's warehouse: enrichment tables, search corpus, resumable jobs, headline views.

-- Party and State documents cited by a member (article or duplicate; see transforms.enrich).
-- article_id is the member's id: articles.article_id, or duplicates.duplicate_id for a
-- repost, so a member keeps its rows when it changes role.
CREATE TABLE document_refs (
    article_id  VARCHAR NOT NULL,
    code        VARCHAR NOT NULL,   -- normalised: '205-QĐ/TW', 'Kết luận 64', 'Nghị quyết Trung ương 4 khóa XI'
    kind        VARCHAR NOT NULL,   -- 'Quy định', 'Chỉ thị', 'Nghị quyết', ...
    number      VARCHAR,
    issuer      VARCHAR,            -- the symbol's issuing body: 'TW', 'BTCTW', 'CP', ...
    mention     VARCHAR NOT NULL,   -- the words as written
    position    INTEGER NOT NULL,   -- character offset of the mention in the text
    PRIMARY KEY (article_id, code)
);

-- Persons named with their positions, as the article states them.
CREATE TABLE people (
    article_id  VARCHAR NOT NULL,   -- as in document_refs
    name        VARCHAR NOT NULL,
    position    VARCHAR,            -- 'Ủy viên Bộ Chính trị, Trưởng Ban Tổ chức Trung ương'
    honorific   VARCHAR,            -- 'đồng chí', 'ông', 'bà'
    mention     VARCHAR NOT NULL,
    start       INTEGER NOT NULL,
    PRIMARY KEY (article_id, name, start)
);

-- Accent-folded copy of every article's title and text, indexed by the fts extension
-- (rebuilt after each writing run; see warehouse.search).
CREATE TABLE search_corpus (
    article_id    VARCHAR PRIMARY KEY,
    content_hash  VARCHAR NOT NULL,   -- articles.content_hash when folded: a changed text is folded again
    title         VARCHAR NOT NULL,
    body          VARCHAR NOT NULL
);

-- Progress of long, resumable jobs (reprocess): the last key of every batch committed.
CREATE TABLE job_progress (
    job_key      VARCHAR NOT NULL,  -- hash of the job's parameters and code versions
    batch        INTEGER NOT NULL,
    last_source  VARCHAR NOT NULL,  -- keyset cursor: the job resumes after this source
    run_id       VARCHAR NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_key, batch)
);

CREATE VIEW articles_by_month AS
SELECT
    date_trunc('month', timezone('Asia/Ho_Chi_Minh', a.published_at))::DATE AS month,  -- news time is Vietnam time
    count(*)                                   AS articles,
    count(DISTINCT a.site)                     AS sites,
    coalesce(sum(d.reposts), 0)                AS duplicates,
    round(avg(length(a.text)))::INTEGER        AS avg_chars
FROM articles a
LEFT JOIN (SELECT canonical_id, count(*) AS reposts FROM duplicates GROUP BY canonical_id) d
       ON d.canonical_id = a.article_id
GROUP BY ALL;

CREATE VIEW articles_by_site AS
SELECT
    coalesce(a.site, '(unknown)')              AS site,
    count(*)                                   AS articles,
    coalesce(sum(d.reposts), 0)                AS duplicates_of_its_articles,
    (SELECT count(*) FROM duplicates x WHERE x.site IS NOT DISTINCT FROM a.site) AS reposts_from_site,
    min(a.published_at)                        AS first_published,
    max(a.published_at)                        AS last_published,
    round(avg(length(a.text)))::INTEGER        AS avg_chars
FROM articles a
LEFT JOIN (SELECT canonical_id, count(*) AS reposts FROM duplicates GROUP BY canonical_id) d
       ON d.canonical_id = a.article_id
GROUP BY ALL;

CREATE VIEW run_history AS
SELECT
    run_id, flow, status, started_at, finished_at,
    round(epoch(finished_at) - epoch(started_at), 1) AS seconds,
    read_count, unchanged_count, loaded_count, duplicate_count, rejected_count,
    CASE WHEN read_count > 0 THEN round(duplicate_count / read_count, 3) END AS duplicate_rate,
    parameters, message
FROM runs
ORDER BY started_at DESC;

-- Accent and case folding for search: 'Chỉ thị', 'chi thi' and 'CHỈ THỊ' fold alike.
-- strip_accents leaves đ (a letter of its own, not d with a mark), so it is mapped here.
CREATE MACRO search_fold(x) AS replace(lower(strip_accents(x)), 'đ', 'd');

-- Who held a post when: each (person, position) as the articles state it, with the span
-- of publication dates that state it (canonical articles only; undated ones count, not date).
CREATE VIEW people_positions AS
SELECT
    p.name,
    p.position,
    min(a.published_at)            AS first_stated,
    max(a.published_at)            AS last_stated,
    count(DISTINCT p.article_id)   AS articles
FROM people p
JOIN articles a USING (article_id)
WHERE p.position IS NOT NULL
GROUP BY p.name, p.position;
