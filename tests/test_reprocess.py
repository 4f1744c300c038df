"""`reprocess`: stored raw documents rebuilt in place, versions updated, nothing doubled, resumable."""
from __future__ import annotations

import duckdb
import pytest

from conftest import SEEDS, rows
from flows.ingest import ingest
from flows.reprocess import _job_key, current_versions, reprocess
from transforms.clean import CLEANING_RULES_PATH, load_cleaning_rules
from warehouse.reprocessing import Selection

pytestmark = pytest.mark.usefixtures("prefect_server")



def execute(db, sql: str, params=()) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute(sql, list(params))
    finally:
        con.close()


def snapshot(db) -> list[tuple]:
    return rows(db, "SELECT article_id, source, title, text, published_at, first_run_id FROM articles ORDER BY source")


@pytest.fixture
def seeded(db):
    ingest(paths=[str(SEEDS)], db=str(db), workers=1)
    return db


def test_reprocess_all_keeps_everything_and_counts_no_change(seeded):
    before = snapshot(seeded)
    summary = reprocess(db=str(seeded), all_versions=True, workers=1)
    assert (summary.read, summary.loaded, summary.unchanged, summary.rejected, summary.duplicates) == (5, 0, 5, 0, 0)
    assert snapshot(seeded) == before
    assert rows(seeded, "SELECT count(*) FROM job_progress")[0][0] == 0  # a finished job leaves no cursor


def test_outdated_articles_are_rebuilt_in_place(seeded):
    before = snapshot(seeded)
    current = load_cleaning_rules(CLEANING_RULES_PATH).version
    execute(seeded, "UPDATE articles SET text = 'văn bản cũ', cleaner_version = '2020.01.01' WHERE source LIKE '%000_%'")
    execute(seeded, "UPDATE articles SET cleaner_version = '2020.01.01', extractor_version = '2020.01.01'"
                    " WHERE source LIKE '%001_%'")
    summary = reprocess(db=str(seeded), workers=1)
    assert (summary.read, summary.loaded, summary.unchanged) == (2, 1, 1)  # only the two outdated ones
    assert snapshot(seeded) == before  # same ids, same first run, the old text replaced
    assert rows(seeded, "SELECT DISTINCT cleaner_version FROM articles") == [(current,)]
    assert rows(seeded, "SELECT count(*) FROM duplicates")[0][0] == 0
    run = rows(seeded, "SELECT read_count, loaded_count, unchanged_count, status FROM runs WHERE flow = 'reprocess'")
    assert run == [(2, 1, 1, "completed")]
    assert reprocess(db=str(seeded), workers=1).read == 0  # nothing outdated any more


def test_reprocess_by_site_and_date(seeded):
    assert reprocess(db=str(seeded), all_versions=True, site="vietnamplus.vn", workers=1).read == 1
    in_2019 = reprocess(db=str(seeded), all_versions=True, since="2019-12-01T00:00:00+07:00",
                        until="2020-01-01T00:00:00+07:00", workers=1)
    assert in_2019.read == 1


def test_an_interrupted_job_resumes_after_its_last_committed_batch(seeded):
    sources = [source for (source,) in rows(seeded, "SELECT source FROM articles ORDER BY source")]
    parameters = {"since": None, "until": None, "site": None, "all_versions": True, "batch_size": 2, "sources": None}
    key = _job_key(parameters, Selection(current=current_versions([])))
    # What a run killed after its first batch of two leaves behind: that batch's progress row.
    execute(seeded, "INSERT INTO job_progress VALUES (?, 1, ?, 'killed-run', now())", [key, sources[1]])
    summary = reprocess(db=str(seeded), all_versions=True, batch_size=2, workers=1)
    assert summary.resumed_after == 1 and summary.read == 3 and summary.batches == 2
    assert rows(seeded, "SELECT count(*) FROM job_progress")[0][0] == 0


def test_reprocess_brings_enrichment_back_for_unchanged_articles(seeded):
    refs = rows(seeded, "SELECT article_id, code FROM document_refs ORDER BY ALL")
    assert refs
    execute(seeded, "DELETE FROM document_refs")  # as if the enrichment rules had changed
    summary = reprocess(db=str(seeded), all_versions=True, workers=1)
    assert summary.unchanged == 5 and rows(seeded, "SELECT article_id, code FROM document_refs ORDER BY ALL") == refs
