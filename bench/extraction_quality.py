"""Extraction quality of tinbai's HTML path against bare trafilatura, on trafilatura's eval set.

Both sides run over the same pages in the same run and are scored with the eval set's
"snippet" method (corpora/trafilatura-eval/README.md): whitespace squashed, then a
case-sensitive substring test of each `with` snippet (tp / fn) and `without` snippet
(fp / tn) against the output, summed over the corpus.

- tinbai: what ends in `articles.text`. The pages go through `TransformPool`, the flow's
  own pool (same batches of `FLOW_BATCH_SIZE`, same chunks per worker, so the cleaner's
  cross-document template signal sees what it would see in `tinbai ingest`), with no URL,
  as a folder of `.html` files would. A rejected page is an empty output.
- bare: `trafilatura.extract(page_bytes)` with default settings, on a process pool of the
  same size.

Usage: .venv/bin/python bench/extraction_quality.py [--limit N] [--workers N] [--shared DIR]
"""
from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import re
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import trafilatura

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from flows.parallel import TransformPool, default_workers  # noqa: E402
from transforms.models import RawDocument  # noqa: E402

SHARED = Path(os.environ.get("TINBAI_SHARED", PROJECT.parent / "shared"))
EVAL_DIR = ("corpora", "trafilatura-eval")
_WHITESPACE = re.compile(r"\s+")
# flows.ingest.DEFAULT_BATCH_SIZE, the flow's documents per batch: not imported, because
# that module pulls in Prefect and the warehouse, which this benchmark does not measure.
FLOW_BATCH_SIZE = 500


@dataclass(frozen=True)
class EvalPage:
    file: str
    html: bytes
    with_: tuple[str, ...]
    without: tuple[str, ...]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, page: EvalPage, text: str | None) -> None:
        found_with = sum(text is not None and snippet in text for snippet in page.with_)
        found_without = sum(text is not None and snippet in text for snippet in page.without)
        self.tp += found_with
        self.fn += len(page.with_) - found_with
        self.fp += found_without
        self.tn += len(page.without) - found_without

    def metrics(self) -> dict[str, float]:
        def ratio(part: int, whole: int) -> float:
            return part / whole if whole else 0.0

        return {
            "precision": ratio(self.tp, self.tp + self.fp),
            "recall": ratio(self.tp, self.tp + self.fn),
            "f1": ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn),
            "accuracy": ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn),
        }


def squash(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def load_pages(root: Path, limit: int | None) -> list[EvalPage]:
    pages = []
    with open(root / "eval.jsonl", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            html = gzip.decompress((root / "pages" / f"{item['file']}.gz").read_bytes())
            with_ = tuple(squash(snippet) for snippet in item["with"])
            without = tuple(squash(snippet) for snippet in item["without"])
            pages.append(EvalPage(item["file"], html, with_, without))
            if limit and len(pages) >= limit:
                break
    return pages


def score(pages: list[EvalPage], texts: dict[str, str | None]) -> dict[str, float]:
    counts = Counts()
    for page in pages:
        text = texts.get(page.file)
        counts.add(page, squash(text) if isinstance(text, str) else None)
    return counts.metrics()


def tinbai_texts(pages: list[EvalPage], workers: int) -> tuple[dict[str, str | None], Counter]:
    """articles.text per page, transformed as `tinbai ingest` of a folder of these pages
    would; and how many pages each extractor produced or were rejected, and why."""
    received = datetime.now(timezone.utc)
    # The flow reads a folder in sorted path order; the source is the file's path.
    documents = sorted(
        (RawDocument(f"{page.file}.html", page.html, received) for page in pages),
        key=lambda document: document.source,
    )
    pool = TransformPool(workers)
    texts: dict[str, str | None] = {}
    outcomes: Counter = Counter()
    try:
        for start in range(0, len(documents), FLOW_BATCH_SIZE):
            for result in pool.transform(documents[start:start + FLOW_BATCH_SIZE]):
                file = result.document.source.removesuffix(".html")
                texts[file] = result.article.text if result.article else None
                outcomes[result.article.extractor if result.article else f"rejected: {result.reject.reason}"] += 1
    finally:
        pool.close()
    return texts, outcomes


def _bare_extract(html: bytes) -> str | None:
    try:
        return trafilatura.extract(html)
    except Exception:  # the scoring method counts a crash as empty output
        return None


def bare_texts(pages: list[EvalPage], workers: int) -> tuple[dict[str, str | None], Counter]:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["trafilatura"])
    with ProcessPoolExecutor(workers, mp_context=context) as executor:
        outputs = list(executor.map(_bare_extract, [page.html for page in pages], chunksize=8))
    texts = {page.file: text for page, text in zip(pages, outputs)}
    return texts, Counter("text" if text else "no text" for text in outputs)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N pages of eval.jsonl (for tuning)")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared/ folder holding the corpora")
    args = parser.parse_args(argv)
    root = args.shared.joinpath(*EVAL_DIR)
    if not (root / "eval.jsonl").exists():
        sys.exit(f"{root}/eval.jsonl not found: the trafilatura eval corpus is needed")
    pages = load_pages(root, args.limit)
    snippets = sum(len(page.with_) + len(page.without) for page in pages)
    print(f"{len(pages)} pages, {snippets} snippets, {args.workers} worker processes per side")

    rows = {}
    for name, extractor in (("bare trafilatura.extract", bare_texts), ("tinbai HTML path", tinbai_texts)):
        # The machine may be shared: the load before a side tells how far to trust its time.
        load = os.getloadavg()[0]
        (texts, outcomes), seconds = timed(extractor, pages, args.workers)
        empty = sum(1 for page in pages if not texts.get(page.file))
        rows[name] = {**score(pages, texts), "seconds": seconds, "empty": empty}
        print(f"{name}: {dict(outcomes.most_common())} (load average before: {load:.2f})")

    print(f"{'':26}{'precision':>10}{'recall':>10}{'F1':>10}{'accuracy':>10}{'time s':>9}{'empty':>7}")
    for name, row in rows.items():
        print(
            f"{name:26}{row['precision']:10.4f}{row['recall']:10.4f}{row['f1']:10.4f}"
            f"{row['accuracy']:10.4f}{row['seconds']:9.1f}{row['empty']:7d}"
        )
    bare, tinbai = rows.values()
    print(
        f"{'tinbai - bare':26}{tinbai['precision'] - bare['precision']:+10.4f}{tinbai['recall'] - bare['recall']:+10.4f}"
        f"{tinbai['f1'] - bare['f1']:+10.4f}{tinbai['accuracy'] - bare['accuracy']:+10.4f}"
        f"{tinbai['seconds'] - bare['seconds']:+9.1f}"
    )


if __name__ == "__main__":
    main()
