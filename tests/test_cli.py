"""The console script as users run it: exit codes, one-line errors, output formats."""
from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from conftest import SEEDS, run_tinbai


def assert_one_line_error(result, code: int, fragment: str):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinbai: error:"), result.stderr
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory):
    """`tinbai ingest seeds/` exactly as `make run` does it: ephemeral Prefect, a fresh warehouse."""
    db = tmp_path_factory.mktemp("cli") / "tinbai.duckdb"
    result = run_tinbai("ingest", str(SEEDS), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress line, no Prefect chatter when stderr is not a terminal
    assert "articles loaded" in result.stdout and " 5 " in result.stdout
    return db


def test_ingest_summary_and_query_formats(loaded_db):
    table = run_tinbai("query", "select title, site, author, published_at, views from articles order by title", "--db", str(loaded_db))
    assert table.returncode == 0 and "(5 rows)" in table.stdout and "Nguyên Chương" in table.stdout
    as_csv = run_tinbai("query", "select author, views from articles where views is not null", "--format", "csv", "--db", str(loaded_db))
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [["author", "views"], ["Nguyên Chương", "3286"]]
    as_json = run_tinbai("query", "select author, published_at from articles where author = 'PV'", "--format", "json", "--db", str(loaded_db))
    assert json.loads(as_json.stdout) == [{"author": "PV", "published_at": "2019-12-03T03:41:31+07:00"}]


def test_database_from_environment(loaded_db):
    result = run_tinbai("query", "select count(*) as n from articles", "--format", "json", env={"TINBAI_DB": str(loaded_db)})
    assert json.loads(result.stdout) == [{"n": 5}]


@pytest.mark.parametrize(
    "sql, fragment",
    [
        ("drop table articles", "drop statements are not allowed"),
        ("delete from articles", "delete statements are not allowed"),
        ("attach '/tmp/other.duckdb' as other", "attach statements are not allowed"),
        ("copy articles to '/tmp/out.csv'", "copy statements are not allowed"),
        ("install fts", "statements are not allowed"),
        ("set threads = 1", "set statements are not allowed"),
        ("select 1; drop table runs", "drop statements are not allowed"),
        ("select * from read_csv('/etc/passwd')", "disabled"),
        ("selec 1", "syntax error"),
        ("select * from nowhere", "nowhere"),
    ],
)
def test_query_refuses_and_reports_in_one_line(loaded_db, sql, fragment):
    assert_one_line_error(run_tinbai("query", sql, "--db", str(loaded_db)), 1, fragment)
    assert duckdb.connect(str(loaded_db), read_only=True).execute("select count(*) from articles").fetchone() == (5,)


def test_missing_path_is_one_line_and_exit_2(tmp_path):
    result = run_tinbai("ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "w.duckdb"))
    assert_one_line_error(result, 2, "no such file or directory")


def test_missing_or_unreadable_database(tmp_path):
    assert_one_line_error(run_tinbai("query", "select 1", "--db", str(tmp_path / "none.duckdb")), 1, "no warehouse at")
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is not a database" * 100)
    assert_one_line_error(run_tinbai("query", "select 1", "--db", str(garbage)), 1, "cannot open the warehouse")
    assert_one_line_error(run_tinbai("ingest", str(SEEDS), "--db", str(garbage)), 1, "cannot open the warehouse")


def test_unwritable_warehouse_location(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_tinbai("ingest", str(SEEDS), "--db", str(blocker / "w.duckdb"))
    assert_one_line_error(result, 1, "cannot create the warehouse folder")


def test_reprocess_prints_what_changed(loaded_db):
    result = run_tinbai("reprocess", "--all", "--db", str(loaded_db))
    assert result.returncode == 0 and result.stderr == ""
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.stdout.splitlines() if line.count("│") == 3}
    assert lines["articles rebuilt"] == "5" and lines["unchanged, versions updated"] == "5"
    assert lines["changed, replaced in place"] == "0"


def test_a_run_whose_every_url_is_private_names_allow_private(tmp_path):
    result = run_tinbai("ingest", "http://127.0.0.1:9/tin/bai-1.html", "http://localhost:9/tin/bai-2.html",
                        "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "rejected 2 × refused: host resolves to a loopback address (127.0.0.1)" in result.stdout
    assert result.stderr.strip().splitlines() == [
        "tinbai: every URL (2) was refused as a private or loopback address; pass --allow-private to fetch from such"
        " hosts (tests, intranets)"]


def test_backfill_says_its_own_name(tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text('[[site]]\nname = "mot"\nsitemaps = ["http://127.0.0.1:9/sitemap.xml"]\n', encoding="utf-8")
    result = run_tinbai("backfill", "--sources", str(sources), "--since", "2026-01-01", "--until", "2026-01-02",
                        "--db", str(tmp_path / "w.duckdb"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("tinbai backfill: run ")
