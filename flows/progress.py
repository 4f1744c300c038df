"""Per-batch progress for whoever watches a run in-process (the CLI's progress bar).

Flows announce each committed batch here; the Prefect log has the same lines. Without a
watcher (a served or scheduled run) announcing costs nothing.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

Watcher = Callable[[str, int, int], None]  # (flow, batch number, documents in it)
_watchers: list[Watcher] = []


def batch_done(flow: str, number: int, documents: int) -> None:
    for watcher in list(_watchers):
        watcher(flow, number, documents)


@contextmanager
def watching(watcher: Watcher) -> Iterator[None]:
    _watchers.append(watcher)
    try:
        yield
    finally:
        _watchers.remove(watcher)
