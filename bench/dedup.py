"""Dedup stage alone on the baomoi corpus: tinbai vs datasketch MinHash.bulk + MinHashLSH.

    .venv/bin/python bench/dedup.py [--limit N] [--sweep]

Both sides get the same input (the corpus texts as tinbai's cleaner leaves them, prepared
before any timing), the same parameters (3-syllable shingles, 128 permutations, 32 bands
of 4 rows) and the same verification (shingle Jaccard >= NEAR_JACCARD); the baseline
shingles in pure Python as datasketch's documentation does. Prints both times, the ratio,
the pairs each finds, their agreement, recall on the corpus README's near-duplicate pairs
with 5-word Jaccard >= 0.8, the cluster count and 10 random merged pairs to eyeball.
`--sweep` also prints, for other shingle sizes and band layouts, what they would find.
Needs `make bench-deps` (datasketch).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import multiprocessing
import random
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transforms.dedup import NEAR_JACCARD, Member, build_clusters, jaccard  # noqa: E402
from transforms.fingerprint import BANDS, NUM_PERM, ROWS, SHINGLE_SIZE, fingerprints, shingles  # noqa: E402
from transforms.models import RawDocument  # noqa: E402
from transforms.pipeline import transform_batch  # noqa: E402

BAOMOI = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "baomoi"
T0 = datetime(2013, 6, 1, tzinfo=timezone.utc)


def cleaned_texts(limit: int | None) -> list[tuple[str, str, str]]:
    """(id, title, text) of every article the text path keeps, transformed on all cores."""
    documents = []
    with gzip.open(BAOMOI / "baomoi_21448.jsonl.gz", "rb") as lines:
        for line in itertools.islice(lines, limit):
            record = json.loads(line)
            documents.append(RawDocument(record["id"], line, T0, record=record))
    chunks = [documents[i:i + 1000] for i in range(0, len(documents), 1000)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        results = [r for chunk in pool.map(transform_batch, chunks) for r in chunk]
    return [(r.document.source, r.article.title, r.article.text) for r in results if r.article]


def tinbai_pairs(texts, workers: int) -> tuple[set[frozenset[str]], list, float]:
    """Fingerprints (on `workers` processes, as the ingest flow's transform pool does), then clustering."""
    started = time.perf_counter()
    bodies = [text for _, _, text in texts]
    if workers > 1:
        size = -(-len(bodies) // workers)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            prints = [p for chunk in pool.map(fingerprints, [bodies[i:i + size] for i in range(0, len(bodies), size)]) for p in chunk]
    else:
        prints = fingerprints(bodies)
    members = []
    for (doc_id, _, text), print_ in zip(texts, prints):
        members.append(Member(
            member_id=doc_id, source=doc_id, content_hash=print_.content_hash, band_keys=print_.band_keys,
            first_seen_at=T0, is_new=True, text_of=(lambda text=text: text), shingle_hashes=print_.shingles,
        ))
    clusters = build_clusters(members)
    elapsed = time.perf_counter() - started
    pairs = {frozenset((c.canonical.member_id, m.member_id)) for c in clusters for m in c.members[1:]}
    return pairs, clusters, elapsed


_PY_WORD = re.compile(r"\w+")


def baseline_pairs(texts) -> tuple[set[frozenset[str]], float]:
    from datasketch import MinHash, MinHashLSH

    started = time.perf_counter()
    shingle_sets = []
    for _, _, text in texts:  # pure-Python shingling, as in datasketch's examples
        words = _PY_WORD.findall(text.lower())
        shingle_sets.append({" ".join(words[i:i + SHINGLE_SIZE]).encode("utf-8") for i in range(max(1, len(words) - SHINGLE_SIZE + 1))})
    minhashes = MinHash.bulk(shingle_sets, num_perm=NUM_PERM)
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    ids = [doc_id for doc_id, _, _ in texts]
    for doc_id, minhash in zip(ids, minhashes):
        lsh.insert(doc_id, minhash)
    index = {doc_id: position for position, doc_id in enumerate(ids)}
    pairs = set()
    for doc_id, minhash in zip(ids, minhashes):
        for other in lsh.query(minhash):
            if other <= doc_id:
                continue
            a, b = shingle_sets[index[doc_id]], shingle_sets[index[other]]
            if len(a & b) / len(a | b) >= NEAR_JACCARD:
                pairs.add(frozenset((doc_id, other)))
    return pairs, time.perf_counter() - started


def closure(pairs: set[frozenset[str]]) -> set[frozenset[str]]:
    """All pairs inside the connected components of a pair set (what 'same cluster' means)."""
    parent: dict[str, str] = {}

    def root(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in (tuple(p) for p in pairs):
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    return {frozenset(p) for g in groups.values() for p in itertools.combinations(sorted(g), 2)}


def reference_pairs(min_jaccard: float) -> list[tuple[str, str, float]]:
    with open(BAOMOI / "near_dup_pairs.tsv", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(r["id_a"], r["id_b"], float(r["jaccard_5word_shingles"])) for r in rows if float(r["jaccard_5word_shingles"]) >= min_jaccard]


def recall(found: set[frozenset[str]], reference, present: set[str]) -> tuple[int, int]:
    usable = [(a, b) for a, b, _ in reference if a in present and b in present]
    return sum(frozenset((a, b)) in found for a, b in usable), len(usable)


def sweep(texts) -> None:
    """Pairs at J >= NEAR_JACCARD for other shingle sizes, and LSH candidate recall for other band layouts."""
    reference = reference_pairs(0.3)
    by_id = {doc_id: text for doc_id, _, text in texts}
    print("\nshingle size: pairs of the README list (J5 >= 0.3) at/above the threshold, by their J5 band")
    for size in (2, 3, 4, 5):
        rows = []
        for a, b, j5 in reference:
            if a in by_id and b in by_id:
                rows.append((j5, jaccard(shingles(by_id[a], size), shingles(by_id[b], size))))
        merged_high = sum(j >= NEAR_JACCARD for j5, j in rows if j5 >= 0.8)
        merged_story = sum(j >= NEAR_JACCARD for j5, j in rows if 0.3 <= j5 < 0.6)
        print(f"  k={size}: J5>=0.8 merged {merged_high}/{sum(j5 >= 0.8 for j5, _ in rows)}   "
              f"same-story band 0.3<=J5<0.6 merged {merged_story}/{sum(0.3 <= j5 < 0.6 for j5, _ in rows)}")
    print("\nband layout (128 permutations): probability a pair at Jaccard J becomes a candidate")
    for bands, rows_ in ((16, 8), (32, 4), (42, 3), (64, 2)):
        probabilities = "  ".join(f"J={j}: {1 - (1 - j ** rows_) ** bands:.4f}" for j in (0.4, 0.5, 0.7, 0.8))
        print(f"  {bands}x{rows_}: {probabilities}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="first N corpus lines (default: all 21,448)")
    parser.add_argument("--sweep", action="store_true", help="also compare other shingle sizes and band layouts")
    args = parser.parse_args()
    if not BAOMOI.exists():
        sys.exit(f"bench/dedup.py: {BAOMOI} is not available")
    texts = cleaned_texts(args.limit)
    titles = {doc_id: title for doc_id, title, _ in texts}
    print(f"{len(texts)} articles after cleaning; shingles of {SHINGLE_SIZE} syllables, {NUM_PERM} permutations,"
          f" {BANDS} bands x {ROWS} rows, merge at Jaccard >= {NEAR_JACCARD}")

    ours, clusters, ours_time = tinbai_pairs(texts, workers=1)
    _, _, ours_time_2 = tinbai_pairs(texts, workers=2)
    theirs, their_time = baseline_pairs(texts)
    ours_closed, theirs_closed = closure(ours), closure(theirs)
    print(f"\ntinbai, 1 process   : {ours_time:7.2f} s  {len(ours_closed):6d} pairs in clusters")
    print(f"tinbai, 2 processes : {ours_time_2:7.2f} s  (fingerprints on both cores, as the ingest flow runs them)")
    print(f"baseline, 1 process : {their_time:7.2f} s  {len(theirs_closed):6d} pairs in clusters"
          " (datasketch MinHash.bulk + MinHashLSH, pure-Python shingling)")
    print(f"speed-up: {their_time / ours_time:.1f}x on one process, {their_time / ours_time_2:.1f}x on both cores")
    both = ours_closed & theirs_closed
    print(f"agreement: {len(both)} pairs found by both, {len(ours_closed - theirs_closed)} only by tinbai,"
          f" {len(theirs_closed - ours_closed)} only by the baseline")
    present = set(titles)
    reference = reference_pairs(0.8)
    for name, found in (("tinbai", ours_closed), ("baseline", theirs_closed)):
        hit, total = recall(found, reference, present)
        print(f"recall on README pairs with J5 >= 0.8 ({name}): {hit}/{total} = {hit / max(total, 1):.3f}")

    multi = [c for c in clusters if len(c.members) > 1]
    print(f"\nclusters with duplicates: {len(multi)} (largest {max((len(c.members) for c in multi), default=0)} members);"
          f" unique articles {len(clusters)}")
    near = [(c.canonical, m, c.verdicts[m.member_id]) for c in multi for m in c.members[1:] if c.verdicts[m.member_id].method == "near"]
    print(f"near-duplicate merges: {len(near)}; 10 at random:")
    for canonical, member, verdict in random.Random(2026).sample(near, min(10, len(near))):
        print(f"  {verdict.similarity:.3f}  {titles[canonical.member_id][:60]!r}  <-  {titles[member.member_id][:60]!r}")
    if args.sweep:
        sweep(texts)


if __name__ == "__main__":
    main()
