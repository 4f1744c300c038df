"""Enrichment extractors on the baomoi corpus: counts, time per article, hand-labelled precision.

    .venv/bin/python bench/enrich_precision.py            # counts, top codes/people, ms/article, precision
    .venv/bin/python bench/enrich_precision.py --draw 100 --seed 7 > sample.jsonl

Every article (title + text as the corpus has them) goes through `transforms.enrich.enrich`.
Precision is measured on tests/fixtures/enrich_labelled.jsonl: samples of extractions drawn
at random (fixed seeds) and judged by hand in context. Two figures: each sample as it was
labelled when drawn (the honest one for the rules of that day), and the current rules on
the labelled items: an extraction is matched to a labelled one by article id, kind and
mention; when the rules now extract something else from that mention (another code, name
or position) the label no longer applies ("changed"), when they extract nothing there it
is "gone" (a fixed false positive, or a mention merged into an earlier one).
`--draw N` prints N fresh refs and N fresh people with their context, for labelling: set
`label`, `note` and `sample` by hand, drop `context`, and append them to the fixture.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from transforms.enrich import Enrichment, enrich, load_enrich_rules  # noqa: E402
from transforms.people import group_positions  # noqa: E402

SHARED = Path(os.environ.get("TINBAI_SHARED", PROJECT.parent / "shared"))
CORPUS = SHARED / "corpora" / "baomoi" / "baomoi_21448.jsonl.gz"
LABELLED = PROJECT / "tests" / "fixtures" / "enrich_labelled.jsonl"
CONTEXT_CHARS = 160


def read_corpus() -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def extract_all(records: list[dict]) -> tuple[dict[str, Enrichment], list[float]]:
    rules = load_enrich_rules()  # compiled once, not inside the timing
    results, seconds = {}, []
    for record in records:
        started = time.perf_counter()
        results[record["id"]] = enrich(record["title"], record["text"], rules)
        seconds.append(time.perf_counter() - started)
    return results, seconds


def extraction_key(kind: str, item) -> tuple:
    return (item.code,) if kind == "ref" else (item.name, item.position)


def labelled_key(row: dict) -> tuple:
    return (row["code"],) if row["kind"] == "ref" else (row["name"], row["position"])


def items_of(kind: str, enrichment: Enrichment):
    return enrichment.document_refs if kind == "ref" else enrichment.people


def print_counts(results: dict[str, Enrichment], seconds: list[float]) -> None:
    refs = [ref for result in results.values() for ref in result.document_refs]
    people = [person for result in results.values() for person in result.people]
    codes = Counter(ref.code for ref in refs)
    names = Counter((person.name, person.position) for person in people if person.position)
    print(f"articles: {len(results)}")
    print(f"time: {statistics.fmean(seconds) * 1000:.3f} ms/article mean, "
          f"{statistics.median(seconds) * 1000:.3f} median, {max(seconds) * 1000:.1f} max")
    print(f"document refs: {len(refs)} in {sum(1 for r in results.values() if r.document_refs)} articles, "
          f"{len(codes)} distinct codes ({sum(1 for ref in refs if ref.issuer)} with a symbol)")
    print("top 10 codes:")
    for code, count in codes.most_common(10):
        print(f"  {count:5}  {code}")
    print(f"people: {len(people)} mentions in {sum(1 for r in results.values() if r.people)} articles, "
          f"{len({person.name for person in people})} distinct names, "
          f"{sum(1 for person in people if person.position)} with a position")
    positions: dict[str, Counter] = {}
    for person in people:
        positions.setdefault(person.name, Counter())[person.position] += 1
    heads = load_enrich_rules().position_before
    apart = {name: len(set(group_positions(dict(counts), heads).values())) for name, counts in positions.items()}
    print(f"people told apart (transforms/people.py): {sum(1 for n in apart.values() if n > 1)} names held by more"
          f" than one person, {sum(apart.values())} people under {len(apart)} names")
    print("top 10 people with a position (name, position):")
    for (name, position), count in names.most_common(10):
        print(f"  {count:5}  {name} — {position}")


def print_precision(results: dict[str, Enrichment]) -> None:
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    print("precision of each sample as labelled when drawn (before the fixes it prompted):")
    for sample in sorted({row["sample"] for row in rows}):
        figures = []
        for kind, title in (("ref", "refs"), ("person", "people")):
            labels = [row["label"] for row in rows if row["sample"] == sample and row["kind"] == kind]
            if labels:  # a sample may label one kind only
                figures.append(f"{title} {sum(labels)}/{len(labels)} = {sum(labels) / len(labels):.3f}")
        print(f"  {sample}: " + ", ".join(figures))
    print("precision of the current rules on the labelled items they still extract the same way:")
    for kind, title in (("ref", "document refs"), ("person", "people")):
        judged = Counter()
        for row in (row for row in rows if row["kind"] == kind):
            found = {
                item.mention: extraction_key(kind, item)
                for item in items_of(kind, results.get(row["article"], Enrichment((), ())))
            }
            if row["mention"] not in found:
                judged["gone"] += 1
            elif found[row["mention"]] != labelled_key(row):
                judged["changed"] += 1
            else:
                judged[row["label"]] += 1
        n = judged[True] + judged[False]
        print(f"  {title}: {judged[True] / n:.3f} ({judged[True]}/{n}; "
              f"{judged['changed']} changed and {judged['gone']} gone since labelling)")


def draw(results: dict[str, Enrichment], records: list[dict], count: int, seed: int) -> None:
    texts = {record["id"]: f"{record['title']}\n{record['text']}" for record in records}
    rng = random.Random(seed)
    for kind in ("ref", "person"):
        pool = [(article, item) for article, result in results.items() for item in items_of(kind, result)]
        for article, item in rng.sample(pool, count):
            text = texts[article]
            end = item.start + len(item.mention)
            row = {"kind": kind, "article": article, "mention": item.mention}
            row.update({"code": item.code} if kind == "ref" else {"name": item.name, "position": item.position})
            row["context"] = text[max(0, item.start - CONTEXT_CHARS):end + CONTEXT_CHARS]
            row.update(label=None, note="", sample=f"seed {seed}")
            print(json.dumps(row, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draw", type=int, metavar="N", help="print N fresh refs and N people to label")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is not available (set TINBAI_SHARED)")
    records = read_corpus()
    results, seconds = extract_all(records)
    if args.draw:
        draw(results, records, args.draw, args.seed)
        return
    print_counts(results, seconds)
    print_precision(results)


if __name__ == "__main__":
    main()
