"""The headline analytics: articles per month and site, top cited documents and people, duplicate rate.

One query set, two renderings: rich tables for `tinbai report`, markdown for the Prefect
artifact every writing run publishes.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

TOP = 10
MONTHS = 12


@dataclass(frozen=True)
class Section:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple]


@dataclass(frozen=True)
class Report:
    totals: dict[str, object]
    sections: list[Section]


def headline_report(con: duckdb.DuckDBPyConnection, top: int = TOP, months: int = MONTHS) -> Report:
    articles, duplicates, rejects, sites = con.execute(
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM duplicates), (SELECT count(*) FROM rejects),"
        " (SELECT count(DISTINCT site) FROM articles)"
    ).fetchone()
    inputs = articles + duplicates
    totals = {
        "articles": articles, "duplicates": duplicates, "rejects": rejects, "sites": sites,
        "duplicate rate": f"{duplicates / inputs:.1%}" if inputs else "n/a",
    }
    sections = [
        _section(con, f"Articles per month (last {months})", ("month", "articles", "sites", "duplicates"),
                 "SELECT month, articles, sites, duplicates FROM articles_by_month WHERE month IS NOT NULL"
                 " ORDER BY month DESC LIMIT ?", [months]),
        _section(con, f"Top {top} sites", ("site", "articles", "duplicates of its articles"),
                 "SELECT site, articles, duplicates_of_its_articles FROM articles_by_site"
                 " ORDER BY articles DESC, site LIMIT ?", [top]),
        _section(con, f"Top {top} cited documents", ("document", "kind", "articles"),
                 "SELECT r.code, any_value(r.kind), count(DISTINCT r.article_id) AS n FROM document_refs r"
                 " JOIN articles a USING (article_id) GROUP BY r.code ORDER BY n DESC, r.code LIMIT ?", [top]),
        _section(con, f"Top {top} people", ("name", "articles", "latest position"),
                 "SELECT p.name, count(DISTINCT p.article_id) AS n,"
                 " arg_max(p.position, coalesce(a.published_at, a.first_seen_at)) FILTER (WHERE p.position IS NOT NULL)"
                 " FROM people p JOIN articles a USING (article_id) GROUP BY p.name ORDER BY n DESC, p.name LIMIT ?",
                 [top]),
    ]
    return Report(totals, sections)


def _section(con, title: str, columns: tuple[str, ...], sql: str, parameters: list) -> Section:
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
