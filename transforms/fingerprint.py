"""Dedup keys of an article's text: an exact hash, MinHash LSH band keys, shingles and facts.

Shingles are 64-bit hashes of runs of folded syllables, computed with numpy: hashing
each syllable once (cached) and combining neighbours arithmetically is what makes this
stage several times faster than building shingle strings in Python (bench/dedup.py).
"""
from __future__ import annotations

import hashlib
import re

import numpy as np
from rensa import RMinHash

from transforms.models import Fingerprint, sha256_hex
from transforms.normalise import exact_key, matching_words, fold_syllable

# Shingles of 4 syllables (Vietnamese words are mostly 1-2 syllables, so about word
# bigrams to trigrams). Measured on baomoi (bench/dedup.py --sweep, all 21,446 cleaned
# articles): sizes 2-5 all merge the 39 README pairs at 5-word Jaccard >= 0.8, while of
# the 68 different write-ups of one story (README pairs at 0.3-0.6) size 2 merges 7,
# size 3 merges 3, sizes 4 and 5 none. 4 is the smallest that keeps stories apart; an
# edited word still only changes four shingles (planted copies keep Jaccard >= 0.95).
SHINGLE_SIZE = 4
# 128 permutations in 32 bands of 4 rows: a pair becomes a candidate with probability
# 1-(1-J^4)^32, i.e. 0.87 at J=0.5 and 0.9998 at J=0.7, so pairs at the merge threshold
# are practically never missed (16x8 would miss 39% at J=0.7; 64x2 makes almost every
# same-topic pair a candidate to verify). Candidates are then verified with the exact Jaccard.
NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SEED = 20261122

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio): spreads each step of the rolling combination
_NUMBER = re.compile(r"\d+(?:[.,/:-]\d+)*")
_DIGITS = re.compile(r"\d+")


class _SyllableHashes(dict):
    """lower-case word -> 64-bit hash of its folded syllable, filled on first use.

    Vietnamese has a few thousand syllables; `map(cache.__getitem__, words)` keeps the
    per-word work in C. Bounded, since numbers and foreign words would grow it forever.
    """

    def __missing__(self, word: str) -> int:
        if len(self) > 1 << 18:
            self.clear()
        digest = hashlib.blake2b(fold_syllable(word).encode("utf-8"), digest_size=8).digest()
        value = self[word] = int.from_bytes(digest, "little")
        return value


_SYLLABLE_HASHES = _SyllableHashes()


def shingles(text: str, size: int = SHINGLE_SIZE) -> np.ndarray:
    """Sorted, distinct 64-bit hashes of the text's runs of `size` folded syllables."""
    words = matching_words(text)
    hashes = np.fromiter(map(_SYLLABLE_HASHES.__getitem__, words), dtype=np.uint64, count=len(words))
    if len(hashes) == 0:
        return hashes
    width = min(size, len(hashes))
    combined = hashes[: len(hashes) - width + 1].copy()
    for offset in range(1, width):
        combined = combined * _MIX + hashes[offset: len(hashes) - width + 1 + offset]
    # sort, then drop repeats: 4x faster than np.unique (hash-based in numpy 2) on ~500 values
    combined.sort()
    distinct = np.empty(len(combined), dtype=bool)
    distinct[0] = True
    np.not_equal(combined[1:], combined[:-1], out=distinct[1:])
    return combined[distinct]


def band_keys(signature: np.ndarray) -> tuple[int, ...]:
    """One signed 64-bit key per band (it fits DuckDB's BIGINT), stable across processes.

    The band number is mixed in, so keys of different bands never meet by accident.
    """
    rows = np.asarray(signature, dtype=np.uint64).reshape(BANDS, ROWS)
    keys = np.arange(1, BANDS + 1, dtype=np.uint64) * _MIX
    for column in range(ROWS):
        keys = (keys ^ rows[:, column]) * _MIX
        keys ^= keys >> np.uint64(29)
    return tuple(keys.view(np.int64).tolist())


def facts(text: str) -> frozenset[str]:
    """The numbers a text states, formats unified: "24-5", "24/5" and "24.5" are one fact."""
    return frozenset("/".join(str(int(run)) for run in _DIGITS.findall(number)) for number in _NUMBER.findall(text))


def content_hash(text: str) -> str:
    return sha256_hex(exact_key(text).encode("utf-8"))


def fingerprints(texts: list[str]) -> list[Fingerprint]:
    """Fingerprints of many texts with one MinHash call (rensa over a flat buffer of shingle hashes)."""
    shingled = [shingles(text) for text in texts]
    offsets = np.cumsum([0] + [len(hashes) for hashes in shingled]).tolist()
    flat = np.concatenate(shingled) if shingled else np.empty(0, dtype=np.uint64)
    signatures = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, NUM_PERM, SEED).to_rows() if texts else []
    return [
        Fingerprint(content_hash=content_hash(text), band_keys=band_keys(signature), shingles=hashes)
        for text, signature, hashes in zip(texts, signatures, shingled)
    ]


def fingerprint(text: str) -> Fingerprint:
    return fingerprints([text])[0]
