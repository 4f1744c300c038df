"""Near-duplicate decisions: candidates from LSH band keys, verified with the real similarity."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from transforms.models import Fingerprint

# A verified pair is a duplicate when its shingle Jaccard reaches NEAR_JACCARD (copies
# with a new title, another wrapper, a dropped sentence or a few edited words score
# 0.8-1.0; different write-ups of one story score 0.3-0.6), or when the smaller text is
# almost wholly contained in the larger one (a trimmed repost) and is long enough for
# containment to mean something.
NEAR_JACCARD = 0.7
NEAR_CONTAINMENT = 0.9
MIN_SHINGLES_FOR_CONTAINMENT = 50


@dataclass(frozen=True)
class Match:
    article_id: str
    similarity: float
    method: str  # exact | near


def similarity(a: frozenset[str], b: frozenset[str]) -> tuple[float, float]:
    """(Jaccard, containment of the smaller set in the larger)."""
    if not a or not b:
        return 0.0, 0.0
    common = len(a & b)
    return common / len(a | b), common / min(len(a), len(b))


def is_near_duplicate(a: frozenset[str], b: frozenset[str]) -> float | None:
    """The pair's Jaccard when it counts as a near-duplicate, else None."""
    jaccard, containment = similarity(a, b)
    if jaccard >= NEAR_JACCARD:
        return jaccard
    if containment >= NEAR_CONTAINMENT and min(len(a), len(b)) >= MIN_SHINGLES_FOR_CONTAINMENT:
        return jaccard
    return None


@dataclass
class DedupIndex:
    """Articles known so far (from the warehouse and from this batch), searchable by hash and band."""

    by_hash: dict[str, str] = field(default_factory=dict)
    by_band: dict[tuple[int, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    shingles: dict[str, frozenset[str]] = field(default_factory=dict)

    def add(self, article_id: str, print_: Fingerprint) -> None:
        self.by_hash.setdefault(print_.content_hash, article_id)
        for band, key in enumerate(print_.band_keys):
            self.by_band[(band, key)].add(article_id)
        self.shingles[article_id] = print_.shingles

    def find(self, print_: Fingerprint, exclude: str | None = None) -> Match | None:
        """The best matching known article, exact first, then the most similar verified candidate."""
        exact = self.by_hash.get(print_.content_hash)
        if exact is not None and exact != exclude:
            return Match(exact, 1.0, "exact")
        candidates = set()
        for band, key in enumerate(print_.band_keys):
            candidates |= self.by_band.get((band, key), set())
        candidates.discard(exclude)
        best = None
        for candidate in sorted(candidates):
            score = is_near_duplicate(print_.shingles, self.shingles[candidate])
            if score is not None and (best is None or score > best.similarity):
                best = Match(candidate, round(score, 4), "near")
        return best
