-- Per site and Vietnam day of arrival (first_seen_at): what the pipeline got from the site.
-- A site whose template changed shows up as a drop in articles, text length or the share
-- with an author or a time; `tinbai report` flags such drops (warehouse.report).
-- `site` is what --site matches (the sources file's site, else the outlet's name). A reject
-- is the site's when its URL's host is one the site's members were fetched from.
CREATE VIEW site_health AS
WITH members AS (
    SELECT coalesce(sources_site, site, '(unknown)') AS site, host, first_seen_at, text, author, date_precision,
           FALSE AS duplicate
    FROM articles
    UNION ALL
    SELECT coalesce(sources_site, site, '(unknown)'), host, first_seen_at, text, author, date_precision, TRUE
    FROM duplicates
),
host_sites AS (
    SELECT host, mode(site) AS site FROM members WHERE host IS NOT NULL GROUP BY host
),
by_day AS (
    SELECT site, date_trunc('day', timezone('Asia/Ho_Chi_Minh', first_seen_at))::DATE AS day,
           count(*) FILTER (WHERE NOT duplicate)                          AS articles,
           count(*) FILTER (WHERE duplicate)                              AS duplicates,
           median(length(text))::INTEGER                                  AS median_chars,
           round(avg((author IS NOT NULL)::INTEGER), 3)                   AS with_author,
           round(avg((date_precision IN ('minute', 'second'))::INTEGER), 3) AS with_time
    FROM members
    GROUP BY ALL
),
rejected AS (
    SELECT coalesce(h.site, '(unknown)') AS site,
           date_trunc('day', timezone('Asia/Ho_Chi_Minh', r.rejected_at))::DATE AS day,
           count(*) AS rejects, histogram(r.reason) AS rejects_by_reason
    FROM rejects r
    LEFT JOIN host_sites h ON h.host = regexp_extract(lower(r.source), '^https?://(?:www\.)?([^/?#]+)', 1)
    GROUP BY ALL
)
SELECT
    site, day,
    coalesce(d.articles, 0)    AS articles,
    coalesce(d.duplicates, 0)  AS duplicates,
    coalesce(r.rejects, 0)     AS rejects,
    r.rejects_by_reason,
    d.median_chars, d.with_author, d.with_time
FROM by_day d
FULL OUTER JOIN rejected r USING (site, day);
