-- tinbai warehouse, version 1. Table and column names are the public contract.

CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,      -- the Prefect flow run id
    flow            VARCHAR NOT NULL,
    parameters      JSON,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,         -- running | completed | failed
    read_count      INTEGER DEFAULT 0,        -- inputs read (new or changed)
    unchanged_count INTEGER DEFAULT 0,        -- inputs skipped: same source, same bytes as before
    loaded_count    INTEGER DEFAULT 0,        -- articles inserted or updated
    duplicate_count INTEGER DEFAULT 0,
    rejected_count  INTEGER DEFAULT 0,
    message         VARCHAR
);

CREATE TABLE raw_documents (
    document_id   VARCHAR PRIMARY KEY,        -- hash of source + content hash
    source        VARCHAR NOT NULL,           -- path or URL
    format        VARCHAR NOT NULL,           -- text | html | jsonl | unknown
    content_hash  VARCHAR NOT NULL,           -- sha256 of the bytes
    size_bytes    BIGINT NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    content       BLOB NOT NULL,
    run_id        VARCHAR NOT NULL
);

CREATE TABLE articles (
    article_id        VARCHAR PRIMARY KEY,    -- hash of the source that first produced it
    document_id       VARCHAR NOT NULL,       -- the raw document it was last built from
    source            VARCHAR NOT NULL UNIQUE,
    url               VARCHAR,
    site              VARCHAR,
    title             VARCHAR NOT NULL,
    author            VARCHAR,
    published_at      TIMESTAMPTZ,
    date_precision    VARCHAR,                -- second | minute | day | day_inferred_year
    original_source   VARCHAR,
    views             BIGINT,
    text              VARCHAR NOT NULL,       -- body paragraphs separated by newlines, NFC
    content_hash      VARCHAR NOT NULL,       -- sha256 of the text with case and whitespace folded
    format            VARCHAR NOT NULL,
    extractor         VARCHAR NOT NULL,
    extractor_version VARCHAR NOT NULL,
    cleaner_version   VARCHAR NOT NULL,
    first_run_id      VARCHAR NOT NULL,
    last_run_id       VARCHAR NOT NULL,
    loaded_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE duplicates (
    source        VARCHAR NOT NULL,           -- the input found to duplicate an article
    document_id   VARCHAR NOT NULL,
    canonical_id  VARCHAR NOT NULL,           -- articles.article_id
    similarity    DOUBLE NOT NULL,            -- 1.0 for exact; shingle Jaccard for near
    method        VARCHAR NOT NULL,           -- exact | near
    run_id        VARCHAR NOT NULL,
    detected_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, canonical_id)
);

CREATE TABLE rejects (
    source        VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,           -- '' when nothing could be read
    stage         VARCHAR NOT NULL,           -- read | decode | parse | clean
    reason        VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    rejected_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, content_hash, stage, reason)
);

-- MinHash LSH band keys of each article, so every run dedups against the whole warehouse.
CREATE TABLE article_bands (
    article_id  VARCHAR NOT NULL,
    band        SMALLINT NOT NULL,
    band_key    BIGINT NOT NULL
);
CREATE INDEX article_bands_key ON article_bands (band_key);
