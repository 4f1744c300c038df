"""Runs that meet hostile input stay bounded: a page built to be slow, a stop signal, bad parameters.

Real parts throughout: the ingest flow in ephemeral Prefect, the CLI as a subprocess, a DuckDB file.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from conftest import SEEDS, rows
from flows.ingest import ingest
from transforms.budget import PageLimits
from transforms.clean import load_cleaning_rules
from transforms.html import LEAN_EXTRACTOR, extract_page

RULES = load_cleaning_rules()
TINBAI = os.path.join(os.path.dirname(sys.executable), "tinbai")


def hostile_page(paragraphs: int) -> str:
    """A page of many distinct paragraphs in one container: what trafilatura walks slowly, element by element."""
    body = "".join(f"<div><p>Đoạn văn thứ {n} của một trang được dựng để chậm, kể về thời sự {n * 7}.</p></div>"
                   for n in range(paragraphs))
    return f"<html><head><title>Trang độc hại</title></head><body><article>{body}</article></body></html>"


def test_a_page_over_the_structural_limits_is_read_by_the_lean_extractor():
    limits = PageLimits(max_elements=1_000, max_paragraphs=50)
    page = extract_page(hostile_page(2_000), None, RULES, limits)
    assert page.method == LEAN_EXTRACTOR and page.title == "Trang độc hại"
    assert len(page.lines) == 50 and page.lines[0].startswith("Đoạn văn thứ 0 ")
    deep = "<html><head><title>Sâu</title></head><body>" + "<div>" * 150 + "<p>Một đoạn văn ở rất sâu.</p>" + "</div>" * 150
    assert extract_page(deep + "</body></html>", None, RULES, PageLimits(max_depth=100)).method == LEAN_EXTRACTOR
    normal = extract_page(hostile_page(20), None, RULES, limits)  # under the limits: trafilatura, as always
    assert normal.method != LEAN_EXTRACTOR


def test_a_document_over_its_cpu_budget_is_one_reject_and_the_batch_goes_on(tmp_path, monkeypatch, prefect_server):
    slow = tmp_path / "inputs" / "cham.html"
    slow.parent.mkdir()
    slow.write_text(hostile_page(24_000), encoding="utf-8")  # ~2 MB, under every limit; seconds of trafilatura
    for seed in sorted(SEEDS.glob("*.txt")):
        (slow.parent / seed.name).write_bytes(seed.read_bytes())
    monkeypatch.setenv("TINBAI_DOCUMENT_SECONDS", "0.1")
    db = tmp_path / "w.duckdb"
    summary = ingest(paths=[str(slow.parent)], db=str(db))
    assert summary.loaded == 5 and summary.rejected == 1
    assert summary.reject_reasons == {"too slow to extract (over 0.1 s of CPU)": 1}
    assert rows(db, "SELECT source LIKE '%cham.html', reason FROM rejects") == [(True, "too slow to extract (over 0.1 s of CPU)")]


def test_unparseable_parameters_fail_the_run_at_once_and_are_recorded(tmp_path, prefect_server):
    db = tmp_path / "w.duckdb"
    # the CLI's own date format, as a deployment run gets it: Vietnam time, accepted
    assert ingest(paths=[str(SEEDS)], db=str(db), since="2025-01-01").loaded == 5
    with pytest.raises(ValueError, match=r"^since: not a date \(YYYY-MM-DD or ISO 8601\): 'hôm qua'$"):
        ingest(paths=[str(SEEDS)], db=str(db), since="hôm qua")
    sources = tmp_path / "sources.toml"
    sources.write_text('[[site]]\nname = "mot"\nfeeds = ["http://127.0.0.1:9/rss"]\n', encoding="utf-8")
    with pytest.raises(Exception, match="no site named 'hai'"):
        ingest(sources=str(sources), sites=["hai"], db=str(db))
    recorded = rows(db, "SELECT status, message FROM runs ORDER BY started_at")
    assert [status for status, _ in recorded] == ["completed", "failed", "failed"]
    assert "since: not a date" in recorded[1][1] and "no site named 'hai'" in recorded[2][1]


def _wait_for_running(db: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if rows(db, "SELECT count(*) FROM runs WHERE status = 'running'") == [(1,)]:
                return
        except duckdb.Error:
            pass  # not created yet, or the writer has it open this instant
        time.sleep(0.2)
    raise AssertionError(f"no running run in {db} after {seconds} s")


def test_sigterm_stops_a_run_promptly_marked_interrupted_with_one_line(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for n in range(6):  # no budget below: minutes of extraction in a worker process
        (inputs / f"cham-{n}.html").write_text(hostile_page(20_000 + n), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    env = {**os.environ, "TINBAI_DOCUMENT_SECONDS": "0"}
    run = subprocess.Popen([TINBAI, "ingest", str(inputs), "--db", str(db)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_running(db, 120)
        time.sleep(1.0)  # into the transform
        workers = _descendants(run.pid)
        run.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        _, err = run.communicate(timeout=60)
        took = time.monotonic() - stopped
    finally:
        run.kill()
    assert run.returncode == 128 + signal.SIGTERM
    assert err.splitlines() == ["tinbai: stopped by SIGTERM; the run is marked interrupted, its unfinished batch rolled back"]
    assert took < 15
    assert rows(db, "SELECT status FROM runs") == [("interrupted",)]
    assert rows(db, "SELECT count(*) FROM articles") == [(0,)]
    assert workers, "the transform ran in no worker process"
    deadline = time.monotonic() + 5
    while [pid for pid in workers if Path(f"/proc/{pid}").exists()] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "worker processes outlived the run"


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        kids = [int(child) for child in children.read_text().split()] if children.exists() else []
        found += kids
        queue += kids
    return found


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


def test_a_failed_url_waits_out_its_backoff_unless_refetched(httpserver, tmp_path, prefect_server):
    from datetime import timedelta

    from werkzeug import Response

    state = {"status": 503}
    page = ("<html><head><title>Bài đã trở lại</title></head><body><article>"
            + "<p>Đoạn văn của một bài báo thật dài, kể chuyện thời sự trong tuần ở Hà Nội và các tỉnh lân cận.</p>" * 5
            + "</article></body></html>")
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/tin/bai-1.html").respond_with_handler(
        lambda request: Response(page if state["status"] == 200 else "<h1>bảo trì</h1>", status=state["status"],
                                 content_type="text/html; charset=utf-8"))
    httpserver.expect_request("/rss").respond_with_data(
        f'<rss version="2.0"><channel><item><link>{httpserver.url_for("/tin/bai-1.html")}</link></item></channel></rss>',
        content_type="application/rss+xml")
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[defaults]\nrate_limit_seconds = 0.01\nretries = 0\n\n[[site]]\nname = "mot"\n'
                       f'feeds = ["{httpserver.url_for("/rss")}"]\n', encoding="utf-8")
    db = tmp_path / "w.duckdb"

    def asked() -> int:
        return sum(1 for request, _ in httpserver.log if request.path == "/tin/bai-1.html")

    first = ingest(sources=str(sources), db=str(db), allow_private=True)
    assert (first.rejected, asked()) == (1, 1)
    again = ingest(sources=str(sources), db=str(db), allow_private=True)
    assert (again.skipped_not_due, again.rejected, asked()) == (1, 0, 1)  # not due: not asked
    forced = ingest(sources=str(sources), db=str(db), allow_private=True, refetch=True)
    assert (forced.skipped_not_due, asked()) == (0, 2)
    ((failures, reason, wait),) = rows(db, "SELECT failures, last_reason, next_attempt_at - last_failed_at FROM fetch_failures")
    assert (failures, reason, wait) == (2, "HTTP 503 SERVICE UNAVAILABLE (after 1 attempt)", timedelta(hours=1))
    state["status"] = 200
    back = ingest(sources=str(sources), db=str(db), allow_private=True, refetch=True)
    assert back.loaded == 1 and rows(db, "SELECT count(*) FROM fetch_failures") == [(0,)]
