"""The headline analytics: articles per month and site, top cited documents and people, duplicate rate.

One query set, two renderings: rich tables for `tinbai report`, markdown for the Prefect
artifact every writing run publishes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from transforms.dates import VIETNAM

TOP = 10
MONTHS = 12
# A site is flagged when its articles per day, or its median text length, in the window is
# below this share of what it was over the BASELINE_DAYS before: a template change that
# breaks extraction shows as a fall by half or more (issue 16's bar; no site's day-to-day
# variation in the baomoi corpus comes near it).
DROP_SHARE = 0.5
BASELINE_DAYS = 14


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]


@dataclass(frozen=True)
class Report:
    totals: dict[str, object]
    sections: list[Section]


def headline_report(con: duckdb.DuckDBPyConnection, top: int = TOP, months: int = MONTHS,
                    since: datetime | None = None) -> Report:
    """The warehouse at a glance; with `since`, what arrived from then on (first seen) too.

    Months, days and windows are Vietnam time: the views say so, and `timezone()` here.
    """
    articles, duplicates, rejects, sites, undated, gone, edited = con.execute(
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM duplicates), (SELECT count(*) FROM rejects),"
        " (SELECT count(DISTINCT site) FROM articles), (SELECT count(*) FROM articles WHERE published_at IS NULL),"
        " (SELECT count(DISTINCT source) FROM takedowns WHERE restored_at IS NULL),"
        " (SELECT count(DISTINCT source) FROM article_versions WHERE version > 1)"
    ).fetchone()
    inputs = articles + duplicates
    totals = {
        "articles": articles, "undated": undated, "duplicates": duplicates, "rejects": rejects, "sites": sites,
        "duplicate rate": f"{duplicates / inputs:.1%}" if inputs else "n/a", "edited": edited, "taken down": gone,
    }
    sections = [
        _section(con, f"Articles per month (last {months}; undated apart)", ("month", "articles", "sites", "duplicates"),
                 "SELECT coalesce(month::VARCHAR, '(undated)'), articles, sites, duplicates FROM articles_by_month"
                 " ORDER BY month DESC NULLS LAST LIMIT ?", [months + 1]),
        _section(con, f"Top {top} sites", ("site", "articles", "duplicates of its articles"),
                 "SELECT site, articles, duplicates_of_its_articles FROM articles_by_site"
                 " ORDER BY articles DESC, site LIMIT ?", [top]),
        _cited(con, f"Top {top} cited documents", top, since=None),
        _people(con, f"Top {top} people", top, since=None),
    ]
    if since is not None:
        totals["new since"] = con.execute(
            "SELECT count(*) FROM articles WHERE first_seen_at >= ?", [since]).fetchone()[0]
        sections += _window_sections(con, since, top)
    sections.append(_site_drops(con, since))
    sections.append(_taken_down(con, top, since))
    return Report(totals, sections)


def _taken_down(con, top: int, since: datetime | None) -> Section:
    """Pages still gone (latest first): the warehouse keeps their last text, this says it is no longer online."""
    when = f" since {_vietnam(since)}" if since is not None else ""
    return _section(con, f"Taken down{when} (still gone; the last text seen is kept)",
                    ("article_id", "title", "site", "published_at", "removed_at", "reason"),
                    "WITH members AS (SELECT article_id, source, title, site, published_at FROM articles"
                    "  UNION ALL SELECT duplicate_id, source, title, site, published_at FROM duplicates)"
                    " SELECT m.article_id, m.title, m.site, m.published_at, t.removed_at, t.reason"
                    " FROM takedowns t JOIN members m USING (source)"
                    " WHERE t.restored_at IS NULL AND t.removed_at >= coalesce(?, '-infinity'::TIMESTAMPTZ)"
                    " ORDER BY t.removed_at DESC, m.article_id LIMIT ?", [since, top])


def _window_sections(con, since: datetime, top: int) -> list[Section]:
    when = f"since {_vietnam(since)}"
    return [
        _section(con, f"First seen {when}, per site", ("site", "articles", "copies", "undated"),
                 "SELECT site, count(*) FILTER (WHERE NOT copy), count(*) FILTER (WHERE copy),"
                 " count(*) FILTER (WHERE NOT copy AND published_at IS NULL) FROM ("
                 "  SELECT coalesce(site, '(unknown)') AS site, published_at, FALSE AS copy FROM articles WHERE first_seen_at >= ?"
                 "  UNION ALL SELECT coalesce(site, '(unknown)'), published_at, TRUE FROM duplicates WHERE first_seen_at >= ?)"
                 " GROUP BY site ORDER BY 2 DESC, site", [since, since]),
        _section(con, f"New stories {when} (most copied first)", ("article_id", "title", "site", "published_at", "copies"),
                 "SELECT a.article_id, a.title, a.site, a.published_at,"
                 " (SELECT count(*) FROM duplicates d WHERE d.canonical_id = a.article_id) AS copies"
                 " FROM articles a WHERE a.first_seen_at >= ?"
                 " ORDER BY copies DESC, a.published_at DESC NULLS LAST, a.article_id LIMIT ?", [since, top]),
        _cited(con, f"Top {top} cited documents {when}", top, since),
        _people(con, f"Top {top} people {when}", top, since),
    ]


# Counts are per story: a story's several write-ups (and their copies, which are not in
# `articles`) count once, so a document every outlet reported on one day is one event.
_STORY = "coalesce(a.story_id, a.article_id)"


def _cited(con, title: str, top: int, since: datetime | None) -> Section:
    return _section(con, title, ("document", "kind", "stories", "articles"),
                    f"SELECT r.code, any_value(r.kind), count(DISTINCT {_STORY}) AS n, count(DISTINCT r.article_id)"
                    " FROM document_refs r JOIN articles a USING (article_id)"
                    " WHERE a.first_seen_at >= coalesce(?, '-infinity'::TIMESTAMPTZ)"
                    " GROUP BY r.code ORDER BY n DESC, r.code LIMIT ?", [since, top])


def _people(con, title: str, top: int, since: datetime | None) -> Section:
    return _section(con, title, ("person", "stories", "articles", "latest position"),
                    f"SELECT coalesce(p.person, p.name) AS who, count(DISTINCT {_STORY}) AS n, count(DISTINCT p.article_id),"
                    " arg_max(p.position, coalesce(a.published_at, a.first_seen_at)) FILTER (WHERE p.position IS NOT NULL)"
                    " FROM people p JOIN articles a USING (article_id)"
                    " WHERE a.first_seen_at >= coalesce(?, '-infinity'::TIMESTAMPTZ)"
                    " GROUP BY who ORDER BY n DESC, who LIMIT ?", [since, top])


def _site_drops(con, since: datetime | None) -> Section:
    """Sites whose articles per day or median text length in the window fell below DROP_SHARE
    of their BASELINE_DAYS before it (site_health). The window: from `since`, else the last
    day anything arrived."""
    start = (con.execute("SELECT timezone('Asia/Ho_Chi_Minh', ?::TIMESTAMPTZ)::DATE", [since]).fetchone()[0]
             if since is not None else con.execute("SELECT max(day) FROM site_health").fetchone()[0])
    title = f"Sites that fell by half against their {BASELINE_DAYS} days before {start}"
    columns = ("site", "articles/day", "before", "median chars", "before", "with author", "with time")
    if start is None:
        return Section(title, columns, [])
    return _section(con, title, columns, f"""
        WITH health AS (SELECT * FROM site_health WHERE day >= $start::DATE - {BASELINE_DAYS}),
        last_day AS (SELECT greatest(max(day), $start::DATE) AS day FROM health),
        windowed AS (
            SELECT site,
                   sum(articles + duplicates) FILTER (WHERE day >= $start::DATE)
                       / (date_diff('day', $start::DATE, (SELECT day FROM last_day)) + 1) AS per_day,
                   sum(articles + duplicates) FILTER (WHERE day < $start::DATE) / {BASELINE_DAYS} AS per_day_before,
                   median(median_chars) FILTER (WHERE day >= $start::DATE) AS chars,
                   median(median_chars) FILTER (WHERE day < $start::DATE) AS chars_before,
                   avg(with_author) FILTER (WHERE day >= $start::DATE) AS with_author,
                   avg(with_time) FILTER (WHERE day >= $start::DATE) AS with_time
            FROM health GROUP BY site)
        SELECT site, round(coalesce(per_day, 0), 1), round(per_day_before, 1), chars::INTEGER, chars_before::INTEGER,
               round(with_author, 2), round(with_time, 2)
        FROM windowed
        WHERE per_day_before > 0
          AND (coalesce(per_day, 0) < {DROP_SHARE} * per_day_before OR chars < {DROP_SHARE} * chars_before)
        ORDER BY per_day_before DESC, site
        """, {"start": start})


def _vietnam(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M")


def _section(con, title: str, columns: tuple[str, ...], sql: str, parameters: list | dict) -> Section:
    return Section(title, columns, con.execute(sql, parameters).fetchall())


def report_markdown(report: Report, title: str = "tinbai warehouse") -> str:
    lines = [f"# {title}", "", " · ".join(f"**{name}**: {value}" for name, value in report.totals.items()), ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        if not section.rows:
            lines += ["(none yet)", ""]
            continue
        lines.append("| " + " | ".join(section.columns) + " |")
        lines.append("|" + " --- |" * len(section.columns))
        lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in section.rows]
        lines.append("")
    return "\n".join(lines)


def _cell(value) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")
