-- tinbai warehouse, version 1. Table and column names are the public contract.

CREATE TABLE runs (
    run_id                VARCHAR PRIMARY KEY,  -- the Prefect flow run id
    flow                  VARCHAR NOT NULL,
    parameters            JSON,
    started_at            TIMESTAMPTZ NOT NULL,
    finished_at           TIMESTAMPTZ,
    status                VARCHAR NOT NULL,     -- running | completed | failed | interrupted
    read_count            INTEGER DEFAULT 0,    -- inputs read (new or changed)
    unchanged_count       INTEGER DEFAULT 0,    -- inputs skipped: same source, same bytes as before
    loaded_count          INTEGER DEFAULT 0,    -- articles inserted or updated
    duplicate_count       INTEGER DEFAULT 0,    -- inputs found to duplicate an article
    exact_duplicate_count INTEGER DEFAULT 0,
    near_duplicate_count  INTEGER DEFAULT 0,
    rejected_count        INTEGER DEFAULT 0,
    message               VARCHAR
);

CREATE TABLE raw_documents (
    document_id   VARCHAR PRIMARY KEY,          -- hash of source + content hash
    source        VARCHAR NOT NULL,             -- path, file.jsonl#id, or URL
    format        VARCHAR NOT NULL,             -- text | html | jsonl | unknown
    content_hash  VARCHAR NOT NULL,             -- sha256 of the bytes
    size_bytes    BIGINT NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    content       BLOB NOT NULL,
    run_id        VARCHAR NOT NULL
);

-- One row per unique article: the canonical member of its duplicate cluster.
CREATE TABLE articles (
    article_id        VARCHAR PRIMARY KEY,      -- hash of its source
    source            VARCHAR NOT NULL UNIQUE,
    document_id       VARCHAR NOT NULL,         -- the raw document it was built from
    url               VARCHAR,
    site              VARCHAR,
    title             VARCHAR NOT NULL,
    author            VARCHAR,
    published_at      TIMESTAMPTZ,
    date_precision    VARCHAR,                  -- second | minute | day | day_inferred_year
    original_source   VARCHAR,
    views             BIGINT,
    text              VARCHAR NOT NULL,         -- body paragraphs separated by newlines, NFC
    content_hash      VARCHAR NOT NULL,         -- sha256 of the text with case and whitespace folded
    format            VARCHAR NOT NULL,
    extractor         VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    cleaner_version   VARCHAR NOT NULL,
    first_run_id      VARCHAR NOT NULL,
    first_seen_at     TIMESTAMPTZ NOT NULL,     -- start of the run that first loaded this input
    last_run_id       VARCHAR NOT NULL,
    loaded_at         TIMESTAMPTZ NOT NULL
);

-- One row per input found to duplicate an article. It keeps the whole parsed article, so
-- that a later, better member (the original publisher, an earlier publication) can take
-- the canonical place and this one be promoted back without re-reading anything.
CREATE TABLE duplicates (
    duplicate_id      VARCHAR PRIMARY KEY,      -- hash of its source (the article_id it would have)
    source            VARCHAR NOT NULL UNIQUE,
    canonical_id      VARCHAR NOT NULL,         -- articles.article_id
    similarity        DOUBLE NOT NULL,          -- 1.0 for exact; shingle Jaccard with the canonical for near
    method            VARCHAR NOT NULL,         -- exact | near
    detected_run_id   VARCHAR NOT NULL,
    detected_at       TIMESTAMPTZ NOT NULL,
    document_id       VARCHAR NOT NULL,
    url               VARCHAR,
    site              VARCHAR,
    title             VARCHAR NOT NULL,
    author            VARCHAR,
    published_at      TIMESTAMPTZ,
    date_precision    VARCHAR,
    original_source   VARCHAR,
    views             BIGINT,
    text              VARCHAR NOT NULL,
    content_hash      VARCHAR NOT NULL,
    format            VARCHAR NOT NULL,
    extractor         VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    cleaner_version   VARCHAR NOT NULL,
    first_run_id      VARCHAR NOT NULL,
    first_seen_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE rejects (
    source        VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,             -- '' when nothing could be read
    stage         VARCHAR NOT NULL,             -- read | fetch | discover | decode | parse | clean (transforms.models.REJECT_STAGES)
    reason        VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    rejected_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, content_hash, stage, reason)
);

-- MinHash LSH band keys of every member (article or duplicate), so each run dedups its new
-- documents against everything already loaded. member_id is an article_id or duplicate_id.
CREATE TABLE member_bands (
    member_id  VARCHAR NOT NULL,
    band       SMALLINT NOT NULL,
    band_key   BIGINT NOT NULL
);

CREATE VIEW duplicate_clusters AS
SELECT
    a.article_id                                   AS canonical_id,
    a.title                                        AS canonical_title,
    a.source                                       AS canonical_source,
    a.site                                         AS canonical_site,
    count(d.duplicate_id) + 1                      AS members,
    list(d.source ORDER BY d.source)               AS duplicate_sources,
    list(DISTINCT d.site ORDER BY d.site) FILTER (WHERE d.site IS NOT NULL) AS duplicate_sites,
    min(d.similarity)                              AS min_similarity,
    max(d.similarity)                              AS max_similarity,
    count(*) FILTER (WHERE d.method = 'exact')     AS exact_members,
    count(*) FILTER (WHERE d.method = 'near')      AS near_members
FROM articles a
JOIN duplicates d ON d.canonical_id = a.article_id
GROUP BY a.article_id, a.title, a.source, a.site;
