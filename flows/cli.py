"""The `tinbai` command line. Errors are one line on stderr and a non-zero exit, never a traceback."""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import sys
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Column, Table

from transforms.dates import parse_moment, utc_now
from transforms.errors import TinbaiError

FORMATS = ("table", "csv", "json", "jsonl")
TABLE_ROWS = 100  # rows a table shows unless --limit says otherwise
SEARCH_RESULTS = 10
WRITING = ("ingest", "backfill", "revisit", "reprocess", "serve")
EXIT_USAGE = 2
EXIT_FAILED = 1


class UsageError(TinbaiError, ValueError):
    """A command line that cannot work: exit 2."""


class FlowFailed(TinbaiError):
    """A flow run that ended in an error; its own logs (and `runs`) hold the details."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="WAREHOUSE",
        help="a DuckDB file, or ducklake:CATALOG for a DuckLake (default: $TINBAI_DB, else warehouse/tinbai.duckdb)",
    )
    private = argparse.ArgumentParser(add_help=False)
    private.add_argument("--allow-private", action="store_true",
                         help="allow private, loopback and link-local addresses (never cloud metadata)")
    fetching = argparse.ArgumentParser(add_help=False, parents=[private])
    fetching.add_argument("--refetch", action="store_true",
                          help="re-request discovered articles already stored (conditional GET)")
    writing = argparse.ArgumentParser(add_help=False)
    writing.add_argument("--batch-size", type=int, default=None, help="documents per load transaction")
    writing.add_argument("--workers", type=int, default=0,
                         help="transform processes, or LocalCluster workers with --runner dask (default: all cores)")
    writing.add_argument("--runner", choices=("local", "dask"),
                         help="where transforms run: local processes or a Dask cluster "
                              "(default: $TINBAI_RUNNER, else dask if an address is set, else local)")
    writing.add_argument("--dask-address", metavar="ADDR",
                         help="Dask scheduler for --runner dask, e.g. tcp://host:8786; implies --runner dask "
                              "(default: $TINBAI_DASK_ADDRESS, else a LocalCluster on this machine)")
    writing.add_argument("-v", "--verbose", action="store_true", help="show Prefect's run logs")
    parser = argparse.ArgumentParser(prog="tinbai", description="Vietnamese news into a DuckDB warehouse.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_writing_commands(commands, common, writing, fetching, private)
    _add_reading_commands(commands, common)
    return parser


def _add_writing_commands(commands, common: argparse.ArgumentParser, writing: argparse.ArgumentParser,
                          fetching: argparse.ArgumentParser, private: argparse.ArgumentParser) -> None:
    ingest = commands.add_parser(
        "ingest", parents=[common, writing, fetching],
        help="load files and folders (text dumps, HTML, JSON Lines) and web articles (URLs, feeds, sitemaps)",
    )
    ingest.add_argument(
        "paths", nargs="*", metavar="PATH|URL",
        help="files or folders (.txt, .html, .htm, .html.gz, .jsonl[.gz]) and article URLs (http/https)",
    )
    ingest.add_argument("--feed", action="append", default=[], metavar="URL", help="an RSS/Atom feed (repeatable)")
    ingest.add_argument("--sitemap", action="append", default=[], metavar="URL",
                        help="a sitemap, sitemap index or Google News sitemap (repeatable)")
    ingest.add_argument("--sources", metavar="FILE", help="a sources file (TOML): every site's feeds and sitemaps")
    ingest.add_argument("--since", metavar="DATE", help="only sitemap entries modified on or after DATE (YYYY-MM-DD)")
    ingest.add_argument("--until", metavar="DATE", help="only sitemap entries modified before DATE")
    ingest.set_defaults(handler=run_ingest)

    backfill = commands.add_parser(
        "backfill", parents=[common, writing, fetching],
        help="fetch what the sources' sitemaps list as modified in a date range (resumable)",
    )
    backfill.add_argument("--sources", required=True, metavar="FILE", help="the sources file (TOML)")
    backfill.add_argument("--since", required=True, metavar="DATE", help="first day (YYYY-MM-DD or ISO 8601)")
    backfill.add_argument("--until", required=True, metavar="DATE", help="day after the last (exclusive)")
    backfill.add_argument("--site", action="append", default=[], metavar="NAME",
                          help="only this site of the sources file (repeatable)")
    backfill.set_defaults(handler=run_backfill)

    revisit = commands.add_parser(
        "revisit", parents=[common, writing, private],
        help="check stored web pages again for edits and takedowns (1 h, 6 h, 1 d, 3 d, 7 d after first seen)",
    )
    revisit.add_argument("--sources", metavar="FILE",
                         help="only the pages of this sources file's sites, fetched with its settings and rules files")
    revisit.add_argument("--all", dest="all_recent", action="store_true",
                         help="check every page first seen in the last 7 days now, whatever its schedule")
    revisit.set_defaults(handler=run_revisit)

    reprocess = commands.add_parser(
        "reprocess", parents=[common, writing],
        help="rebuild stored articles from their raw documents after the cleaner changed (no fetching)",
    )
    reprocess.add_argument("--since", metavar="DATE", help="only articles published on or after DATE")
    reprocess.add_argument("--until", metavar="DATE", help="only articles published before DATE")
    reprocess.add_argument("--site", metavar="NAME",
                           help="only this site: its name in the sources file, else articles.site")
    reprocess.add_argument("--all", dest="all_versions", action="store_true",
                           help="rebuild every selected article, not only those built by older versions")
    reprocess.add_argument("--sources", metavar="FILE",
                           help="a sources file: its sites' pages are cleaned with the rules file it names for them")
    reprocess.set_defaults(handler=run_reprocess)

    serve = commands.add_parser(
        "serve", parents=[common],
        help="serve the scheduled deployments of a sources file to a Prefect server (runs until stopped)",
    )
    serve.add_argument("--sources", required=True, metavar="FILE", help="the sources file with [schedules]")
    serve.add_argument("--limit", type=int, default=1,
                       help="flow runs at once (default 1: runs write one warehouse, one at a time anyway)")
    serve.add_argument("--allow-private", action="store_true",
                       help="let served ingests fetch private, loopback and link-local addresses")
    serve.set_defaults(handler=run_serve)


def _add_reading_commands(commands, common: argparse.ArgumentParser) -> None:
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--format", choices=FORMATS, default="table",
                        help="table (fits the terminal), csv, json or jsonl (one object a line); default table")
    output.add_argument("--limit", type=int, default=None,
                        help=f"at most this many rows (query: table {TABLE_ROWS}, csv/json/jsonl all;"
                             f" search: {SEARCH_RESULTS} results)")
    query = commands.add_parser("query", parents=[common, output], help="run a read-only SQL query on the warehouse")
    query.add_argument("sql", help="one or more SELECT statements; the last one's rows are printed")
    query.set_defaults(handler=run_query)

    search = commands.add_parser("search", parents=[common, output],
                                 help="full-text search of titles and texts (BM25; phrases, accents optional)")
    search.add_argument("words", help='what to look for: words (a phrase), "exact words", -left-out;'
                                      ' e.g. "giá vàng -SJC" or "chi thi 35"')
    search.add_argument("--site", metavar="NAME", help="only this site: its name in the sources file, else articles.site")
    search.add_argument("--since", metavar="DATE", help="only articles published on or after DATE")
    search.add_argument("--until", metavar="DATE", help="only articles published before DATE")
    search.add_argument("--all-copies", action="store_true",
                        help="each copy (duplicate) after its article, not one result per cluster")
    search.set_defaults(handler=run_search)

    report = commands.add_parser("report", parents=[common], help="print the headline analytics of the warehouse")
    report.add_argument("--format", choices=("table", "markdown"), default="table")
    report.add_argument("--html", metavar="FILE",
                        help="write one self-contained page of charts (works offline) to FILE instead: articles per"
                             " day per site, copy rates, top stories, documents and people over time, site health;"
                             " the period is --since to now, else the last 30 days that have articles")
    report.add_argument("--since", metavar="WHEN",
                        help="also what arrived since WHEN (a date, an ISO time, or an age: 24h, 7d): per site,"
                             " new stories, cited documents and people; sites that fell by half are flagged")
    report.set_defaults(handler=run_report)

    export = commands.add_parser("export", parents=[common], help="write every table as Parquet or CSV files")
    export.add_argument("directory", metavar="DIR", help="folder to write <table>.parquet or <table>.csv into")
    export.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    export.add_argument("--since", metavar="WHEN",
                        help="only rows changed since WHEN (a date, an ISO time, or an age: 24h, 7d); views whole")
    export.set_defaults(handler=run_export)


class Stopped(KeyboardInterrupt):
    """SIGTERM, raised where Python runs next, like Ctrl-C's KeyboardInterrupt: the batch being
    loaded rolls back, the run is marked interrupted, the workers are killed."""


def _stop(signum, frame):
    # Prefect would report the interrupted flow as a crash, then fail to send its logs to a
    # server that is shutting down: the one line below is all the user needs.
    logging.disable(logging.CRITICAL)
    raise Stopped(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = {number: signal.signal(number, _stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _handle(args)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _handle(args: argparse.Namespace) -> int:
    try:
        return args.handler(args)
    except UsageError as error:
        return _usage(str(error))
    except TinbaiError as error:  # every error explained to the user: one line, exit 1
        print(f"tinbai: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as stop:
        logging.disable(logging.CRITICAL)
        name = str(stop) or "SIGINT"
        writing = "; the run is marked interrupted, its unfinished batch rolled back" if args.command in WRITING else ""
        print(f"tinbai: stopped by {name}{writing}", file=sys.stderr)
        return 128 + (signal.SIGTERM if name == "SIGTERM" else signal.SIGINT)
    except BrokenPipeError:  # the reader (`| head`) has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run_ingest(args: argparse.Namespace) -> int:
    urls = [item for item in args.paths if "://" in item]
    paths = [item for item in args.paths if "://" not in item]
    if not (args.paths or args.feed or args.sitemap or args.sources):
        return _usage("nothing to ingest: give paths, URLs, --feed, --sitemap or --sources")
    missing = [path for path in paths if not os.path.lexists(path)]
    if missing:
        return _usage(f"no such file or directory: {', '.join(missing)}")
    since, until = _date_option("--since", args.since), _date_option("--until", args.until)
    _prepare_writing(args, args.sources)
    from flows.ingest import DEFAULT_BATCH_SIZE, ingest

    summary = _run_flow(
        args, ingest, paths=[str(Path(path)) for path in paths], db=args.db,
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE, workers=args.workers, urls=urls, feeds=args.feed,
        sitemaps=args.sitemap, sources=args.sources, since=since, until=until, allow_private=args.allow_private,
        refetch=args.refetch, runner=args.runner, dask_address=args.dask_address,
    )
    print_summary(summary)
    return 0


def run_backfill(args: argparse.Namespace) -> int:
    since, until = _date_option("--since", args.since), _date_option("--until", args.until)
    if since >= until:
        raise UsageError("--since must be before --until")
    _prepare_writing(args, args.sources, sites=args.site)
    from flows.ingest import DEFAULT_BATCH_SIZE, backfill

    summary = _run_flow(
        args, backfill, sources=args.sources, since=since, until=until, sites=args.site or None, db=args.db,
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE, workers=args.workers, allow_private=args.allow_private,
        refetch=args.refetch, runner=args.runner, dask_address=args.dask_address,
    )
    print_summary(summary)
    return 0


def run_revisit(args: argparse.Namespace) -> int:
    _prepare_writing(args, args.sources)
    from flows.ingest import DEFAULT_BATCH_SIZE, revisit

    summary = _run_flow(
        args, revisit, db=args.db, sources=args.sources, all_recent=args.all_recent, allow_private=args.allow_private,
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE, workers=args.workers, runner=args.runner,
        dask_address=args.dask_address,
    )
    print_summary(summary)
    return 0


def run_reprocess(args: argparse.Namespace) -> int:
    since, until = _date_option("--since", args.since), _date_option("--until", args.until)
    _prepare_writing(args, args.sources)
    from flows.ingest import DEFAULT_BATCH_SIZE
    from flows.reprocess import reprocess

    summary = _run_flow(
        args, reprocess, db=args.db, since=since, until=until, site=args.site, all_versions=args.all_versions,
        batch_size=args.batch_size or DEFAULT_BATCH_SIZE, workers=args.workers, runner=args.runner,
        dask_address=args.dask_address, sources=args.sources,
    )
    _print_counts(f"tinbai reprocess: run {summary.run_id}", summary.database, (
        ("articles rebuilt", summary.read),
        ("changed, replaced in place", summary.loaded),
        ("unchanged, versions updated", summary.unchanged),
        ("now rejected, kept as stored", summary.rejected),
        ("changed into duplicates", summary.duplicates),
        ("batches (resumed after)", f"{summary.batches} ({summary.resumed_after})"),
        ("time", f"{summary.seconds:.2f} s"),
    ))
    return 0


def run_serve(args: argparse.Namespace) -> int:
    _prepare_writing(args, args.sources)
    if args.limit < 1:
        return _usage("--limit must be at least 1")
    from sources.config import load_sources
    from flows.serve import serve

    serve(load_sources(Path(args.sources)), args.db, limit=args.limit, allow_private=args.allow_private)
    return 0


def _usage(message: str) -> int:
    print(f"tinbai: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _prepare_writing(args: argparse.Namespace, sources: str | None, sites: list[str] = ()) -> None:
    """Check what can be checked before Prefect starts: options, the sources file, a writable warehouse."""
    if getattr(args, "batch_size", None) is not None and args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if sources and not os.path.lexists(sources):
        raise UsageError(f"no such file or directory: {sources}")
    from flows.parallel import RunnerSettings, check_scheduler

    try:
        runner = RunnerSettings.resolve(getattr(args, "runner", None), getattr(args, "dask_address", None))
    except ValueError as error:
        raise UsageError(str(error)) from error
    if runner.dask_address:
        check_scheduler(runner.dask_address)
    from sources.config import load_sources
    from transforms.clean import load_cleaning_rules
    from warehouse.connection import connect
    from warehouse.location import resolve_path
    from warehouse.lock import check_writable

    if sources:
        config = load_sources(Path(sources))
        unknown = sorted(set(sites) - {site.name for site in config.sites})
        if unknown:
            raise UsageError(f"{sources}: no site named {', '.join(unknown)}")
        for site in config.sites:
            if site.rules is not None:
                load_cleaning_rules(site.rules)
    check_writable(resolve_path(args.db), lambda: connect(args.db).close())
    if not getattr(args, "verbose", False):
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")


def _run_flow(args: argparse.Namespace, flow, **parameters):
    """Run a flow in this process, with a progress line on a terminal; failures become one line."""
    from flows.runs import watching

    with _progress_display(quiet=args.verbose or not sys.stderr.isatty()) as show:
        try:
            quiet_stop = None if args.verbose else lambda: logging.disable(logging.CRITICAL)
            with watching(show, on_stop=quiet_stop):
                return flow(**parameters)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # the flow's own logs hold the details
            detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise FlowFailed(f"{flow.name} failed: {type(error).__name__}: {detail}") from error


@contextmanager
def _progress_display(quiet: bool):
    """A rich progress line counting batches and documents; nothing when not a terminal."""
    if quiet:
        yield lambda flow, number, documents: None
        return
    totals = {"documents": 0}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        line = progress.add_task("starting Prefect…", total=None)

        def show(flow: str, number: int, documents: int) -> None:
            totals["documents"] += documents
            progress.update(line, description=f"{flow}: batch {number} done, {totals['documents']} documents")

        yield show


def _date_option(name: str, value: str | None) -> str | None:
    """An ISO date or time as a flow parameter takes it; without an offset it is Vietnam time."""
    moment = _moment(name, value)
    return moment.isoformat() if moment else None


def _moment(name: str, value: str | None) -> datetime | None:
    try:
        return parse_moment(name, value)
    except ValueError as error:
        raise UsageError(str(error)) from error


_AGE = re.compile(r"^\s*(\d+)\s*([hd])\s*$", re.IGNORECASE)


def _moment_or_age(name: str, value: str | None) -> datetime | None:
    """A moment as _moment reads it, or an age back from now: "24h", "7d"."""
    age = _AGE.match(value or "")
    if age:
        hours = int(age[1]) * (24 if age[2].lower() == "d" else 1)
        return utc_now() - timedelta(hours=hours)
    return _moment(name, value)


def print_summary(summary) -> None:
    revisiting = summary.flow == "revisit"
    optional = (
        ("failed recently, not asked yet", summary.skipped_not_due),
        ("skipped, host too slow", summary.skipped_slow_host),
        ("days without an archive page", summary.no_archive),
    )
    changes = (
        ("edited (new versions)", summary.revised),
        ("taken down", summary.removed),
        ("restored", summary.restored),
    )
    _print_counts(f"tinbai {summary.flow}: run {summary.run_id}", summary.database, (
        ("pages due for a check" if revisiting else "web URLs discovered", summary.discovered),
        ("read (new or changed)", summary.read),
        ("unchanged, skipped", summary.unchanged),
        *((label, value) for label, value in optional if value),
        *((label, value) for label, value in changes if value or revisiting),
        ("articles loaded", summary.loaded),
        ("duplicates", summary.duplicates),
        ("rejected", summary.rejected),
        ("time", f"{summary.seconds:.2f} s"),
    ), summary.reject_reasons)
    if summary.refused_private and summary.refused_private == summary.rejected and not summary.read:
        print(f"tinbai: every URL ({summary.refused_private}) was refused as a private or loopback address;"
              " pass --allow-private to fetch from such hosts (tests, intranets)", file=sys.stderr)


def _print_counts(heading: str, database: str, rows, reject_reasons: dict[str, int] | None = None) -> None:
    console = Console()
    console.print(heading, highlight=False)
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    for reason, count in sorted((reject_reasons or {}).items()):
        console.print(f"  rejected {count} × {reason}", highlight=False)
    console.print(f"warehouse: {database}", highlight=False)


def run_query(args: argparse.Namespace) -> int:
    from warehouse.queries import streamed_query

    limit = _limit(args)
    with streamed_query(args.sql, args.db) as rows:
        _print_rows(rows, args.format, limit)
    return 0


def run_search(args: argparse.Namespace) -> int:
    from warehouse.output import Rows
    from warehouse.search import SearchFilters, search

    _limit(args)  # checked as for query; a search shows SEARCH_RESULTS unless told
    limit = args.limit or SEARCH_RESULTS
    filters = SearchFilters(site=args.site, since=_moment("--since", args.since), until=_moment("--until", args.until))
    hits = search(args.words, args.db, limit=limit, filters=filters, all_copies=args.all_copies)
    columns = ["article_id", "title", "site", "published_at", "score", "copies", "url", "snippet"]
    if args.all_copies:
        columns.append("copy_of")
    if args.format == "table":  # a table keeps to the terminal's width: the URL is in csv, json and jsonl
        columns.remove("url")
    rows = [tuple(round(hit.score, 3) if name == "score" else getattr(hit, name) for name in columns) for hit in hits]
    _print_rows(Rows(columns, [rows]), args.format, None)
    return 0


def _limit(args: argparse.Namespace) -> int | None:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    return args.limit if args.limit is not None or args.format != "table" else TABLE_ROWS


def run_report(args: argparse.Namespace) -> int:
    from warehouse.queries import open_read_only
    from warehouse.report import headline_report, report_markdown

    since = _moment_or_age("--since", args.since)
    con = open_read_only(args.db)
    try:
        if args.html:
            return _write_page(con, since, Path(args.html))
        report = headline_report(con, since=since)
    finally:
        con.close()
    if args.format == "markdown":
        print(report_markdown(report))
        return 0
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print("  ".join(f"[bold]{name}[/bold] {value}" for name, value in report.totals.items()))
    for section in report.sections:
        table = Table(*section.columns, title=section.title, title_justify="left")
        for row in section.rows:
            table.add_row(*(_cell(value) for value in row))
        console.print(table)
    return 0


def _write_page(con, since: datetime | None, path: Path) -> int:
    from warehouse.report_page import report_page

    page = report_page(con, since=since)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise TinbaiError(f"cannot write {path}: {error.strerror or error}") from None
    print(f"report: {path} ({len(page.encode('utf-8')) // 1024} KiB, self-contained)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from warehouse.export import export_tables

    since = _moment_or_age("--since", args.since)
    exported = export_tables(args.directory, args.format, args.db, since=since)
    for item in exported:
        scope = " (whole)" if since is not None and item.whole else ""
        print(f"{item.table}: {item.rows} rows{scope} -> {item.path}")
    return 0


def _print_rows(rows, output: str, limit: int | None) -> None:
    """Rows as csv, json or jsonl, streamed; or the first `limit` as a table that fits the terminal,
    with the number of rows there were."""
    from warehouse.output import WRITERS, Rows
    from warehouse.queries import session_time_zone

    counted = [0]
    if limit is not None:
        rows = Rows(rows.columns, _first(rows.batches, limit, counted, count_all=output not in WRITERS))
    if output in WRITERS:
        WRITERS[output](rows, sys.stdout)
        return
    shown = list(rows)
    cells = [[_cell(value) for value in row] for row in shown]
    table = Table(*(_column(name, [row[index] for row in shown], [row[index] for row in cells])
                    for index, name in enumerate(rows.columns)))
    for row in cells:
        table.add_row(*row)
    if any(isinstance(value, datetime) for row in shown for value in row):
        table.caption = f"times in {session_time_zone()}"
    Console(width=shutil.get_terminal_size((TABLE_WIDTH, 24)).columns).print(table)
    total = max(counted[0], len(shown))
    print(f"({total} rows)" if total == len(shown) else f"({total} rows, the first {len(shown)} shown: --limit N for more)")


def _first(batches, limit: int, counted: list[int], count_all: bool):
    """The batches cut at `limit` rows; with `count_all` the rest is read to count every row in counted[0]."""
    for batch in batches:
        kept = max(0, min(len(batch), limit - counted[0]))
        counted[0] += len(batch)
        if kept:
            yield batch[:kept]
        elif not count_all:
            return


# A table cell longer than this is cut (ids and times never are): a row stays readable.
TABLE_CELL_CHARS = 200
TABLE_WIDTH = 120  # when the output is no terminal
TEXT_MIN_WIDTH = 10  # a text column narrower than this is unreadable: the table grows instead


def _column(name: str, values: list, cells: list[str]) -> Column:
    """Times, numbers and ids are never wrapped or cut; text wraps. `cells`: the values as shown."""
    widest = max([len(name), *(len(cell) for cell in cells)])
    fixed = name == "id" or name.endswith(("_id", "_at", "hash")) or all(
        isinstance(value, (datetime, date, int, float, Decimal)) for value in values if value is not None)
    if fixed:
        return Column(name, no_wrap=True, min_width=widest)
    return Column(name, overflow="fold", ratio=1, min_width=min(widest, TEXT_MIN_WIDTH))


def _cell(value) -> str:
    """A value as a table shows it: an instant to the minute (or second) in the session's time zone."""
    from warehouse.output import plain

    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second or value.microsecond else "%Y-%m-%d %H:%M")
    value = plain(value)
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)
    return escape(text if len(text) <= TABLE_CELL_CHARS else text[:TABLE_CELL_CHARS - 1] + "…")


if __name__ == "__main__":
    sys.exit(main())
