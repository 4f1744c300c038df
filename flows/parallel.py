"""A process pool for the CPU-bound transform stage, shared by every batch of a run.

Prefect's process runners start a temporary API server per worker in ephemeral mode
(14 s for 8 tiny tasks here), so a Prefect task drives this pool over a batch instead.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from transforms.models import Processed, RawDocument
from transforms.pipeline import transform_batch

# Below this many documents a batch is transformed in-process: shipping it to workers
# costs more than it saves (the five seeds take ~60 ms in-process).
MIN_DOCUMENTS_FOR_POOL = 64
CHUNKS_PER_WORKER = 4
MIN_CHUNK = 50


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


class TransformPool:
    """Splits each batch into one chunk per worker; lazily started, closed with the run."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None

    def transform(self, documents: list[RawDocument]) -> list[Processed]:
        if self.workers == 1 or len(documents) < MIN_DOCUMENTS_FOR_POOL:
            return transform_batch(documents)
        if self._executor is None:
            # forkserver: workers fork from a clean process that has imported the
            # transforms once, not from this one with Prefect's threads running.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["transforms.pipeline"])
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
        # Several chunks per worker, so one slow chunk (long HTML pages) does not leave the
        # other core idle; each chunk still holds enough of a site's pages for template lines.
        size = max(MIN_CHUNK, -(-len(documents) // (self.workers * CHUNKS_PER_WORKER)))
        chunks = [documents[start:start + size] for start in range(0, len(documents), size)]
        slim = [result for chunk in self._executor.map(_transform_without_documents, chunks) for result in chunk]
        return [replace(result, document=document) for result, document in zip(slim, documents)]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None


def _transform_without_documents(documents: list[RawDocument]) -> list[Processed]:
    """Worker side: the caller has the documents already, so they are not pickled back."""
    return [replace(result, document=None) for result in transform_batch(documents)]
