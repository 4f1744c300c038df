"""`tinbai serve`: the sources file's schedules as Prefect deployments; scheduled and manual runs on a real server."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings

from conftest import PROJECT, raw, seed_paths
from sources.config import ConfigError, load_sources
from flows.serve import NEEDS_SERVER, ServeError, deployments, serve
from transforms.pipeline import transform_batch

SOURCES = """\
[schedules]
ingest = "0 * * * *"

[[site]]
name = "vnexpress"
feeds = ["https://vnexpress.net/rss/tin-moi-nhat.rss"]
schedule = "*/30 * * * *"

[[site]]
name = "nhandan"
sitemaps = ["https://nhandan.vn/sitemaps/newsindex.xml"]
"""
SERVE = ("import sys; from sources.config import load_sources; from flows.serve import serve; "
         "serve(load_sources(sys.argv[1]), sys.argv[2], limit=1, allow_private=True)")


def write_sources(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def by_name(built) -> dict:
    return {deployment.name: deployment for deployment in built}


def crons(deployment) -> list[tuple[str, str]]:
    return [(item.schedule.cron, item.schedule.timezone) for item in deployment.schedules]


def test_deployments_from_the_sources_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sources = write_sources(tmp_path, SOURCES)
    built = by_name(deployments(load_sources(sources), "warehouse/tinbai.duckdb"))
    assert list(built) == ["ingest-sources", "backfill-sources", "revisit-sources", "site-vnexpress"]  # nhandan has no schedule of its own
    database = str(tmp_path / "warehouse" / "tinbai.duckdb")  # relative to where serve started
    everything, vnexpress = built["ingest-sources"], built["site-vnexpress"]
    assert everything.flow_name == vnexpress.flow_name == "ingest" and built["revisit-sources"].flow_name == "revisit"
    assert crons(everything) == [("0 * * * *", "Asia/Ho_Chi_Minh")]
    assert crons(vnexpress) == [("*/30 * * * *", "Asia/Ho_Chi_Minh")]
    assert everything.parameters == {"sources": str(sources), "db": database}
    assert vnexpress.parameters == {"sources": str(sources), "sites": ["vnexpress"], "db": database}
    for deployment in built.values():
        assert deployment.tags == ["tinbai"] and str(sources) in deployment.description


def test_without_schedules_ingest_sources_waits_for_manual_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("TINBAI_DB", str(tmp_path / "env.duckdb"))
    text = SOURCES.replace('[schedules]\ningest = "0 * * * *"\n', '[schedules]\ntimezone = "UTC"\n')
    built = by_name(deployments(load_sources(write_sources(tmp_path, text)), None, allow_private=True))
    assert list(built) == ["ingest-sources", "backfill-sources", "revisit-sources", "site-vnexpress"]
    assert built["ingest-sources"].schedules == [] == built["backfill-sources"].schedules == built["revisit-sources"].schedules
    assert built["backfill-sources"].flow_name == "backfill"  # since and until come with each manual run
    assert crons(built["site-vnexpress"]) == [("*/30 * * * *", "UTC")]
    for deployment in built.values():
        assert deployment.parameters["db"] == str(tmp_path / "env.duckdb")  # $TINBAI_DB, as the flow would
        assert deployment.parameters["allow_private"] is True


def test_the_hourly_revisit_deployment(tmp_path):
    text = SOURCES.replace('ingest = "0 * * * *"', 'ingest = "0 * * * *"\nrevisit = "30 * * * *"')
    db = tmp_path / "tinbai.duckdb"
    hourly = by_name(deployments(load_sources(write_sources(tmp_path, text)), str(db)))["revisit-sources"]
    assert crons(hourly) == [("30 * * * *", "Asia/Ho_Chi_Minh")]
    assert hourly.parameters == {"sources": str((tmp_path / "sources.toml").resolve()), "db": str(db)}


def test_the_nightly_reprocess_deployment(tmp_path):
    text = SOURCES.replace('ingest = "0 * * * *"', 'ingest = "0 * * * *"\nreprocess = "30 2 * * *"')
    db = tmp_path / "tinbai.duckdb"
    nightly = by_name(deployments(load_sources(write_sources(tmp_path, text)), str(db)))["reprocess-nightly"]
    assert nightly.flow_name == "reprocess" and nightly.tags == ["tinbai"] and nightly.description
    assert crons(nightly) == [("30 2 * * *", "Asia/Ho_Chi_Minh")]
    assert nightly.parameters == {"db": str(db), "sources": str((tmp_path / "sources.toml").resolve())}


def test_a_cron_string_prefect_refuses_is_a_config_error(tmp_path):
    sources = write_sources(tmp_path, SOURCES.replace('schedule = "*/30 * * * *"', 'schedule = "0 0 * * 5L"'))
    with pytest.raises(ConfigError) as caught:
        deployments(load_sources(sources), None)
    assert str(caught.value) == f'{sources}: site \'vnexpress\': \'schedule\': Invalid cron string: "0 0 * * 5L"'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_refuses_to_start_without_a_prefect_server(tmp_path):
    config = load_sources(write_sources(tmp_path, SOURCES))
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        with pytest.raises(ServeError) as caught:
            serve(config, str(tmp_path / "tinbai.duckdb"))
    assert str(caught.value) == NEEDS_SERVER
    nobody = f"http://127.0.0.1:{free_port()}/api"
    with temporary_settings(updates={PREFECT_API_URL: nobody}):
        with pytest.raises(ServeError) as caught:
            serve(config, str(tmp_path / "tinbai.duckdb"))
    assert f"no Prefect server answers at PREFECT_API_URL={nobody}" in str(caught.value)
    assert "\n" not in str(caught.value)


# -- end to end: a real `prefect server start`, `serve` in a subprocess, a news site on 127.0.0.1 -----------------

def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def prefect_api(tmp_path):
    """A real Prefect server with its scheduler (the test harness's temporary server runs none)."""
    port = free_port()
    log = tmp_path / "prefect-server.log"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "server-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
             "--no-ui"], env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"prefect server exited:\n{tail(log)}"
            assert time.monotonic() < deadline, f"prefect server not healthy after 90 s:\n{tail(log)}"
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        stop(server)


def article_page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{line}</p>" for line in paragraphs)
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta property="article:published_time" content="2026-03-12T09:30:00+07:00"></head>'
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


@pytest.fixture
def news_site(httpserver):
    """robots.txt, an RSS feed and the two articles it lists."""
    bodies = [list(result.article.paragraphs) for result in transform_batch([raw(path) for path in seed_paths()[:2]])]
    titles = ["Hà Nội tổng kết công tác phòng chống thiên tai", "Giá xăng giảm lần thứ ba liên tiếp"]
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    items = "".join(f"<item><title>{title}</title><link>{base}/tin/{number}.html</link></item>"
                    for number, title in enumerate(titles))
    httpserver.expect_request("/rss.xml").respond_with_data(
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Tin mới</title>{items}</channel></rss>',
        content_type="application/rss+xml")
    for number, (title, body) in enumerate(zip(titles, bodies)):
        httpserver.expect_request(f"/tin/{number}.html").respond_with_data(
            article_page(title, body), content_type="text/html; charset=utf-8")
    return base, titles


def flow_runs_of(client, name: str) -> list:
    deployment = client.read_deployment_by_name(name)
    return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])))


def rows(db: Path, sql: str) -> list[tuple]:
    """Read once the last flow run process has let go of the file."""
    deadline = time.monotonic() + 60
    while True:
        try:
            con = duckdb.connect(str(db), read_only=True)
            break
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_scheduled_and_manual_runs_through_serve(prefect_api, news_site, tmp_path):
    base, titles = news_site
    db = tmp_path / "warehouse" / "tinbai.duckdb"
    sources = write_sources(tmp_path, f"""\
[schedules]
ingest = "* * * * *"

[[site]]
name = "thu-nghiem"
feeds = ["{base}/rss.xml"]
rate_limit_seconds = 0.01
schedule = "* * * * *"
""")
    log = tmp_path / "serve.log"
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_HOME": str(tmp_path / "serve-home"),
           # The runner asks the server for due runs every 10 s by default.
           "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    started = time.monotonic()
    with log.open("w") as output:
        serving = subprocess.Popen([sys.executable, "-c", SERVE, str(sources), str(db)], cwd=PROJECT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        with get_client(sync_client=True) as client:
            scheduled = {}  # deployment -> its first scheduled run that completed
            while len(scheduled) < 2:
                assert serving.poll() is None, f"serve exited with {serving.returncode}:\n{tail(log)}"
                # A cron of one minute: the first tick is at most 60 s away, then the two runs, one at a time.
                assert time.monotonic() - started < 150, f"scheduled runs not completed in 150 s: {scheduled}\n{tail(log)}"
                time.sleep(2)
                for name in ("ingest/ingest-sources", "ingest/site-thu-nghiem"):
                    try:
                        runs = flow_runs_of(client, name)
                    except ObjectNotFound:  # serve has not registered it yet
                        continue
                    broken = [run for run in runs if run.state.is_final() and not run.state.is_completed()]
                    assert not broken, f"{name}: {broken[0].state}:\n{tail(log)}"
                    done = sorted((run for run in runs if run.auto_scheduled and run.state.is_completed()),
                                  key=lambda run: run.expected_start_time)
                    if done:
                        scheduled[name] = done[0]
            scheduled_after = time.monotonic() - started

            deployment = client.read_deployment_by_name("ingest/ingest-sources")
            assert [(item.schedule.cron, item.schedule.timezone) for item in deployment.schedules] == [
                ("* * * * *", "Asia/Ho_Chi_Minh")]
            assert deployment.parameters == {"sources": str(sources), "db": str(db), "allow_private": True}
            assert deployment.tags == ["tinbai"]

        manual = run_deployment("ingest/ingest-sources", parameters={"refetch": True}, timeout=120)
        assert manual.state.is_completed(), f"{manual.state}:\n{tail(log)}"
        assert not manual.auto_scheduled
        manual_after = time.monotonic() - started
    finally:
        stop(serving)
    print(f"scheduled runs completed after {scheduled_after:.0f} s, the manual run after {manual_after:.0f} s")

    assert sorted(title for (title,) in rows(db, "SELECT title FROM articles")) == sorted(titles)
    recorded = {run_id: (status, loaded, json.loads(parameters))
                for run_id, status, loaded, parameters in rows(db, "SELECT run_id, status, loaded_count, parameters FROM runs")}
    assert sum(loaded for _, loaded, _ in recorded.values()) == 2  # whichever ran first; the others found them stored
    status, _, parameters = recorded[str(scheduled["ingest/ingest-sources"].id)]
    assert status == "completed" and parameters["sources"] == str(sources)
    assert "sites" not in parameters and "refetch" not in parameters
    status, _, parameters = recorded[str(scheduled["ingest/site-thu-nghiem"].id)]
    assert status == "completed" and parameters["sites"] == ["thu-nghiem"]
    status, loaded, parameters = recorded[str(manual.id)]
    assert (status, loaded) == ("completed", 0)  # the same two articles, unchanged
    assert parameters["refetch"] is True and parameters["sources"] == str(sources) and parameters["allow_private"] is True
