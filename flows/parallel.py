"""Where the CPU-bound transform stage runs: a local process pool (default) or a Dask cluster.

A Prefect task hands each batch to a `Transformer` and gets back one `Processed` per
document, in order; loading stays in the flow, one writer. Both runners cut a batch into
the same chunks (`chunk_documents`): cleaning finds a site's template lines per
`transform_batch` call, so equal chunks are what gives equal articles and duplicates.

The local runner is a plain `concurrent.futures` pool, not a Prefect process runner,
because those start a temporary API server per worker in ephemeral mode (14 s for 8 tiny
tasks here). The Dask runner runs one Prefect task per chunk through prefect-dask's
`DaskTaskRunner`, on an existing scheduler or on a LocalCluster started for the run.
"""
from __future__ import annotations

import functools
import multiprocessing
import os
import socket
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urlsplit

from transforms.errors import TinbaiError
from transforms.models import Processed, RawDocument
from transforms.budget import document_seconds as budget_setting
from transforms.pipeline import transform_batch

RUNNERS = ("local", "dask")
# Below this many documents a batch is one chunk: the local pool transforms it in-process,
# as shipping it to workers costs more than it saves (the five seeds take ~60 ms in-process).
MIN_DOCUMENTS_TO_SPLIT = 64
CHUNKS_PER_WORKER = 4
MIN_CHUNK = 50
# ...and holds at most this many bytes: a bigger one goes to a worker process even as one
# chunk, where the per-document CPU budget holds (transforms.budget) and a stop can kill it.
# The five seeds are 23 KB; a typical news page 100-300 KB.
MAX_IN_PROCESS_BYTES = 1024 * 1024


# How long a Dask scheduler address is tried before the run gives up on it (distributed's
# own connect timeout is 30 s, and its failure a page of traceback).
SCHEDULER_CONNECT_SECONDS = 10.0


class RunnerError(TinbaiError, ValueError):
    """The runner cannot be used; the message is one line for the user."""


def check_scheduler(address: str, timeout: float = SCHEDULER_CONNECT_SECONDS) -> None:
    """Raise RunnerError unless a TCP connection to the scheduler opens within `timeout` seconds."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if parts.scheme not in ("tcp", "tls") or not host or not port:
        raise RunnerError(f"not a Dask scheduler address (tcp://HOST:PORT): {address!r}")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise RunnerError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {reason}") from None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


@dataclass(frozen=True)
class RunnerSettings:
    """Where transforms run.

    workers: local processes, or the LocalCluster's worker processes (0: one per core);
    with a scheduler address, 0 means the cluster's threads, counted when it is reached.
    """

    kind: str = "local"
    dask_address: str | None = None
    workers: int = 0

    @classmethod
    def resolve(cls, runner: str | None, dask_address: str | None, workers: int = 0) -> RunnerSettings:
        """From flow parameters, else $TINBAI_RUNNER and $TINBAI_DASK_ADDRESS, else local;
        an address alone means Dask."""
        environment_address = os.environ.get("TINBAI_DASK_ADDRESS") or None
        kind = (runner or ("dask" if dask_address else None) or os.environ.get("TINBAI_RUNNER")
                or ("dask" if environment_address else "local"))
        if kind not in RUNNERS:
            raise ValueError(f"unknown runner {kind!r}: choose {' or '.join(RUNNERS)}")
        if kind == "local":
            if dask_address:
                raise ValueError(f"a Dask scheduler address ({dask_address}) needs runner 'dask', not 'local'")
            return cls(kind, None, workers)
        return cls(kind, dask_address or environment_address, workers)


class Transformer(Protocol):
    def transform(self, documents: list[RawDocument]) -> list[Processed]: ...

    def close(self, abort: bool = False) -> None: ...


def open_transformer(settings: RunnerSettings) -> Transformer:
    """The run's transformer; the caller closes it when the run ends."""
    if settings.kind == "dask":
        return DaskTransformer(settings.dask_address, settings.workers)
    return TransformPool(settings.workers or default_workers())


def chunk_documents(documents: list[RawDocument], workers: int) -> list[list[RawDocument]]:
    """The `transform_batch` calls a batch is split into, for every runner alike."""
    if workers <= 1 or len(documents) < MIN_DOCUMENTS_TO_SPLIT:
        return [documents]
    # Several chunks per worker, so one slow chunk (long HTML pages) does not leave the
    # other core idle; each chunk still holds enough of a site's pages for template lines.
    size = max(MIN_CHUNK, -(-len(documents) // (workers * CHUNKS_PER_WORKER)))
    return [documents[start:start + size] for start in range(0, len(documents), size)]


class TransformPool:
    """The local runner: a forkserver process pool of `workers` processes, closed with the run."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        # forkserver: workers fork from a clean process that has imported the transforms
        # once, not from this one with Prefect's threads running. Processes start on the
        # first split batch, so a run with only small batches starts none.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["transforms.pipeline"])
        self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
        self.document_seconds = budget_setting()  # read here: workers fork from an older process

    def transform(self, documents: list[RawDocument]) -> list[Processed]:
        chunks = chunk_documents(documents, self.workers)
        if len(chunks) == 1 and sum(len(document.content) for document in documents) <= MAX_IN_PROCESS_BYTES:
            return transform_batch(documents)
        work = functools.partial(_transform_without_documents, document_seconds=self.document_seconds)
        slim = [result for chunk in self._executor.map(work, chunks) for result in chunk]
        return _with_documents(slim, documents)

    def close(self, abort: bool = False) -> None:
        """abort: the run is stopping (a signal, an error): kill the workers rather than wait for their chunks."""
        if not abort:
            self._executor.shutdown(wait=True, cancel_futures=True)
            return
        # Shut down first: a worker being started holds the executor's lock until it has
        # started, and once shut down no other starts. Then every worker is killed (the
        # executor forgets its process table on shutdown, so it is taken beforehand); a
        # worker left running would hold the interpreter's exit until its chunk was done.
        processes = self._executor._processes  # the live table: a worker being started is added to it
        self._executor.shutdown(wait=False, cancel_futures=True)
        for process in list((processes or {}).values()):
            process.kill()


class DaskTransformer:
    """The Dask runner: one Prefect task per chunk, through prefect-dask's DaskTaskRunner.

    The runner connects to the scheduler at `address`, or starts a LocalCluster of
    `workers` processes, on the first batch (a run with nothing new starts nothing), and
    stays open until `close`. Every chunk is shipped, even a batch of one chunk: the
    point of this runner is that the flow's machine does not do the work.
    """

    def __init__(self, address: str | None, workers: int):
        self.address = address
        # Chunks are cut for this many workers; 0 with an address: the cluster's threads, once reached.
        self.workers = workers if workers > 0 else (0 if address else default_workers())
        self._stack = ExitStack()
        self._runner = None
        # The next batch's transform task may arrive while the first one starts the cluster.
        self._opening = threading.Lock()

    def transform(self, documents: list[RawDocument]) -> list[Processed]:
        runner = self._opened()
        chunks = chunk_documents(documents, self.workers)
        with _context_for_workers():
            # Scattered, chunks go straight to the workers rather than through the scheduler
            # inside the task graph (megabytes per chunk of HTML pages).
            shipped = runner.client.scatter([_Chunk(chunk) for chunk in chunks], hash=False)
            futures = [runner.submit(_chunk_task(), {"chunk": chunk}) for chunk in shipped]
        return _with_documents([result for future in futures for result in future.result()], documents)

    def close(self, abort: bool = False) -> None:
        self._stack.close()
        self._runner = None

    def _opened(self):
        with self._opening:
            if self._runner is None:
                from prefect_dask import DaskTaskRunner

                if self.address:
                    check_scheduler(self.address)
                    runner = DaskTaskRunner(address=self.address)
                else:
                    runner = DaskTaskRunner(
                        cluster_class="distributed.LocalCluster",
                        cluster_kwargs={
                            "n_workers": self.workers, "processes": True, "threads_per_worker": 1,
                            "dashboard_address": ":0",  # a free port: 8787 may be another cluster's
                        },
                    )
                self._stack.enter_context(runner)
                if not self.workers:
                    self.workers = sum(runner.client.nthreads().values())
                self._runner = runner
            return self._runner


@functools.cache
def _chunk_task():
    """The Prefect task a chunk runs as on a Dask worker. Made on first use: the local
    pool's processes import this module too, and must not pay for importing Prefect."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    return task(_transform_chunk, name="transform-chunk", cache_policy=NO_CACHE)


class _Chunk:
    """A chunk's documents as one opaque value. In a list, Prefect on the worker would walk
    every document looking for futures; `quote` does not survive Dask (it is a namedtuple,
    rebuilt as a plain tuple)."""

    __slots__ = ("documents",)

    def __init__(self, documents: list[RawDocument]):
        self.documents = documents


def _transform_chunk(chunk: _Chunk) -> list[Processed]:
    return _transform_without_documents(chunk.documents, budget_setting())  # a thread: only the page limits hold


@contextmanager
def _context_for_workers():
    """The Prefect context that goes with each chunk task to its worker, cut to what it needs."""
    from prefect.client.orchestration import get_client
    from prefect.context import TaskRunContext
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with ExitStack() as stack:
        submitting_task = TaskRunContext.get()
        if submitting_task is not None:
            # Prefect ships the submitting task's parameters with every submission: here the
            # whole batch again, and this transformer with its Dask client.
            stack.enter_context(submitting_task.model_copy(update={"parameters": {}}))
        if not PREFECT_API_URL.value():
            # Ephemeral mode: every worker would start a temporary API server of its own
            # (seconds each, on the same database); the flow's server takes their task runs.
            flow_api = str(get_client(sync_client=True).api_url)
            stack.enter_context(temporary_settings(updates={PREFECT_API_URL: flow_api}))
        yield


def _transform_without_documents(documents: list[RawDocument], document_seconds: float | None) -> list[Processed]:
    """Worker side: the caller has the documents already, so they are not sent back."""
    return [replace(result, document=None) for result in transform_batch(documents, document_seconds=document_seconds)]


def _with_documents(results: list[Processed], documents: list[RawDocument]) -> list[Processed]:
    return [replace(result, document=document) for result, document in zip(results, documents, strict=True)]
