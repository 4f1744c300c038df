"""The `tinbai` command line. Errors are one line on stderr and a non-zero exit, never a traceback."""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from transforms.dates import VIETNAM

EXIT_USAGE = 2
EXIT_FAILED = 1


class CliError(Exception):
    """A problem to report as one line."""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="FILE", help="warehouse file (default: $TINBAI_DB, else warehouse/tinbai.duckdb in the project)"
    )
    parser = argparse.ArgumentParser(prog="tinbai", description="Vietnamese news into a DuckDB warehouse.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest", parents=[common],
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
    ingest.add_argument("--refetch", action="store_true",
                        help="re-request discovered articles already stored (conditional GET)")
    ingest.add_argument("--allow-private", action="store_true",
                        help="allow private, loopback and link-local addresses (never cloud metadata)")
    ingest.add_argument("--batch-size", type=int, default=None, help="documents per load transaction")
    ingest.add_argument("--workers", type=int, default=0, help="transform processes (default: all cores)")
    ingest.add_argument("-v", "--verbose", action="store_true", help="show Prefect's run logs")
    ingest.set_defaults(handler=run_ingest)

    query = commands.add_parser("query", parents=[common], help="run a read-only SQL query on the warehouse")
    query.add_argument("sql", help="one or more SELECT statements; the last one's rows are printed")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.set_defaults(handler=run_query)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as error:
        print(f"tinbai: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("tinbai: interrupted", file=sys.stderr)
        return 130


def run_ingest(args: argparse.Namespace) -> int:
    urls = [item for item in args.paths if "://" in item]
    paths = [item for item in args.paths if "://" not in item]
    if not (args.paths or args.feed or args.sitemap or args.sources):
        return _usage("nothing to ingest: give paths, URLs, --feed, --sitemap or --sources")
    missing = [path for path in paths + ([args.sources] if args.sources else []) if not os.path.lexists(path)]
    if missing:
        return _usage(f"no such file or directory: {', '.join(missing)}")
    if args.batch_size is not None and args.batch_size < 1:
        return _usage("--batch-size must be at least 1")
    try:
        since, until = (_date_option(name, value) for name, value in (("--since", args.since), ("--until", args.until)))
    except ValueError as error:
        return _usage(str(error))
    from flows.config import ConfigError, load_sources
    from transforms.clean import RulesError, load_rules
    from warehouse.connection import WarehouseError, opened

    try:
        if args.sources:
            for site in load_sources(Path(args.sources)).sites:
                if site.rules is not None:
                    load_rules(site.rules)
        with opened(args.db):
            pass  # fail fast, before Prefect starts, on a warehouse that cannot be written
    except (ConfigError, RulesError, WarehouseError) as error:
        raise CliError(str(error)) from error
    if not args.verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    from flows.ingest import DEFAULT_BATCH_SIZE, ingest

    try:
        summary = ingest(
            paths=[str(Path(path)) for path in paths], db=args.db, batch_size=args.batch_size or DEFAULT_BATCH_SIZE,
            workers=args.workers, urls=urls, feeds=args.feed, sitemaps=args.sitemap, sources=args.sources,
            since=since, until=until, allow_private=args.allow_private, refetch=args.refetch,
        )
    except Exception as error:  # the flow's own logs hold the details
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CliError(f"ingest failed: {type(error).__name__}: {detail}") from error
    print_summary(summary)
    return 0


def _usage(message: str) -> int:
    print(f"tinbai: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _date_option(name: str, value: str | None) -> str | None:
    """An ISO date or time; without an offset it is Vietnam time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{name}: not a date (YYYY-MM-DD or ISO 8601): {value!r}") from error
    return (moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)).isoformat()


def print_summary(summary) -> None:
    console = Console()
    console.print(f"tinbai ingest: run {summary.run_id}", highlight=False)
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, value in (
        ("web URLs discovered", summary.discovered),
        ("read (new or changed)", summary.read),
        ("unchanged, skipped", summary.unchanged),
        ("articles loaded", summary.loaded),
        ("duplicates", summary.duplicates),
        ("rejected", summary.rejected),
        ("time", f"{summary.seconds:.2f} s"),
    ):
        table.add_row(label, str(value))
    console.print(table)
    for reason, count in sorted(summary.reject_reasons.items()):
        console.print(f"  rejected {count} × {reason}", highlight=False)
    console.print(f"warehouse: {summary.database}", highlight=False)


def run_query(args: argparse.Namespace) -> int:
    from warehouse.connection import WarehouseError
    from warehouse.queries import QueryError, run_query as execute

    try:
        result = execute(args.sql, args.db)
    except (QueryError, WarehouseError) as error:
        raise CliError(str(error)) from error
    if args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows([[_plain(value) for value in row] for row in result.rows])
    elif args.format == "json":
        records = [dict(zip(result.columns, (_plain(value) for value in row))) for row in result.rows]
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        table = Table(*result.columns, show_lines=False)
        for row in result.rows:
            table.add_row(*("" if value is None else str(_plain(value)) for value in row))
        Console(width=None if sys.stdout.isatty() else 240).print(table)
        print(f"({len(result.rows)} rows)")
    return 0


def _plain(value):
    """JSON/CSV-friendly form of a DuckDB value."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(VIETNAM).isoformat()  # news time is Vietnam time
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return value


if __name__ == "__main__":
    sys.exit(main())
