-- The web path: HTTP facts of fetched documents, and per-URL state for conditional GET.

ALTER TABLE raw_documents ADD COLUMN final_url VARCHAR;      -- after redirects (web documents only)
ALTER TABLE raw_documents ADD COLUMN http_status INTEGER;
ALTER TABLE raw_documents ADD COLUMN content_type VARCHAR;
ALTER TABLE raw_documents ADD COLUMN charset VARCHAR;
ALTER TABLE raw_documents ADD COLUMN etag VARCHAR;
ALTER TABLE raw_documents ADD COLUMN last_modified VARCHAR;

-- The language a page declares ("vi"); text dumps and JSON records without one stay NULL.
ALTER TABLE articles ADD COLUMN language VARCHAR;
ALTER TABLE duplicates ADD COLUMN language VARCHAR;

-- One row per canonical URL ever fetched: what to send back next time (If-None-Match,
-- If-Modified-Since) and what came back last.
CREATE TABLE fetch_state (
    url              VARCHAR PRIMARY KEY,   -- canonical URL: the source of its raw documents and article
    final_url        VARCHAR,
    http_status      INTEGER,
    etag             VARCHAR,
    last_modified    VARCHAR,
    content_hash     VARCHAR,               -- sha256 of the last body received
    last_fetched_at  TIMESTAMPTZ NOT NULL,
    last_changed_at  TIMESTAMPTZ            -- when a new body (not a 304, not the same bytes) last arrived
);
