"""Parse quality on real Vietnamese article pages: tinbai's HTML path against bare trafilatura.

Reads folders of `<name>.html` pages with `<name>.expected.json` parses (the format of
corpora/vi-pages-dev, see its README) and scores, side by side in one run:
- titles exact, authors exact (both NFC, whitespace collapsed; an expected null author
  must come out null);
- time to the minute, over the pages whose expected time has one;
- paragraph recall: each expected paragraph's first 120 characters found in the text;
- leaked boilerplate: `not_in_text` strings found in the text.

tinbai is `transforms.pipeline.transform_batch` over the folder's pages as one batch, each
page with its expected URL as its source (as the web path gives it). Bare trafilatura is
`trafilatura.bare_extraction(page, url=url, with_metadata=True)`.

Usage: .venv/bin/python bench/vi_pages.py [DIR ...]   (default: ../shared/corpora/vi-pages-dev)
       add --pages to print every page's misses
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import trafilatura

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from transforms.dates import VIETNAM, parse_timestamp  # noqa: E402
from transforms.models import HttpFacts, RawDocument  # noqa: E402
from transforms.pipeline import transform_batch  # noqa: E402

SHARED = Path(os.environ.get("TINBAI_SHARED", PROJECT.parent / "shared"))
DEV_SET = SHARED / "corpora" / "vi-pages-dev"
PREFIX_CHARS = 120  # of each expected paragraph, looked for in the text
_SPACES = re.compile(r"\s+")


def squash(text: str | None) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


@dataclass(frozen=True)
class Parse:
    title: str | None
    author: str | None
    published: datetime | None
    text: str


@dataclass
class Score:
    pages: int = 0
    titles: int = 0
    authors: int = 0
    timed_pages: int = 0
    times: int = 0
    paragraphs: int = 0
    found: int = 0
    leaks_checked: int = 0
    leaked: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, name: str, expected: dict, got: Parse) -> None:
        self.pages += 1
        if squash(got.title) == squash(expected["title"]):
            self.titles += 1
        else:
            self.misses.append(f"{name}: title {got.title!r}")
        if squash(got.author) == squash(expected.get("author")):
            self.authors += 1
        else:
            self.misses.append(f"{name}: author {got.author!r} (expected {expected.get('author')!r})")
        wanted = parse_timestamp(expected.get("published_at"))
        if wanted and wanted[1] != "day":
            self.timed_pages += 1
            if got.published and _minute(got.published) == _minute(wanted[0]):
                self.times += 1
            else:
                self.misses.append(f"{name}: time {got.published} (expected {wanted[0]})")
        text = squash(got.text)
        for paragraph in expected["paragraphs"]:
            self.paragraphs += 1
            if squash(paragraph)[:PREFIX_CHARS] in text:
                self.found += 1
            else:
                self.misses.append(f"{name}: missing {squash(paragraph)[:70]!r}")
        for leftover in expected.get("not_in_text", []):
            self.leaks_checked += 1
            if squash(leftover) and squash(leftover) in text:
                self.leaked += 1
                self.misses.append(f"{name}: leaked {leftover[:70]!r}")

    def row(self) -> list[str]:
        return [f"{self.titles}/{self.pages}", f"{self.authors}/{self.pages}", f"{self.times}/{self.timed_pages}",
                f"{self.found / max(1, self.paragraphs):.3f}",
                f"{self.leaked}/{self.leaks_checked} ({100 * self.leaked / max(1, self.leaks_checked):.1f}%)"]


def _minute(moment: datetime) -> tuple:
    local = moment.astimezone(VIETNAM)
    return local.year, local.month, local.day, local.hour, local.minute


def read_folder(folder: Path) -> list[tuple[str, bytes, dict]]:
    pages = []
    for expected_path in sorted(folder.glob("*.expected.json")):
        name = expected_path.name.removesuffix(".expected.json")
        html = folder / f"{name}.html"
        if html.is_file():
            pages.append((name, html.read_bytes(), json.loads(expected_path.read_text(encoding="utf-8"))))
    return pages


def tinbai_parses(pages: list[tuple[str, bytes, dict]]) -> list[Parse]:
    received = datetime.now(timezone.utc)
    documents = [RawDocument(expected["url"], html, received,
                             http=HttpFacts(expected["url"], 200, "text/html", None, None, None))
                 for _, html, expected in pages]
    parses = []
    for result in transform_batch(documents):
        article = result.article
        parses.append(Parse(article.title, article.author, article.published_at, article.text) if article
                      else Parse(None, None, None, ""))
    return parses


def bare_parse(html: bytes, url: str) -> Parse:
    document = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if document is None:
        return Parse(None, None, None, "")
    published = parse_timestamp(document.date)
    return Parse(document.title, document.author, published[0] if published else None, document.text or "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[DEV_SET])
    parser.add_argument("--pages", action="store_true", help="print each page's misses")
    args = parser.parse_args()
    pages = [page for folder in args.folders for page in read_folder(folder)]
    if not pages:
        sys.exit(f"no pages with expected parses in {', '.join(map(str, args.folders))}")
    tinbai, bare = Score(), Score()
    for (name, html, expected), parsed in zip(pages, tinbai_parses(pages)):
        tinbai.add(name, expected, parsed)
        bare.add(name, expected, bare_parse(html, expected["url"]))
    header = ["", "titles", "authors", "time to the minute", "paragraph recall", "leaked boilerplate"]
    print(f"{len(pages)} pages from {', '.join(map(str, args.folders))}")
    print(" | ".join(header))
    print(" | ".join(["tinbai", *tinbai.row()]))
    print(" | ".join(["bare trafilatura", *bare.row()]))
    if args.pages:
        print("\ntinbai's misses:")
        print("\n".join(f"  {miss}" for miss in tinbai.misses))


if __name__ == "__main__":
    main()
