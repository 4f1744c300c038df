"""DuckLake warehouses: the setting, the schema, loads, search, report, export, the query sandbox, concurrency.

The same seeds go through real `ingest` runs into a DuckDB file and into a DuckLake, and
everything an analyst sees must agree. Concurrency tests use separate processes (DuckDB's
file locks and the writer lock are per process).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import duckdb_ext
import pyarrow.parquet as pq
import pytest

from conftest import FIXTURES, SEEDS, raw, seed_paths
from transforms.models import HttpFacts, RawDocument
from transforms.pipeline import transform_batch
from warehouse.connection import opened
from warehouse.location import DATA_SETTING, WarehouseError, resolve_path, warehouse_for
from warehouse.export import export_tables
from warehouse.fetch_state import record_fetches
from warehouse.runs import mark_interrupted_runs, start_run
from warehouse.lock import lock_path
from warehouse.queries import QueryError, open_read_only, run_query
from warehouse.report import headline_report
from warehouse.search import search


def _has_extension(name: str) -> bool:
    con = duckdb.connect()
    try:
        duckdb_ext.init(con)
        con.execute("SET autoload_known_extensions = false")
        con.execute(f"LOAD {name}")
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


needs_sqlite = pytest.mark.skipif(
    not _has_extension("sqlite"), reason=f"duckdb-ext-sqlite=={duckdb.__version__}.* is not installed (SQLite catalogs)"
)


def read(db, sql: str, params=()) -> list[tuple]:
    con = open_read_only(db)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# ---- the setting ------------------------------------------------------------------------------

def test_the_setting_names_the_backend_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_SETTING, raising=False)
    plain = warehouse_for(tmp_path / "w.duckdb")
    assert (plain.kind, plain.is_lake, str(plain)) == ("duckdb", False, str(tmp_path / "w.duckdb"))
    assert resolve_path(tmp_path / "w.duckdb") == tmp_path / "w.duckdb"  # still a Path for a DuckDB file
    assert lock_path(tmp_path / "w.duckdb") == tmp_path / "w.duckdb.lock"

    lake = warehouse_for(f"ducklake:{tmp_path}/lake/catalog.ducklake")
    assert (lake.kind, lake.catalog, lake.path) == ("ducklake", "duckdb", tmp_path / "lake" / "catalog.ducklake")
    assert lock_path(str(lake)) == tmp_path / "lake" / "catalog.ducklake.lock"  # beside the catalog file
    assert warehouse_for(str(lake)) == lake and resolve_path(str(lake)).resolve() == lake

    monkeypatch.chdir(tmp_path)
    relative = warehouse_for("ducklake:sqlite:lake/catalog.sqlite")
    assert relative.catalog == "sqlite" and str(relative) == f"ducklake:sqlite:{tmp_path}/lake/catalog.sqlite"

    monkeypatch.setenv(DATA_SETTING, "data")
    remote = warehouse_for("ducklake:postgres:dbname=tinbai host=db.example user=tinbai")
    assert (remote.catalog, remote.location, remote.path) == ("postgres", "dbname=tinbai host=db.example user=tinbai", None)
    assert remote.data_path == str(tmp_path / "data")
    assert remote.lock_path.name.startswith("ducklake-postgres-")
    monkeypatch.setenv("TINBAI_DB", str(remote))
    assert warehouse_for(None) == remote
    with pytest.raises(WarehouseError, match="name the DuckLake catalog"):
        warehouse_for("ducklake:")


def test_a_lake_has_the_schema_of_the_duckdb_file_without_its_keys(tmp_path):
    file_db, lake_db = str(tmp_path / "w.duckdb"), f"ducklake:{tmp_path}/lake/catalog.ducklake"
    shapes = {}
    for db in (file_db, lake_db):
        with opened(db) as con:
            shapes[db] = (
                con.execute(
                    "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns()"
                    " WHERE database_name = current_database() ORDER BY ALL"
                ).fetchall(),
                con.execute(
                    "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal ORDER BY 1"
                ).fetchall(),
                con.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall(),
                con.execute(
                    "SELECT count(*) FROM duckdb_constraints() WHERE database_name = current_database()"
                    " AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
                ).fetchone()[0],
                con.execute("SELECT search_fold('Đường Chỉ Thị')").fetchone()[0],  # the macro, a temporary one on a lake
            )
    columns, views, applied, keys, folded = shapes[lake_db]
    file_columns, file_views, file_applied, file_keys, file_folded = shapes[file_db]
    assert (columns, views, applied, folded) == (file_columns, file_views, file_applied, file_folded)
    assert folded == "duong chi thi"
    assert len(applied) == len(list((Path(__file__).parent.parent / "warehouse" / "schema").glob("*.sql")))
    assert "people_positions" in {name for (name,) in views}
    assert keys == 0 < file_keys
    with opened(lake_db):  # opening again applies nothing twice
        pass
    assert read(lake_db, "SELECT count(*) FROM schema_migrations") == [(len(applied),)]


def test_the_data_folder_comes_from_the_setting_or_sits_beside_the_catalog(tmp_path, monkeypatch):
    monkeypatch.delenv(DATA_SETTING, raising=False)
    beside = f"ducklake:{tmp_path}/a/catalog.ducklake"
    with opened(beside) as con:
        start_run(con, "r1", "ingest", {})
    assert list((tmp_path / "a" / "catalog.ducklake.files").rglob("*.parquet"))

    monkeypatch.setenv(DATA_SETTING, str(tmp_path / "parquet"))
    chosen = f"ducklake:{tmp_path}/b/catalog.ducklake"
    with opened(chosen) as con:
        start_run(con, "r1", "ingest", {})
    assert list((tmp_path / "parquet").rglob("*.parquet")) and not (tmp_path / "b" / "catalog.ducklake.files").exists()

    monkeypatch.delenv(DATA_SETTING)  # the catalog remembers its folder
    assert read(chosen, "SELECT count(*) FROM runs") == [(1,)]
    monkeypatch.setenv(DATA_SETTING, str(tmp_path / "elsewhere"))  # a different one is a mistake, said in one line
    with pytest.raises(WarehouseError, match="does not match existing data path"):
        with opened(chosen):
            pass


# ---- loads: the upserts and inserts that used ON CONFLICT and RETURNING --------------------------

def _fetched(url: str, body: bytes, at: datetime, etag: str) -> RawDocument:
    return RawDocument(url, body, at, http=HttpFacts(url, 200, "text/html", "utf-8", etag, None))


def test_fetch_state_upserts_and_runs_bookkeeping(warehouse_url):
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    url, other = "https://example.vn/a", "https://example.vn/b"
    with opened(warehouse_url) as con:
        record_fetches(con, [_fetched(url, b"v1", t0, "e1")])
        record_fetches(con, [_fetched(url, b"v1", t0 + timedelta(hours=1), "e2"),  # same bytes: not changed
                             _fetched(other, b"x", t0, "x1"), _fetched(other, b"y", t0 + timedelta(hours=2), "y1")])
        state = con.execute(
            "SELECT url, etag, last_fetched_at, last_changed_at FROM fetch_state ORDER BY url").fetchall()
        assert state == [(url, "e2", t0 + timedelta(hours=1), t0), (other, "y1", t0 + timedelta(hours=2), t0 + timedelta(hours=2))]
        record_fetches(con, [_fetched(url, b"v2", t0 + timedelta(hours=3), "e3")], [(other, t0 + timedelta(hours=4))])
        state = con.execute(
            "SELECT url, http_status, last_fetched_at, last_changed_at FROM fetch_state ORDER BY url").fetchall()
        assert state == [(url, 200, t0 + timedelta(hours=3), t0 + timedelta(hours=3)),
                         (other, 304, t0 + timedelta(hours=4), t0 + timedelta(hours=2))]

        first = start_run(con, "run-1", "ingest", {"paths": ["x"]})
        assert start_run(con, "run-1", "ingest", {}) == first  # recorded once
        start_run(con, "run-2", "ingest", {})
        assert mark_interrupted_runs(con) == 2 and mark_interrupted_runs(con) == 0
        assert con.execute("SELECT count(*), min(status) FROM runs").fetchone() == (2, "interrupted")


# ---- what analysts see: both backends after the same real runs -------------------------------------

@pytest.fixture(scope="module")
def seeded_pair(tmp_path_factory, prefect_server):
    """The seeds, two style fixtures and a JSON Lines file of reposts, ingested into a DuckDB file and a DuckLake."""
    from flows.ingest import ingest

    folder = tmp_path_factory.mktemp("ducklake")
    reposts = folder / "reposts.jsonl"
    texts = [transform_batch([raw(path)])[0].article.text for path in seed_paths()[:2]]
    reposts.write_text("".join(
        json.dumps({"id": str(number), "title": f"Đăng lại {number}", "site": "Blog", "text": text}, ensure_ascii=False) + "\n"
        for number, text in enumerate(texts)
    ), encoding="utf-8")
    inputs = [str(SEEDS), str(FIXTURES / "tuoitre_style.txt"), str(FIXTURES / "vov_style.txt"), str(reposts)]
    pair = (str(folder / "file" / "warehouse.duckdb"), f"ducklake:{folder}/lake/catalog.ducklake")
    for db in pair:
        summary = ingest(paths=inputs, db=db, workers=1)
        assert summary.rejected == 0
    return pair


def test_both_backends_hold_the_same_articles_duplicates_and_views(seeded_pair):
    file_db, lake_db = seeded_pair
    compared = {
        "articles": "SELECT source, title, site, published_at, content_hash, text FROM articles ORDER BY source",
        "duplicates": "SELECT d.source, a.source, d.method, d.similarity FROM duplicates d"
                      " JOIN articles a ON a.article_id = d.canonical_id ORDER BY 1",
        "document_refs": "SELECT article_id, code, kind, position FROM document_refs ORDER BY ALL",
        "people": "SELECT article_id, name, position, start FROM people ORDER BY ALL",
        "member_bands": "SELECT count(*), count(DISTINCT member_id), sum(band_key) FROM member_bands",
        "raw_documents": "SELECT document_id, source, content_hash, size_bytes FROM raw_documents ORDER BY 1",
        "duplicate_clusters": "SELECT * FROM duplicate_clusters ORDER BY canonical_id",
        "articles_by_month": "SELECT * FROM articles_by_month ORDER BY ALL",
        "articles_by_site": "SELECT * FROM articles_by_site ORDER BY ALL",
        "people_positions": "SELECT * FROM people_positions ORDER BY ALL",
        "search_corpus": "SELECT * FROM search_corpus ORDER BY ALL",
        "runs": "SELECT flow, status, read_count, loaded_count, duplicate_count, rejected_count FROM run_history",
    }
    for name, sql in compared.items():
        assert read(lake_db, sql) == read(file_db, sql), name
    articles, duplicates = read(lake_db, "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM duplicates)")[0]
    assert articles == 7 and duplicates == 2
    data = Path(read(lake_db, "SELECT value FROM __ducklake_metadata_warehouse.ducklake_metadata WHERE key = 'data_path'")[0][0])
    assert data == Path(lake_db.removeprefix("ducklake:") + ".files") and list(data.rglob("*.parquet"))


def test_search_ranks_alike_on_both_backends(seeded_pair):
    file_db, lake_db = seeded_pair
    for words in ("chỉ thị 35", "chi thi 35", "CHỈ THỊ 35", "truong thi mai", "cầu Tứ Liên", "hội nghị"):
        on_file, on_lake = search(words, file_db, limit=20), search(words, lake_db, limit=20)
        assert on_lake, words
        assert [(hit.article_id, hit.snippet) for hit in on_lake] == [(hit.article_id, hit.snippet) for hit in on_file]
        assert [hit.score for hit in on_lake] == pytest.approx([hit.score for hit in on_file], rel=1e-9)
    assert search("xyzzyqq", lake_db) == []


def test_report_and_export_agree_on_both_backends(seeded_pair, tmp_path):
    file_db, lake_db = seeded_pair
    reports = []
    for db in seeded_pair:
        con = open_read_only(db)
        try:
            reports.append(headline_report(con))
        finally:
            con.close()
    assert reports[0] == reports[1] and reports[1].totals["articles"] == 7
    exported = {db: export_tables(tmp_path / name, "parquet", db) for name, db in zip(("file", "lake"), seeded_pair)}
    tables = [(item.table, item.rows) for item in exported[lake_db]]
    assert tables == [(item.table, item.rows) for item in exported[file_db]]
    assert {"articles", "duplicates", "search_corpus", "schema_migrations"} <= {table for table, _ in tables}
    assert not any(table.startswith("ducklake_") or table in ("postings", "docs") for table, _ in tables)  # catalog and index stay out
    lake_articles = pq.read_table(tmp_path / "lake" / "articles.parquet").sort_by("source")
    assert lake_articles.select(["source", "title", "text"]) == (
        pq.read_table(tmp_path / "file" / "articles.parquet").sort_by("source").select(["source", "title", "text"]))


def test_the_same_inputs_again_add_only_a_run(seeded_pair, tmp_path):
    from flows.ingest import ingest

    _, lake_db = seeded_pair
    counted = ("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM duplicates),"
               " (SELECT count(*) FROM raw_documents), (SELECT count(*) FROM runs)")
    before = read(lake_db, counted)[0]
    summary = ingest(paths=[str(SEEDS)], db=lake_db, workers=1)
    assert (summary.loaded, summary.unchanged) == (0, len(seed_paths()))
    assert read(lake_db, counted)[0] == before[:3] + (before[3] + 1,)


def test_reprocess_rebuilds_outdated_members_in_place_on_a_lake(tmp_path, prefect_server):
    from flows.ingest import ingest
    from flows.reprocess import reprocess
    from transforms.clean import CLEANING_RULES_PATH, load_cleaning_rules

    lake = f"ducklake:{tmp_path}/lake/catalog.ducklake"
    ingest(paths=[str(SEEDS)], db=lake, workers=1)
    snapshot = "SELECT article_id, source, title, text, published_at, first_run_id FROM articles ORDER BY source"
    before = read(lake, snapshot)
    with opened(lake) as con:
        con.execute("UPDATE articles SET text = 'văn bản cũ', cleaner_version = '2020.01.01' WHERE source LIKE '%000_%'")
        con.execute("UPDATE articles SET cleaner_version = '2020.01.01', extractor_version = '2020.01.01'"
                    " WHERE source LIKE '%001_%'")
    summary = reprocess(db=lake, workers=1)
    assert (summary.read, summary.loaded, summary.unchanged) == (2, 1, 1)
    assert read(lake, snapshot) == before  # same ids, same first run, the old text replaced
    assert read(lake, "SELECT DISTINCT cleaner_version FROM articles") == [(load_cleaning_rules(CLEANING_RULES_PATH).version,)]
    assert read(lake, "SELECT count(*) FROM search_corpus s JOIN articles a USING (article_id, content_hash)"
                      " JOIN search_index.docs d USING (article_id)") == [(5,)]  # the index followed the rebuild
    everything = reprocess(db=lake, all_versions=True, batch_size=2, workers=1)
    assert (everything.read, everything.batches, everything.loaded) == (5, 3, 0)
    assert read(lake, "SELECT count(*) FROM job_progress") == [(0,)]
    assert read(lake, "SELECT count(*), count(DISTINCT source) FROM articles") == [(5, 5)]


# ---- the query sandbox on a lake ---------------------------------------------------------------------

REFUSED = [
    "drop table articles",
    "attach '/tmp/evil.duckdb' as evil",
    "copy articles to '/tmp/leak.csv'",
    "install fts",
    "load fts",
    "set enable_external_access = true",
    "delete from runs",
    "explain analyze copy articles to '/tmp/leak.csv'",  # EXPLAIN ANALYZE runs what it explains
    "select 1; drop table articles",
    "select * from query('select 1')",  # SQL text the check would not see
    "select * from sqlite_scan('/etc/some.sqlite', 't')",  # the catalog extensions open files and servers themselves
    "select * from postgres_query('__ducklake_metadata_warehouse', 'select 1')",
    "select * from ducklake_cleanup_old_files('warehouse', cleanup_all => true)",  # maintenance writes and deletes
]


def test_tinbai_query_on_a_lake_reads_and_refuses_everything_else(seeded_pair, tmp_path):
    _, lake_db = seeded_pair
    assert run_query("select count(*) from articles", lake_db).rows == [(7,)]
    assert run_query("explain analyze select count(*) from duplicate_clusters", lake_db).rows
    assert run_query("select count(*) > 0 from ducklake_snapshots('warehouse')", lake_db).rows == [(True,)]  # history reads
    for sql in REFUSED:
        with pytest.raises(QueryError, match="refused"):
            run_query(sql, lake_db)
    # Past the statement check, the connection itself: a READ_ONLY attach, files other than
    # the lake's data folder out of reach, settings locked.
    data = read(lake_db, "SELECT value FROM __ducklake_metadata_warehouse.ducklake_metadata WHERE key = 'data_path'")[0][0]
    con = open_read_only(lake_db)
    try:
        for sql, error in [
            ("INSERT INTO runs (run_id, flow, started_at, status) VALUES ('x', 'x', now(), 'x')", "read-only"),
            ("DROP TABLE articles", "read-only"),
            ("SELECT * FROM read_text('/etc/passwd')", "disabled by configuration"),
            (f"COPY articles TO '{tmp_path}/leak.csv'", "disabled by configuration"),
            (f"ATTACH '{tmp_path}/evil.duckdb' AS evil", "disabled by configuration"),
            (f"SELECT * FROM read_text('{data}../../../../etc/passwd')", "disabled by configuration"),
            ("SET enable_external_access = true", "locked"),
            ("LOAD fts", "disabled"),
        ]:
            with pytest.raises(duckdb.Error, match=error):
                con.execute(sql)
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (7,)
    finally:
        con.close()
    assert not (tmp_path / "leak.csv").exists()


def test_the_cli_takes_a_lake_setting(seeded_pair, capsys, monkeypatch):
    from flows.cli import main

    _, lake_db = seeded_pair
    assert main(["query", "select count(*) as n from articles", "--db", lake_db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": 7}]
    monkeypatch.setenv("TINBAI_DB", lake_db)
    assert main(["search", "chỉ thị 35", "--format", "csv", "--limit", "1"]) == 0
    assert "35-CT/TW" in capsys.readouterr().out
    assert main(["query", "select 1", "--db", f"ducklake:{Path(lake_db.removeprefix('ducklake:')).parent}/none.ducklake"]) == 1
    assert "no warehouse at" in capsys.readouterr().err


# ---- several processes ---------------------------------------------------------------------------------

def start_python(code: str, *args: str) -> subprocess.Popen:
    """A separate process that prints 'ready' when it holds what it holds; a line on stdin lets it finish."""
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def finish(process: subprocess.Popen) -> str:
    out, _ = process.communicate("\n", timeout=60)
    return out.strip()


HOLD_A_WRITE = """
    import sys
    from warehouse.connection import opened
    with opened(sys.argv[1]) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO runs (run_id, flow, started_at, status) VALUES ('held', 'ingest', now(), 'running')")
        print("ready", flush=True)
        sys.stdin.readline()
        try:
            con.execute("COMMIT")
            print("committed", flush=True)
        except Exception as error:
            print("failed:", str(error).splitlines()[0], flush=True)
"""


def write_beside_a_held_transaction(lake: str) -> str:
    """Record a run while another process holds a write transaction; that process's outcome."""
    writer = start_python(HOLD_A_WRITE, lake)
    try:
        with opened(lake) as con:
            start_run(con, "other", "ingest", {})
    finally:
        outcome = finish(writer)
    return outcome


def test_a_duckdb_catalog_is_one_process_at_a_time(tmp_path, monkeypatch):
    """A DuckDB-file catalog is locked by the process that attached it: others wait (and are told who holds it)."""
    lake = f"ducklake:{tmp_path}/lake/catalog.ducklake"
    with opened(lake):
        pass
    writer = start_python(HOLD_A_WRITE, lake)
    try:
        monkeypatch.setenv("TINBAI_BUSY_WAIT", "0.5")
        with pytest.raises(WarehouseError, match=rf"is busy: process {writer.pid} kept it open"):
            run_query("select count(*) from runs", lake)
        with pytest.raises(WarehouseError, match="is busy"):
            with opened(lake):
                pass
    finally:
        assert finish(writer) == "committed"
    assert run_query("select run_id from runs", lake).rows == [("held",)]


@needs_sqlite
def test_a_sqlite_catalog_lets_readers_in_while_a_writer_holds_a_transaction(tmp_path, monkeypatch):
    lake = f"ducklake:sqlite:{tmp_path}/lake/catalog.sqlite"
    with opened(lake) as con:
        start_run(con, "before", "ingest", {})
    writer = start_python(HOLD_A_WRITE, lake)
    try:
        monkeypatch.setenv("TINBAI_BUSY_WAIT", "0")  # no waiting allowed: the catalog must not be locked
        assert run_query("select run_id from runs", lake).rows == [("before",)]  # not the uncommitted row
    finally:
        assert finish(writer) == "committed"
    assert sorted(run_query("select run_id from runs", lake).rows) == [("before",), ("held",)]


@needs_sqlite
def test_a_sqlite_catalog_takes_commits_from_two_processes_whole_or_not_at_all(tmp_path):
    """Two writer processes attach at once. A commit from one while the other holds a transaction goes
    through; the other's commit then goes through or fails whole (DuckLake 1.4.4 often reports
    'database is locked' there: duckdb/ducklake#1309), never half. tinbai's writer lock keeps its own
    writing runs one at a time anyway."""
    lake = f"ducklake:sqlite:{tmp_path}/lake/catalog.sqlite"
    with opened(lake):
        pass
    outcome = write_beside_a_held_transaction(lake)
    stored = sorted(run_id for (run_id,) in run_query("select run_id from runs", lake).rows)
    assert stored == (["held", "other"] if outcome == "committed" else ["other"]), outcome


@pytest.mark.slow
@pytest.mark.parametrize("catalog", ["duckdb", pytest.param("sqlite", marks=needs_sqlite)])
def test_two_ingests_at_once_into_a_lake_are_serialised(tmp_path, catalog):
    """Two CLI runs started together on one lake: the writer lock beside the catalog makes one wait; every article once."""
    lake = f"ducklake:{tmp_path}/lake/catalog.ducklake" if catalog == "duckdb" else f"ducklake:sqlite:{tmp_path}/lake/catalog.sqlite"
    inputs = [[str(SEEDS)], [str(FIXTURES / "tuoitre_style.txt"), str(FIXTURES / "vov_style.txt")]]
    runs = [subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "tinbai"), "ingest", *paths, "--db", lake],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for paths in inputs]
    outcomes = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    assert read(lake, "SELECT count(*), count(DISTINCT source) FROM articles") == [(7, 7)]
    spans = read(lake, "SELECT started_at, finished_at, status FROM runs ORDER BY started_at")
    assert [status for _, _, status in spans] == ["completed", "completed"]
    assert spans[0][1] <= spans[1][0]  # the second run began writing after the first had finished
    assert lock_path(lake).exists() and lock_path(lake).parent == tmp_path / "lake"


# ---- a PostgreSQL catalog (a private server on a Unix socket, when PostgreSQL is installed) -------------

def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server listening on a Unix socket only; yields a function making a database's conninfo."""
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin)")
    if not _has_extension("postgres"):
        pytest.skip(f"duckdb-ext-postgres=={duckdb.__version__}.* is not installed (PostgreSQL catalogs)")
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses root
    # Not under pytest's tmp folder: the postgres user cannot enter root's.
    folder = Path(tempfile.mkdtemp(prefix="tinbai-postgres-"))
    if as_user:
        os.chown(folder, *_uid_gid("postgres"))
    port = str(54000 + os.getpid() % 900)
    subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-w", "-l", str(folder / "log"),
                    "-o", f"-p {port} -k {folder} -c listen_addresses=''", "start"], check=True, capture_output=True)
    made = []

    def database(name: str) -> str:
        subprocess.run([*as_user, str(binaries / "createdb"), "-h", str(folder), "-p", port, "-U", "postgres", name],
                       check=True, capture_output=True)
        made.append(name)
        return f"dbname={name} host={folder} port={port} user=postgres"

    try:
        yield database
    finally:
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _uid_gid(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def test_a_postgres_catalog_loads_searches_and_reads_sandboxed(postgres, tmp_path, monkeypatch):
    from warehouse.loader import load_batch
    from warehouse.search import refresh_index

    lake = f"ducklake:postgres:{postgres('loads')}"
    monkeypatch.delenv(DATA_SETTING, raising=False)
    with pytest.raises(WarehouseError, match=f"set {DATA_SETTING}"):  # no file to put the data beside
        with opened(lake):
            pass
    monkeypatch.setenv(DATA_SETTING, str(tmp_path / "data"))
    with opened(lake) as con:
        start_run(con, "run-1", "ingest", {})
        counts = load_batch(con, "run-1", transform_batch([raw(path) for path in seed_paths()]))
        refresh_index(con)
    assert counts.loaded == 5 and list((tmp_path / "data").rglob("*.parquet"))
    monkeypatch.delenv(DATA_SETTING)  # the catalog remembers the data folder
    assert search("chỉ thị 35", lake)[0].title.count("35-CT/TW") == 1
    assert run_query("select count(*) from articles", lake).rows == [(5,)]
    with pytest.raises(QueryError, match="postgres_query"):
        run_query("select * from postgres_query('__ducklake_metadata_warehouse', 'select 1')", lake)
    assert lock_path(lake).name.startswith("ducklake-postgres-")


def test_a_postgres_catalog_takes_writers_from_several_processes(postgres, tmp_path, monkeypatch):
    """DuckLake's own concurrency: overlapping appends from two processes both commit; a conflicting
    change fails whole at commit. (It does not stop two loads of the same input from both inserting
    it: tinbai's writer lock, one machine's, keeps its writing runs one at a time.)"""
    monkeypatch.setenv(DATA_SETTING, str(tmp_path / "data"))
    lake = f"ducklake:postgres:{postgres('writers')}"
    with opened(lake):
        pass
    assert write_beside_a_held_transaction(lake) == "committed"  # both appends went in
    assert sorted(run_query("select run_id from runs", lake).rows) == [("held",), ("other",)]

    update = HOLD_A_WRITE.replace(
        "INSERT INTO runs (run_id, flow, started_at, status) VALUES ('held', 'ingest', now(), 'running')",
        "UPDATE runs SET status = 'first' WHERE run_id = 'other'")
    writer = start_python(update, lake)
    try:
        with opened(lake) as con:
            con.execute("UPDATE runs SET status = 'second' WHERE run_id = 'other'")
    finally:
        assert finish(writer).startswith("failed:")  # the same row changed by both: the later commit fails
    assert run_query("select status from runs where run_id = 'other'", lake).rows == [("second",)]
