"""Dedup keys of an article's text: an exact hash, MinHash LSH band keys and the shingle set."""
from __future__ import annotations

import hashlib
import struct

from rensa import RMinHash

from transforms.dedup import facts
from transforms.models import Fingerprint, sha256_hex
from transforms.normalise import exact_key, matching_tokens

# Shingles of 3 syllables: Vietnamese words are mostly 1-2 syllables, so 3-syllable
# shingles are about word bigrams - specific enough that unrelated articles on one
# topic (seeds 000 and 003) share few of them, loose enough that an edited word only
# changes three shingles.
SHINGLE_SIZE = 3
# 128 permutations in 32 bands of 4 rows: a pair becomes a candidate with probability
# 1-(1-J^4)^32, i.e. 0.87 at J=0.5 and 0.9996 at J=0.7, so pairs at the merge threshold
# are practically never missed; candidates are then verified with the exact Jaccard.
NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SEED = 20261122


def shingles(text: str, size: int = SHINGLE_SIZE) -> frozenset[str]:
    tokens = matching_tokens(text)
    if len(tokens) <= size:
        return frozenset([" ".join(tokens)]) if tokens else frozenset()
    return frozenset(map(" ".join, zip(*(tokens[offset:] for offset in range(size)))))


def band_keys(signature: list[int]) -> tuple[int, ...]:
    """One signed 64-bit key per band (it fits DuckDB's BIGINT), stable across processes."""
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS:(band + 1) * ROWS]
        digest = hashlib.blake2b(struct.pack(f"<H{ROWS}I", band, *rows), digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return tuple(keys)


def content_hash(text: str) -> str:
    return sha256_hex(exact_key(text).encode("utf-8"))


def fingerprint(text: str) -> Fingerprint:
    shingle_set = shingles(text)
    minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(list(shingle_set))  # order does not matter: MinHash takes minima
    return Fingerprint(
        content_hash=content_hash(text), band_keys=band_keys(minhash.digest()), shingles=shingle_set, facts=facts(text)
    )
