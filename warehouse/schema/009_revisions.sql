-- Edits and takedowns. Every distinct text (or title) a source has had is a version; a
-- stored page that later answers 404/410/451, or redirects to its site's home or a section
-- page, is taken down, and restored if it comes back (warehouse/revisions.py).
CREATE TABLE article_versions (
    article_id     VARCHAR NOT NULL,     -- the member id of the source (articles.article_id or duplicates.duplicate_id)
    source         VARCHAR NOT NULL,
    version        INTEGER NOT NULL,     -- 1 for the first text seen, then 2, 3, ...
    document_id    VARCHAR NOT NULL,     -- the raw document it was first built from
    title          VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,
    content_hash   VARCHAR NOT NULL,     -- as articles.content_hash
    title_changed  BOOLEAN,              -- against the previous version; NULL for version 1
    chars_added    INTEGER,              -- characters added since the previous version (difflib); NULL for version 1
    chars_removed  INTEGER,
    first_seen_at  TIMESTAMPTZ NOT NULL, -- when this text was first received
    last_seen_at   TIMESTAMPTZ NOT NULL, -- when it was last received, or answered 304
    run_id         VARCHAR NOT NULL,     -- the run that found it
    PRIMARY KEY (source, version)
);

-- What the warehouse held before versions were kept: each member's text as its version 1.
INSERT INTO article_versions
SELECT article_id, source, 1, document_id, title, text, content_hash, NULL, NULL, NULL, first_seen_at, loaded_at, first_run_id
FROM articles
UNION ALL
SELECT duplicate_id, source, 1, document_id, title, text, content_hash, NULL, NULL, NULL, first_seen_at, detected_at, first_run_id
FROM duplicates;

-- One row per takedown: a page removed twice has two rows. Open while restored_at is NULL.
CREATE TABLE takedowns (
    source        VARCHAR NOT NULL,      -- canonical URL (articles.source or duplicates.source)
    removed_at    TIMESTAMPTZ NOT NULL,  -- the check that found it gone
    reason        VARCHAR NOT NULL,      -- 'HTTP 404', 'redirected to the home page', ...
    http_status   INTEGER,
    final_url     VARCHAR,               -- where a redirect led
    restored_at   TIMESTAMPTZ,           -- the check that found it back
    run_id        VARCHAR NOT NULL,
    PRIMARY KEY (source, removed_at)
);
