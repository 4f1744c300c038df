"""Text normalisation: for display (NFC, clean whitespace) and for matching (dedup keys)."""
from __future__ import annotations

import re
import unicodedata

# Vietnamese tone marks as combining characters. Old ("hoà", "thuý", "uỷ") and new
# ("hòa", "thúy", "ủy") spelling put the tone on different vowels of one syllable, so
# matching keys lift the tone off the vowel and append it to the syllable.
_TONE_MARKS = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_WORD = re.compile(r"\w+")


def clean_whitespace(line: str) -> str:
    """One line for display: invisible characters dropped, space runs folded, ends trimmed."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", line)).strip()


def fold_syllable(word: str) -> str:
    """Matching key of one lower-case word: tone mark moved to the end, other diacritics kept."""
    decomposed = unicodedata.normalize("NFD", word)
    tone = ""
    base = []
    for char in decomposed:
        if char in _TONE_MARKS:
            tone = _TONE_MARKS[char]
        else:
            base.append(char)
    return unicodedata.normalize("NFC", "".join(base)) + tone


def matching_words(text: str) -> list[str]:
    """Words of a text as dedup sees them, before tone folding: NFC, lower case, no punctuation."""
    return _WORD.findall(unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).lower())


def name_key(text: str) -> str:
    """A name as compared with another: no case, no diacritics (đ -> d), letters and digits only.

    'Báo Tuổi Trẻ', 'TUOI TRE' and 'tuoitre' give 'baotuoitre', 'tuoitre', 'tuoitre'.
    """
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(char for char in decomposed if char.isalnum())


def exact_key(text: str) -> str:
    """The text as the exact-duplicate hash sees it: NFC, case and whitespace folded."""
    # NFC after casefold too: folding can leave text that is not NFC ("ß\u0301" -> "ss\u0301").
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).casefold())
    return " ".join(folded.split())
