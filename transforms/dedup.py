"""Duplicate clusters: candidates from exact hashes and LSH band keys, verified with the real
similarity, joined transitively, and given one canonical member by a deterministic rule.

Pure: the loader hands in the members (new documents and the warehouse members they could
touch) and writes back whatever roles change.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

import numpy as np

from transforms.fingerprint import facts, shingles
from transforms.normalise import name_key
from transforms.urls import site_of

# Two texts are near-duplicates when the Jaccard similarity of their 4-syllable shingle
# sets reaches NEAR_JACCARD. Measured on the baomoi corpus (bench/dedup.py): the pairs
# the corpus README lists at 5-word Jaccard >= 0.8 all score >= 0.8 here, different
# write-ups of one story 0.3-0.6; 0.7 sits in the gap. Containment (a short text inside a
# long one) is deliberately not used: it merges news digests with the items they quote
# (corpus pairs at containment 0.99 and Jaccard 0.5 that are different stories).
NEAR_JACCARD = 0.7
# Templated pages (weather bulletins, TV schedules, price lists) share their wording and
# differ in their facts: the numbers and dates. A pair whose texts both carry at least
# MIN_FACTS numbers and share less than FACT_AGREEMENT of the smaller set is not a
# duplicate, however alike the words. Real reposts in the corpus agree on >= 0.6 of their
# numbers once formats are unified ("24-5" = "24/5" = "24.5"), templated series on < 0.5.
MIN_FACTS = 5
FACT_AGREEMENT = 0.5

_SOURCE_NAME = re.compile(r"^(?:báo|tạp chí|trang|đài|theo|nguồn)\s+|\s*(?:điện tử|online|\.vn|\.com|\.net)$")


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of distinct shingle hashes."""
    if not len(a) or not len(b):
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (len(a) + len(b) - common)


def facts_disagree(a: frozenset[str], b: frozenset[str]) -> bool:
    if min(len(a), len(b)) < MIN_FACTS:
        return False
    return len(a & b) / min(len(a), len(b)) < FACT_AGREEMENT


@dataclass(frozen=True)
class Verdict:
    similarity: float
    method: str  # exact | near


def compare(a: "Member", b: "Member") -> Verdict | None:
    """Whether two members' texts are duplicates, and how alike they are."""
    if a.content_hash == b.content_hash:
        return Verdict(1.0, "exact")
    similarity = jaccard(a.shingles(), b.shingles())
    if similarity < NEAR_JACCARD or facts_disagree(a.facts(), b.facts()):
        return None
    return Verdict(round(similarity, 4), "near")


@dataclass
class Member:
    """One input in a cluster: a new document of this batch, or an article/duplicate already stored."""

    member_id: str
    source: str
    content_hash: str
    band_keys: tuple[int, ...]
    first_seen_at: datetime
    published_at: datetime | None = None
    site: str | None = None
    url: str | None = None
    original_source: str | None = None
    is_new: bool = False
    relink: bool = False  # a stored member whose links must be searched again (its canonical was replaced)
    canonical_id: str | None = None  # stored members: the canonical they point to (itself for an article)
    text_of: Callable[[], str] | None = field(default=None, repr=False)  # fetched only if a comparison needs it
    shingle_hashes: np.ndarray | None = field(default=None, repr=False)  # given for new members, else from text_of
    _facts: frozenset[str] | None = field(default=None, repr=False)

    def shingles(self) -> np.ndarray:
        if self.shingle_hashes is None:
            self.shingle_hashes = shingles(self.text_of())
        return self.shingle_hashes

    def facts(self) -> frozenset[str]:
        if self._facts is None:
            self._facts = facts(self.text_of())
        return self._facts


@dataclass
class Cluster:
    canonical: Member
    members: list[Member]  # canonical first, then by source
    verdicts: dict[str, Verdict]  # member_id -> its verdict against the canonical (not for the canonical)


def build_clusters(members: list[Member], linked: Iterable[tuple[str, str]] = ()) -> list[Cluster]:
    """Connected components over exact and verified near matches of new members, plus given links.

    `linked` carries the stored structure (duplicate -> canonical) so existing clusters stay
    whole; only pairs involving a new member are searched, which keeps a batch's cost
    proportional to the batch, not to the warehouse.
    """
    by_id = {member.member_id: member for member in members}
    parent = {member_id: member_id for member_id in by_id}

    def root(member_id: str) -> str:
        while parent[member_id] != member_id:
            parent[member_id] = parent[parent[member_id]]
            member_id = parent[member_id]
        return member_id

    def union(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for a, b in linked:
        if a in by_id and b in by_id:
            union(a, b)
    by_hash: dict[str, list[str]] = defaultdict(list)
    by_band: dict[int, list[str]] = defaultdict(list)  # band keys hash the band number too: no collisions across bands
    for member in sorted(members, key=lambda m: m.member_id):
        by_hash[member.content_hash].append(member.member_id)
        for key in member.band_keys:
            by_band[key].append(member.member_id)
    for member in members:
        if not (member.is_new or member.relink):
            continue
        for other in by_hash[member.content_hash]:
            union(member.member_id, other)
        candidates = set().union(*(by_band.get(key, ()) for key in member.band_keys))
        for other in sorted(candidates - {member.member_id}):
            if root(other) == root(member.member_id):
                continue
            if compare(member, by_id[other]) is not None:
                union(member.member_id, other)
    groups: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        groups[root(member.member_id)].append(member)
    return [_cluster(group) for _, group in sorted(groups.items())]


def _cluster(group: list[Member]) -> Cluster:
    if len(group) == 1:  # most articles have no duplicate
        return Cluster(canonical=group[0], members=group, verdicts={})
    canonical = choose_canonical(group)
    rest = sorted((m for m in group if m is not canonical), key=lambda m: m.source)
    verdicts = {}
    for member in rest:
        if member.content_hash == canonical.content_hash:
            verdicts[member.member_id] = Verdict(1.0, "exact")
        else:
            # may be below NEAR_JACCARD when the member joined through another member
            similarity = jaccard(member.shingles(), canonical.shingles())
            verdicts[member.member_id] = Verdict(round(similarity, 4), "near")
    return Cluster(canonical=canonical, members=[canonical, *rest], verdicts=verdicts)


_FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)


def choose_canonical(group: list[Member]) -> Member:
    """The original publisher, then the earliest published, then the earliest seen, then the source."""
    originals = _original_publishers(group)
    return min(
        group,
        key=lambda m: (
            m.member_id not in originals,
            m.published_at or _FAR_FUTURE,
            m.first_seen_at,
            m.source,
        ),
    )


def _original_publishers(group: list[Member]) -> set[str]:
    """Members whose site or URL host is named as the original source by a member of the cluster."""
    named = {_name_key(m.original_source) for m in group if m.original_source}
    named.discard("")
    if not named:
        return set()
    originals = set()
    for member in group:
        own = {_name_key(member.site), _name_key(site_of(member.url))} - {""}
        if own & named:
            originals.add(member.member_id)
    return originals


def _name_key(name: str | None) -> str:
    """'Báo Nhân Dân điện tử', 'nhandan.vn' and 'Nhân dân' all key to 'nhandan'-like strings."""
    if not name:
        return ""
    return name_key(_SOURCE_NAME.sub("", name.strip().casefold()))
