"""The transform stage on either task runner: a real 2-worker Dask cluster gives exactly the
local pool's articles, duplicates and rejects, through real Prefect flow runs."""
from __future__ import annotations

import gzip
import socket
import time
from itertools import islice
from pathlib import Path
from uuid import UUID

import pytest

from conftest import SEEDS, rows, shared_path
from flows.cli import main
from flows.ingest import ingest
from flows.parallel import SCHEDULER_CONNECT_SECONDS, RunnerSettings, chunk_documents
from flows.reprocess import reprocess

pytestmark = pytest.mark.usefixtures("prefect_server")
SLICE_RECORDS = 600
WORKERS = 2
BATCH_SIZE = 250  # three batches: the next one is transformed while one loads
# Everything the transform stage decides, and nothing that differs between two runs (run
# ids, times): every parsed field of both member tables, their band keys, what enrichment
# found, the rejects.
SNAPSHOT = {
    "articles": "SELECT article_id, source, document_id, url, site, title, author, published_at, date_precision,"
                " original_source, views, text, content_hash, format, extractor, extractor_version, cleaner_version"
                " FROM articles ORDER BY article_id",
    "duplicates": "SELECT duplicate_id, source, canonical_id, method, similarity, document_id, url, site, title,"
                  " author, published_at, date_precision, original_source, views, text, content_hash, format,"
                  " extractor FROM duplicates ORDER BY duplicate_id",
    "member_bands": "SELECT member_id, band, band_key FROM member_bands ORDER BY ALL",
    "document_refs": "SELECT * FROM document_refs ORDER BY ALL",
    "people": "SELECT * FROM people ORDER BY ALL",
    "rejects": "SELECT source, content_hash, stage, reason FROM rejects ORDER BY ALL",
}


@pytest.fixture(scope="module")
def dask_cluster():
    """An existing scheduler with two worker processes, as `--dask-address` would name."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=WORKERS, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """The seeds and the first records of the baomoi corpus (exact and near duplicates among them)."""
    corpus = shared_path("corpora", "baomoi", "baomoi_21448.jsonl.gz")
    corpus_slice = tmp_path_factory.mktemp("corpus") / "baomoi_slice.jsonl"
    with gzip.open(corpus, "rb") as records:
        corpus_slice.write_bytes(b"".join(islice(records, SLICE_RECORDS)))
    return [str(SEEDS), str(corpus_slice)]


def snapshot(db: Path) -> dict[str, list[tuple]]:
    return {table: rows(db, sql) for table, sql in SNAPSHOT.items()}


def chunk_task_runs(flow_run_id: str, expected: int) -> list:
    """The flow run's transform-chunk task runs, once `expected` have reached a final state:
    task run states reach the API as events, a moment after the flow returns."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterName

    deadline = time.monotonic() + 15
    while True:
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
                task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="transform-chunk")),
            )
        final = [run for run in runs if run.state is not None and run.state.is_final()]
        if len(final) >= expected or time.monotonic() > deadline:
            return final
        time.sleep(0.2)


def test_a_dask_cluster_gives_exactly_the_local_runners_results(tmp_path, inputs, dask_cluster):
    local_db, dask_db = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    local = ingest(paths=inputs, db=str(local_db), batch_size=BATCH_SIZE, workers=WORKERS, runner="local")
    dask = ingest(paths=inputs, db=str(dask_db), batch_size=BATCH_SIZE, runner="dask",
                  dask_address=dask_cluster.scheduler_address)

    counted = ("read", "loaded", "duplicates", "exact_duplicates", "near_duplicates", "rejected")
    assert [getattr(dask, name) for name in counted] == [getattr(local, name) for name in counted]
    assert local.read == SLICE_RECORDS + 5 and local.exact_duplicates and local.near_duplicates
    expected = snapshot(local_db)
    assert snapshot(dask_db) == expected
    assert {row[3] for row in expected["duplicates"]} == {"exact", "near"}

    # The cluster did the work: one completed Prefect task per chunk, within the flow run,
    # cut as the local pool cuts (the address gives no worker count: the cluster's threads).
    batches = [BATCH_SIZE, BATCH_SIZE, local.read - 2 * BATCH_SIZE]
    chunks = sum(len(chunk_documents([None] * size, WORKERS)) for size in batches)
    runs = chunk_task_runs(dask.run_id, chunks)
    assert len(runs) == chunks and all(run.state.is_completed() for run in runs)

    # Reprocessing both with every member rebuilt goes through the same runners.
    local_again = reprocess(db=str(local_db), all_versions=True, batch_size=BATCH_SIZE, workers=WORKERS)
    dask_again = reprocess(db=str(dask_db), all_versions=True, batch_size=BATCH_SIZE, runner="dask",
                           dask_address=dask_cluster.scheduler_address)
    assert (dask_again.read, dask_again.loaded, dask_again.unchanged) == (
        local_again.read, local_again.loaded, local_again.unchanged)
    assert dask_again.read == local.loaded + local.duplicates
    assert snapshot(dask_db) == snapshot(local_db)


def test_a_local_cluster_started_for_the_run_gives_the_same_results(tmp_path, inputs):
    local_db, cluster_db = tmp_path / "local.duckdb", tmp_path / "cluster.duckdb"
    seeds_and_some = [inputs[0], _first_lines(inputs[1], tmp_path / "some.jsonl", 100)]
    ingest(paths=seeds_and_some, db=str(local_db), workers=WORKERS)
    started = ingest(paths=seeds_and_some, db=str(cluster_db), workers=WORKERS, runner="dask")
    assert snapshot(cluster_db) == snapshot(local_db)
    assert len(chunk_task_runs(started.run_id, 3)) == 3  # 105 documents: chunks of 50, 50 and 5


def test_the_cli_passes_the_runner_and_an_address_alone_means_dask(db, dask_cluster, capsys, monkeypatch):
    monkeypatch.setenv("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")  # the CLI sets it for good otherwise
    assert main(["ingest", str(SEEDS), "--db", str(db), "--dask-address", dask_cluster.scheduler_address]) == 0
    assert "articles loaded" in capsys.readouterr().out
    (run_id,) = rows(db, "SELECT run_id FROM runs")[0]
    assert len(chunk_task_runs(run_id, 1)) == 1  # the five seeds: one chunk, still shipped

    assert main(["reprocess", "--db", str(db), "--runner", "local", "--dask-address", "tcp://127.0.0.1:1"]) == 2
    assert "needs runner 'dask'" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_one_line_before_the_run_starts(db, capsys):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    assert main(["ingest", str(SEEDS), "--db", str(db), "--dask-address", f"tcp://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 10 s" in err
    assert time.monotonic() - started < SCHEDULER_CONNECT_SECONDS
    assert not db.exists() or rows(db, "SELECT count(*) FROM runs") == [(0,)]


def test_runner_settings_from_parameters_and_environment(monkeypatch):
    monkeypatch.delenv("TINBAI_RUNNER", raising=False)
    monkeypatch.delenv("TINBAI_DASK_ADDRESS", raising=False)
    assert RunnerSettings.resolve(None, None, 3) == RunnerSettings("local", None, 3)
    assert RunnerSettings.resolve(None, "tcp://a:8786") == RunnerSettings("dask", "tcp://a:8786")
    assert RunnerSettings.resolve("dask", None) == RunnerSettings("dask", None)  # a LocalCluster
    monkeypatch.setenv("TINBAI_DASK_ADDRESS", "tcp://b:8786")
    assert RunnerSettings.resolve(None, None) == RunnerSettings("dask", "tcp://b:8786")
    assert RunnerSettings.resolve("local", None) == RunnerSettings("local", None)  # a parameter wins
    monkeypatch.setenv("TINBAI_RUNNER", "local")
    assert RunnerSettings.resolve(None, None) == RunnerSettings("local", None)
    assert RunnerSettings.resolve(None, "tcp://a:8786") == RunnerSettings("dask", "tcp://a:8786")
    monkeypatch.setenv("TINBAI_RUNNER", "dask")
    monkeypatch.delenv("TINBAI_DASK_ADDRESS")
    assert RunnerSettings.resolve(None, None) == RunnerSettings("dask", None)
    with pytest.raises(ValueError, match="unknown runner 'ray'"):
        RunnerSettings.resolve("ray", None)
    with pytest.raises(ValueError, match="needs runner 'dask'"):
        RunnerSettings.resolve("local", "tcp://a:8786")


def test_every_runner_cuts_a_batch_the_same_way():
    documents = list(range(605))
    assert chunk_documents(documents[:63], 2) == [documents[:63]]  # too few to split
    assert chunk_documents(documents, 1) == [documents]
    chunks = chunk_documents(documents, 2)
    assert [len(chunk) for chunk in chunks] == [76] * 7 + [73]  # four per worker
    assert [item for chunk in chunks for item in chunk] == documents


def _first_lines(source: str, target: Path, count: int) -> str:
    with open(source, "rb") as lines:
        target.write_bytes(b"".join(islice(lines, count)))
    return str(target)
