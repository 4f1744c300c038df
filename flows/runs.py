"""What every run that writes the warehouse does around its own work.

Take the writer lock (one writer at a time, bounded wait), record the run in `runs`, and
when it ends, however it ends: record the outcome, rebuild the search index over what was
committed, and publish the headline report as a Prefect markdown artifact.

On the way, flows announce each committed batch to whoever watches the run in-process
(the CLI's progress bar); the Prefect log has the same lines. Without a watcher (a served
or scheduled run) announcing costs nothing.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Callable, Iterator

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import ExternalSignal
from prefect.runtime import flow_run

from flows.parallel import RunnerSettings, Transformer, open_transformer
from transforms.models import Processed, RawDocument
from warehouse.connection import opened
from warehouse.location import resolve_path
from warehouse.runs import finish_run, mark_interrupted_runs, start_run
from warehouse.lock import writer_lock
from warehouse.report import headline_report, report_markdown
from warehouse.search import refresh_index
from warehouse.people import refresh_people
from warehouse.stories import refresh_stories


Watcher = Callable[[str, int, int], None]  # (flow, batch number, documents in it)
_watchers: list[Watcher] = []
_stop_watchers: list[Callable[[], None]] = []


def batch_done(flow: str, number: int, documents: int) -> None:
    for watcher in list(_watchers):
        watcher(flow, number, documents)


def run_stopping() -> None:
    """A signal is stopping the run: said before its workers are killed (their failures are expected)."""
    for watcher in list(_stop_watchers):
        watcher()


@contextmanager
def watching(watcher: Watcher, on_stop: Callable[[], None] | None = None) -> Iterator[None]:
    _watchers.append(watcher)
    if on_stop:
        _stop_watchers.append(on_stop)
    try:
        yield
    finally:
        _watchers.remove(watcher)
        if on_stop:
            _stop_watchers.remove(on_stop)


@dataclass
class RunCounts:
    """What a writing run did, as `runs` records it; each flow's summary adds its own counters."""

    run_id: str
    database: str
    flow: str
    read: int = 0
    unchanged: int = 0
    loaded: int = 0
    duplicates: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {key: value for key, value in asdict(self).items() if isinstance(value, int)}


@contextmanager
def transforming(settings: RunnerSettings) -> Iterator[Transformer]:
    """The run's transformer, closed when the block ends: waited for when it ends well,
    its workers killed when it does not (a stop signal is announced first: the workers'
    failures that follow are expected)."""
    transformer = open_transformer(settings)
    try:
        yield transformer
    except (KeyboardInterrupt, ExternalSignal):
        run_stopping()
        transformer.close(abort=True)
        raise
    except BaseException:
        transformer.close(abort=True)
        raise
    transformer.close()


@task(name="transform-batch", cache_policy=NO_CACHE)
def transform_task(documents: list[RawDocument], transformer: Transformer) -> list[Processed]:
    """One batch through the transforms, wherever the run's transformer runs them."""
    return transformer.transform(documents)


@dataclass(frozen=True)
class WritingRun:
    database: str
    run_id: str
    seen_at: datetime  # the run's start: the 'first seen' time of what it loads


@contextmanager
def writing_run(db: str | None, flow: str, parameters: dict, summary: RunCounts) -> Iterator[WritingRun]:
    """Hold the warehouse for one run; `summary.counts()` is recorded when the block ends."""
    logger = get_run_logger()
    database = resolve_path(db)
    run_id = str(flow_run.id or f"local-{time.time_ns()}")
    waiting_since = time.monotonic()
    with writer_lock(database, flow):
        waited = time.monotonic() - waiting_since
        if waited > 1:
            logger.info("waited %.1f s for another run to finish writing %s", waited, database)
        with opened(database) as con:
            interrupted = mark_interrupted_runs(con)
            seen_at = start_run(con, run_id, flow, {**{k: v for k, v in parameters.items() if v}, "db": str(database)})
        if interrupted:
            logger.warning("%d earlier run(s) had been interrupted (killed or crashed); marked 'interrupted'", interrupted)
        status, message = "failed", None
        try:
            yield WritingRun(str(database), run_id, seen_at)
            status = "completed"
        except (KeyboardInterrupt, ExternalSignal):  # Ctrl-C; SIGTERM (Prefect's TerminationSignal, or flows.cli.Stopped)
            status, message = "interrupted", "stopped by a signal; the batch being loaded was rolled back"
            raise
        except BaseException as error:
            message = f"{type(error).__name__}: {error}"
            raise
        finally:
            with opened(database) as con:
                finish_run(con, run_id, status, summary.counts(), message)
                reindexed = refresh_index(con)
                storied = refresh_stories(con, run_id)
                named = refresh_people(con)
                report = headline_report(con)
            logger.info("search index: %d articles new, changed or removed", reindexed)
            logger.info("stories: %d articles given one", storied)
            logger.info("people: the namesakes of %d names told apart", named)
            _publish(report_markdown(report, title=f"tinbai warehouse after {flow} run {run_id}"), logger)


def _publish(markdown: str, logger) -> None:
    """The report as an artifact in the Prefect UI; a run without an API to send it to just logs it."""
    try:
        create_markdown_artifact(markdown=markdown, key="tinbai-report", description="Headline analytics of the warehouse")
    except Exception as error:  # the warehouse is written; a missing artifact must not fail the run
        logger.warning("report artifact not published: %s", error)
