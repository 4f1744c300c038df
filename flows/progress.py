"""Per-batch progress for whoever watches a run in-process (the CLI's progress bar).

Flows announce each committed batch here; the Prefect log has the same lines. Without a
watcher (a served or scheduled run) announcing costs nothing.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

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
