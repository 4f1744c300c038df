"""`tinbai report --html`: one self-contained page of charts, days in Vietnam time, checked
in headless Chromium when there is one."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import plotly.offline
import pytest

from conftest import PROJECT, run_tinbai
from transforms.models import RawDocument
from transforms.pipeline import transform_batch
from warehouse.connection import opened
from warehouse.loader import load_batch
from warehouse.queries import open_read_only
from warehouse.report_page import report_page
from warehouse.stories import refresh_stories

# Two sites; the two evening articles fall on one UTC day but on two Vietnam days.
ARTICLES = [
    ("https://bao-a.vn/tin/1.html", "Báo A", "2026-03-01T23:30:00+07:00", "Hà Nội khánh thành tuyến metro số hai"),
    ("https://bao-a.vn/tin/2.html", "Báo A", "2026-03-02T00:30:00+07:00", "Giá lúa gạo miền Tây tăng mạnh đầu vụ"),
    ("https://bao-b.vn/tin/3.html", "Báo B", "2026-03-02T09:00:00+07:00", "Đà Nẵng đón lượng khách du lịch kỷ lục"),
]


def page_html(site: str, published: str, title: str) -> bytes:
    body = "".join(f"<p>{title}: đoạn {n} của bài viết, với đủ chữ để là một đoạn văn thật sự của một bài báo.</p>"
                   for n in range(1, 6))
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="og:site_name" content="{site}"><meta property="article:published_time" content="{published}">'
            f"</head><body><article><h1>{title}</h1>{body}</article></body></html>").encode()


@pytest.fixture
def small_warehouse(tmp_path) -> Path:
    db = tmp_path / "page.duckdb"
    documents = [RawDocument(source, page_html(site, published, title), datetime.now(timezone.utc))
                 for source, site, published, title in ARTICLES]
    with opened(str(db)) as con:
        load_batch(con, "run-1", transform_batch(documents))
        refresh_stories(con, "run-1")
    return db


def test_the_page_is_self_contained_and_counts_vietnam_days(small_warehouse):
    con = open_read_only(small_warehouse)
    try:
        page = report_page(con)
    finally:
        con.close()
    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle) == 1  # plotly.js inlined once: the page works offline
    rest = page.replace(bundle, "")
    assert not re.search(r"<script[^>]*\bsrc=|<link[^>]*\bhref=|https?://", rest)  # and nothing else is fetched
    assert page.count("Plotly.newPlot(") == 4  # articles per day, copies, top stories, site health (no documents or people)
    for title in ("Articles per day, per site", "Duplicates and copies", "Top stories", "Cited documents over time",
                  "People over time", "Site health", "Taken down"):
        assert f"<h2>{title}" in page
    first_chart = page[page.index("Articles per day, per site"):page.index("Duplicates and copies")]
    traces = [json.loads(f"[{items}]") for items in re.findall(r'"x":\[([^\]]*)\]', first_chart)]
    assert sorted(day for trace in traces for day in trace) == ["2026-03-01", "2026-03-02", "2026-03-02"]
    assert "Báo A" in first_chart and "Báo B" in first_chart


def test_report_html_from_the_command_line(small_warehouse, tmp_path):
    out = tmp_path / "report.html"
    result = run_tinbai("report", "--db", str(small_warehouse), "--html", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"report: {out} (") and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    missing = run_tinbai("report", "--db", str(small_warehouse), "--html", str(tmp_path / "no" / "such" / "r.html"))
    assert missing.returncode == 1 and missing.stderr.startswith("tinbai: error: cannot write ")
    assert "Traceback" not in missing.stderr


def test_the_page_draws_in_headless_chromium(small_warehouse, tmp_path):
    if not shutil.which("chromium") and not shutil.which("chromium-browser"):
        pytest.skip("no Chromium on PATH (Debian's chromium package) to draw the page with")
    result = subprocess.run([sys.executable, str(PROJECT / "bench" / "report_page.py"), "--db", str(small_warehouse),
                             "--out", str(tmp_path)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    png = (tmp_path / "report.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a drawn page, not a blank one
