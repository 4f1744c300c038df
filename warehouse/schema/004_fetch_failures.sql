-- Per-URL failure state, so a rerun does not ask again at once what just failed.
-- A failed fetch of an article page, or a daily archive page that has no archive (404),
-- is asked again only from next_attempt_at on, the wait doubling with each failure up to a
-- cap (flows.web.FailureBackoff); `--refetch` asks anyway. A success removes the row.
CREATE TABLE fetch_failures (
    url              VARCHAR PRIMARY KEY,   -- canonical URL
    kind             VARCHAR NOT NULL,      -- 'page' (an article) or 'archive' (a daily archive page)
    failures         INTEGER NOT NULL,      -- failures in a row
    last_reason      VARCHAR NOT NULL,
    first_failed_at  TIMESTAMPTZ NOT NULL,
    last_failed_at   TIMESTAMPTZ NOT NULL,
    next_attempt_at  TIMESTAMPTZ NOT NULL
);
