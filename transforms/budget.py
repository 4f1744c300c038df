"""Bounds on what one document may cost: structure checked before extraction, CPU time during it.

A hostile page (a million `<p>`, nesting thousands deep) must cost its own reject, not its
batch's or its run's time. Two bounds:

- `PageLimits`, checked on the raw bytes and the parsed tree before trafilatura runs. A page
  over them is not refused: it is read by the lean extractor (`transforms.html.lean_page`:
  its title and the text of its first `max_paragraphs` paragraphs), whose cost is linear.
- `cpu_budget`, the CPU seconds one document may take in a transform worker; over it the
  document becomes one reject, "too slow to extract", and the batch goes on. It is a
  SIGPROF timer, so it holds where the transforms run in a process's main thread (the
  local pool's workers); elsewhere (a Dask worker's thread) only the limits apply.
"""
from __future__ import annotations

import os
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass

# CPU seconds per document. Measured with extract_page on trafilatura's 990 eval pages and
# the 10 vi-pages-dev pages (on a busy 2-core machine): mean 0.046 s, slowest 0.50 s.
# 20 s is 40x the slowest, and still ends a hostile page within a batch's time.
DEFAULT_DOCUMENT_SECONDS = 20.0
DOCUMENT_SECONDS_SETTING = "TINBAI_DOCUMENT_SECONDS"
_TAG_START = re.compile(rb"<[A-Za-z]")


@dataclass(frozen=True)
class PageLimits:
    """Measured on trafilatura's 990 eval pages and the 10 vi-pages-dev pages: at most 10,126
    elements (median 721) and a nesting depth of at most 43 (median 17). The limits are about
    5x those, so no real page measured comes near them."""

    max_elements: int = 50_000
    max_depth: int = 200
    max_paragraphs: int = 2_000  # what the lean extractor keeps of a page over the limits

    def too_many_elements(self, html: bytes | str) -> bool:
        """Whether the page has more than max_elements start tags (a C-speed scan of the bytes)."""
        data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
        if data.count(b"<") <= self.max_elements:  # cheaper still: no more '<' than the limit
            return False
        return len(_TAG_START.findall(data)) > self.max_elements


class TooSlow(BaseException):
    """The document used up its CPU budget. A BaseException, as KeyboardInterrupt is: the
    extractors' own `except Exception` fallbacks must not swallow it and carry on."""


def document_seconds() -> float | None:
    """The budget: $TINBAI_DOCUMENT_SECONDS (0 turns it off), else DEFAULT_DOCUMENT_SECONDS."""
    value = os.environ.get(DOCUMENT_SECONDS_SETTING)
    try:
        seconds = float(value) if value else DEFAULT_DOCUMENT_SECONDS
    except ValueError:
        seconds = DEFAULT_DOCUMENT_SECONDS
    return seconds if seconds > 0 else None


def _out_of_time(signum, frame):
    raise TooSlow()


@contextmanager
def cpu_budget(seconds: float | None):
    """Raise TooSlow in the block once it has used `seconds` of CPU (main thread only; elsewhere no bound)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGPROF, _out_of_time)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
