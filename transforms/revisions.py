"""Edits and takedowns, decided from plain data: how much a new version of an article changed,
whether an answer means the page was taken down, and when a page is due to be checked again."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from urllib.parse import urlsplit


@dataclass(frozen=True)
class TextChange:
    chars_added: int
    chars_removed: int


def text_change(previous: str, current: str) -> TextChange:
    """Characters added and removed from one version's text to the next.

    Paragraphs are matched first (an inserted or dropped paragraph counts whole), then the
    characters inside paragraphs that were rewritten: linear in practice on articles, where
    a character-level match of whole texts can be quadratic.
    """
    before, after = previous.split("\n"), current.split("\n")
    added = removed = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        old, new = "\n".join(before[i1:i2]), "\n".join(after[j1:j2])
        if tag == "insert":
            added += len(new)
        elif tag == "delete":
            removed += len(old)
        elif tag == "replace":
            kept = sum(block.size for block in SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks())
            added += len(new) - kept
            removed += len(old) - kept
    return TextChange(added, removed)


@dataclass(frozen=True)
class Takedown:
    """A stored page that is gone: the answer a fetch of it got."""

    source: str  # canonical URL
    reason: str
    http_status: int | None
    final_url: str | None
    checked_at: datetime


@dataclass(frozen=True)
class RevisitSettings:
    """When a stored page is checked again, and which answers mean it was taken down.

    Chosen, not measured (no edit history of Vietnamese outlets is at hand): outlets
    correct an article mostly within hours of publication and take one down within days,
    so the checks thin out from an hour to a week; after the last one a page is not
    revisited unless asked (`--all`).
    """

    checkpoints: tuple[timedelta, ...] = (
        timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(days=3), timedelta(days=7),
    )
    # A page first seen long after it was published (a backfill) is history, not news being
    # edited: only pages published within this of their first fetch are revisited.
    recent: timedelta = timedelta(days=7)
    # 451: unavailable for legal reasons, what a court- or ministry-ordered takedown may answer.
    gone_statuses: frozenset[int] = frozenset({404, 410, 451})

    @property
    def horizon(self) -> timedelta:
        return self.checkpoints[-1]


def next_check(first_seen: datetime, last_checked: datetime, settings: RevisitSettings = RevisitSettings()) -> datetime | None:
    """The first checkpoint after the last check, or None when the schedule is over.

    Checkpoints missed (no revisit ran for a while) are covered by one check, not made up.
    """
    for offset in settings.checkpoints:
        if first_seen + offset > last_checked:
            return first_seen + offset
    return None


def is_due(first_seen: datetime, published: datetime | None, last_checked: datetime, now: datetime,
           settings: RevisitSettings = RevisitSettings()) -> bool:
    if published is not None and published < first_seen - settings.recent:
        return False
    due = next_check(first_seen, last_checked, settings)
    return due is not None and due <= now


# A landing page: the site's root or its index document.
_HOME = re.compile(r"^/*(?:(?:index|default|home)(?:\.\w+)?)?/*$", re.IGNORECASE)


def takedown_reason(requested_url: str, status: int | None, final_url: str | None,
                    settings: RevisitSettings = RevisitSettings()) -> str | None:
    """Why this answer means the page is gone, or None when it is not a takedown.

    A status of `gone_statuses`, or a redirect that lands on the site's home page or on a
    section page: a path that is a parent of the article's, or a single word-only segment
    where the article's path carried an id (`/thoi-su` for `/thoi-su/bai-viet-123.html`).
    A redirect from one article path to another (a new slug) is an edit, not a takedown.
    """
    if status in settings.gone_statuses:
        return f"HTTP {status}"
    if not final_url or status is None or status >= 400:
        return None
    requested, final = urlsplit(requested_url), urlsplit(final_url)
    if (requested.path.rstrip("/"), requested.query) == (final.path.rstrip("/"), final.query):
        return None
    if _HOME.match(final.path) and not _HOME.match(requested.path):
        return "redirected to the home page"
    old, new = _segments(requested.path), _segments(final.path)
    if new and (old[:len(new)] == new and len(new) < len(old) or _looks_like_section(new, old)):
        return f"redirected to a section page ({final.path})"
    return None


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _looks_like_section(segments: list[str], article: list[str]) -> bool:
    """One word-only segment, no id, no file extension, where the article's path had an id."""
    return (len(segments) == 1 and not re.search(r"\d|\.", segments[0])
            and any(re.search(r"\d", segment) for segment in article))
