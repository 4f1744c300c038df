"""`tinbai report --html FILE`: the warehouse as one page to look at, offline.

One self-contained HTML file: plotly's JavaScript (from the plotly package) is inlined once
and every chart is a div drawing on it, so the page opens without a network and can be
mailed or archived. Days are Vietnam days of the articles' moments (published, else first
seen); people and documents are counted per story (a story's several write-ups and their
copies count once), the rates per member (an article and each copy).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import plotly.graph_objects as go
import plotly.offline

from transforms.dates import VIETNAM, utc_now
from warehouse.report import headline_report

# Charts show this many series; the rest of the sites are summed as one ("other sites").
TOP_SITES = 8
TOP_SERIES = 6
TOP_STORIES = 12
DEFAULT_DAYS = 30
_TITLE_CHARS = 70

# Every member (article or copy) with its Vietnam day and its story: the rows every chart counts.
_MEMBERS = """
    WITH members AS (
        SELECT article_id, article_id AS canonical_id, coalesce(sources_site, site, '(unknown)') AS site,
               coalesce(published_at, first_seen_at) AS moment, FALSE AS copy, NULL AS method
        FROM articles
        UNION ALL
        SELECT duplicate_id, canonical_id, coalesce(sources_site, site, '(unknown)'),
               coalesce(published_at, first_seen_at), TRUE, method
        FROM duplicates
    ), period AS (
        SELECT m.*, timezone('Asia/Ho_Chi_Minh', m.moment)::DATE AS day, coalesce(a.story_id, m.canonical_id) AS story
        FROM members m JOIN articles a ON a.article_id = m.canonical_id
        WHERE m.moment >= $start AND m.moment < $end
    )
"""


@dataclass(frozen=True)
class Period:
    start: datetime  # an instant; the page shows Vietnam days
    end: datetime

    @property
    def label(self) -> str:
        last = (self.end - timedelta(microseconds=1)).astimezone(VIETNAM).date()
        return f"{self.start.astimezone(VIETNAM).date()} – {last} (Vietnam days)"


def report_period(con: duckdb.DuckDBPyConnection, since: datetime | None, days: int = DEFAULT_DAYS) -> Period:
    """From `since` to now; else the `days` Vietnam days up to the last one that has articles
    (a warehouse filled from an archive shows its own last month, not an empty one)."""
    now = utc_now()
    if since is not None:
        return Period(since, now)
    latest = con.execute(
        "SELECT max(coalesce(published_at, first_seen_at)) FROM articles WHERE coalesce(published_at, first_seen_at) <= ?",
        [now]).fetchone()[0] or now
    last_day = latest.astimezone(VIETNAM).date()
    return Period(_vietnam_midnight(last_day - timedelta(days=days - 1)), _vietnam_midnight(last_day + timedelta(days=1)))


def _vietnam_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=VIETNAM)


def report_page(con: duckdb.DuckDBPyConnection, since: datetime | None = None, days: int = DEFAULT_DAYS) -> str:
    """The whole page as one HTML string."""
    period = report_period(con, since, days)
    window = {"start": period.start, "end": period.end}
    summary = headline_report(con, since=since)
    charts = [
        _articles_per_day(con, window),
        _duplicate_rates(con, window),
        _top_stories(con, window),
        _over_time(con, window, "Cited documents over time",
                   "Stories citing each of the most cited documents, per day.",
                   "SELECT r.code AS series, p.day, p.story FROM period p JOIN document_refs r ON r.article_id = p.article_id"),
        _over_time(con, window, "People over time",
                   "Stories naming each of the most named people, per day.",
                   "SELECT coalesce(n.person, n.name) AS series, p.day, p.story"
                   " FROM period p JOIN people n ON n.article_id = p.article_id"),
        _site_health(con, _health_days(con, since, days)),
    ]
    taken_down = next((s for s in summary.sections if s.title.startswith("Taken down")), None)
    totals = "".join(f'<div class="total"><b>{html.escape(str(value))}</b><span>{html.escape(name)}</span></div>'
                     for name, value in summary.totals.items())
    return _PAGE.format(
        period=html.escape(period.label), generated=html.escape(utc_now().astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M")),
        plotly_js=plotly.offline.get_plotlyjs(), totals=totals,
        charts="".join(charts), tables=_table(taken_down) if taken_down is not None else "",
    )


def _rows(con, window: dict, sql: str) -> list[tuple]:
    return con.execute(_MEMBERS + sql, window).fetchall()


def _articles_per_day(con, window: dict) -> str:
    rows = _rows(con, window, f"""
        , ranked AS (SELECT site, count(*) AS n FROM period GROUP BY site ORDER BY n DESC, site LIMIT {TOP_SITES})
        SELECT day, CASE WHEN site IN (SELECT site FROM ranked) THEN site ELSE 'other sites' END AS shown, count(*)
        FROM period GROUP BY ALL ORDER BY day, shown""")
    figure = go.Figure()
    for name, points in _series(rows).items():
        figure.add_bar(name=name, x=[p[0] for p in points], y=[p[1] for p in points])
    figure.update_layout(barmode="stack", yaxis_title="articles (copies included)")
    return _chart("Articles per day, per site", "What each site published each day: its own articles and its copies of others'.",
                  figure, rows)


def _duplicate_rates(con, window: dict) -> str:
    rows = _rows(con, window, """
        SELECT day, count(*) FILTER (WHERE NOT copy), count(*) FILTER (WHERE method = 'exact'),
               count(*) FILTER (WHERE method = 'near'), round(avg(copy::INTEGER), 3)
        FROM period GROUP BY day ORDER BY day""")
    days = [row[0] for row in rows]
    figure = go.Figure()
    figure.add_bar(name="originals", x=days, y=[row[1] for row in rows])
    figure.add_bar(name="exact copies", x=days, y=[row[2] for row in rows])
    figure.add_bar(name="near copies (reworded)", x=days, y=[row[3] for row in rows])
    figure.add_scatter(name="copy rate", x=days, y=[row[4] for row in rows], yaxis="y2", mode="lines+markers")
    figure.update_layout(barmode="stack", yaxis_title="members",
                         yaxis2={"title": "share that are copies", "overlaying": "y", "side": "right",
                                 "tickformat": ".0%", "range": [0, 1]})
    return _chart("Duplicates and copies", "Per day: originals, copies of them (exact and reworded), and the share of copies.",
                  figure, rows)


def _top_stories(con, window: dict) -> str:
    rows = _rows(con, window, f"""
        SELECT p.story, any_value(s.title) AS title, count(*) AS members, count(DISTINCT p.site) AS outlets,
               min(p.moment) AS first_at, arg_min(p.site, p.moment) AS first_site
        FROM period p JOIN articles s ON s.article_id = p.story
        GROUP BY p.story ORDER BY outlets DESC, members DESC, first_at, p.story LIMIT {TOP_STORIES}""")
    rows.reverse()  # the biggest on top of a horizontal bar chart
    labels = [_short(row[1]) for row in rows]
    figure = go.Figure()
    figure.add_bar(name="outlets", y=labels, x=[row[3] for row in rows], orientation="h")
    figure.add_bar(name="articles and copies", y=labels, x=[row[2] for row in rows], orientation="h",
                   customdata=[[row[5], row[4].astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M")] for row in rows],
                   hovertemplate="%{x} articles and copies; first: %{customdata[0]} at %{customdata[1]}<extra></extra>")
    figure.update_layout(barmode="group", height=max(360, 34 * len(rows) + 120), margin={"l": 420})
    return _chart("Top stories", "The events most outlets wrote about (stories join different write-ups of one event).",
                  figure, rows)


def _over_time(con, window: dict, title: str, caption: str, mentions: str) -> str:
    rows = _rows(con, window, f"""
        , mentions AS ({mentions}),
        ranked AS (SELECT series, count(DISTINCT story) AS n FROM mentions GROUP BY series
                   ORDER BY n DESC, series LIMIT {TOP_SERIES})
        SELECT day, series, count(DISTINCT story) FROM mentions WHERE series IN (SELECT series FROM ranked)
        GROUP BY ALL ORDER BY day, series""")
    figure = go.Figure()
    for name, points in _series(rows).items():
        figure.add_scatter(name=name, x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers")
    figure.update_layout(yaxis_title="stories")
    return _chart(title, caption, figure, rows)


def _health_days(con, since: datetime | None, days: int) -> tuple[date, date]:
    """Site health is about arrivals: Vietnam days of first sight from `since`, else the `days` up to the last arrival."""
    if since is not None:
        return since.astimezone(VIETNAM).date(), utc_now().astimezone(VIETNAM).date() + timedelta(days=1)
    last = con.execute("SELECT max(day) FROM site_health").fetchone()[0] or utc_now().astimezone(VIETNAM).date()
    return last - timedelta(days=days - 1), last + timedelta(days=1)


def _site_health(con, days: tuple[date, date]) -> str:
    start, end = days
    rows = con.execute(
        f"""WITH ranked AS (SELECT site FROM site_health WHERE day >= ? AND day < ? GROUP BY site
                            ORDER BY sum(articles + duplicates) DESC, site LIMIT {TOP_SITES * 2})
            SELECT site, day, articles + duplicates, rejects, median_chars, with_author, with_time FROM site_health
            WHERE day >= ? AND day < ? AND site IN (SELECT site FROM ranked) ORDER BY site, day""",
        [start, end, start, end]).fetchall()
    sites = sorted({row[0] for row in rows})
    days = sorted({row[1] for row in rows})
    cells = {(row[0], row[1]): row for row in rows}
    figure = go.Figure(go.Heatmap(
        x=[day.isoformat() for day in days], y=sites, colorscale="Blues", colorbar={"title": "arrived"},
        z=[[(cells.get((site, day)) or (None, None, 0))[2] for day in days] for site in sites],
        text=[[_health_note(cells.get((site, day))) for day in days] for site in sites],
        hovertemplate="%{y}, %{x}<br>%{text}<extra></extra>",
    ))
    figure.update_layout(height=max(300, 30 * len(sites) + 140), margin={"l": 200},
                         xaxis={"type": "category"}, yaxis={"autorange": "reversed"})
    return _chart("Site health", "What arrived from each site per day (first seen): a template change shows as a pale"
                  " row; hover for rejects, median length and the share with an author and a time.", figure, rows)


def _health_note(cell) -> str:
    if cell is None:
        return "nothing arrived"
    _, _, arrived, rejects, chars, author, with_time = cell
    shares = f"author {author:.0%}, time {with_time:.0%}" if author is not None else "no articles"
    return f"{arrived} arrived, {rejects} rejected<br>median {chars or 0} characters; {shares}"


def _series(rows: list[tuple]) -> dict[str, list[tuple]]:
    """(day, series, value) rows as one list of (day, value) per series, in first-seen order."""
    series: dict[str, list[tuple]] = {}
    for day, name, value in rows:
        series.setdefault(name, []).append((day, value))
    return series


def _short(title: str) -> str:
    return title if len(title) <= _TITLE_CHARS else title[:_TITLE_CHARS - 1] + "…"


def _chart(title: str, caption: str, figure, rows: list) -> str:
    if not rows:
        body = '<p class="empty">Nothing in this period.</p>'
    else:
        figure.update_layout(template="plotly_white", legend={"orientation": "h", "y": -0.15},
                             font={"family": "system-ui, sans-serif"})
        body = figure.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})
    return f'<section><h2>{html.escape(title)}</h2><p class="caption">{html.escape(caption)}</p>{body}</section>'


def _table(section) -> str:
    head = "".join(f"<th>{html.escape(column)}</th>" for column in section.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_plain(value))}</td>" for value in row) + "</tr>"
                   for row in section.rows) or f'<tr><td colspan="{len(section.columns)}">none</td></tr>'
    return f"<section><h2>{html.escape(section.title)}</h2><table><tr>{head}</tr>{body}</table></section>"


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M")
    return str(value)


_PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>tinbai report · {period}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: #1d2733; }}
header h1 {{ margin: 0 0 .25rem; }} header p {{ margin: 0; color: #5b6b7d; }}
.totals {{ display: flex; flex-wrap: wrap; gap: .75rem; margin: 1.25rem 0; }}
.total {{ background: #f1f5f9; border-radius: 8px; padding: .6rem 1rem; min-width: 7rem; }}
.total b {{ display: block; font-size: 1.4rem; }} .total span {{ color: #5b6b7d; font-size: .85rem; }}
section {{ margin: 2rem 0; }} h2 {{ margin-bottom: .2rem; }} .caption, .empty {{ color: #5b6b7d; margin-top: 0; }}
table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}
th, td {{ border-bottom: 1px solid #e2e8f0; padding: .35rem .5rem; text-align: left; }}
</style>
<script type="text/javascript">{plotly_js}</script>
</head><body>
<header><h1>tinbai · Vietnamese news warehouse</h1><p>{period} · generated {generated} Vietnam time</p></header>
<div class="totals">{totals}</div>
{charts}
{tables}
</body></html>
"""
