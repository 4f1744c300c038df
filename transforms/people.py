"""Who is who among people of one name: a person is a name plus a consistent post history.

Extraction (transforms/enrich.py) gives (name, position) per article. Namesakes are common
in Vietnamese ("Nguyễn Văn Bình" the central bank governor, a commune chairman and a trade
union chairman in the same fortnight), so a name alone merges different people. Here the
distinct positions stated for one name are grouped: two posts are one person's when they
share a post (its head: "Thống đốc", "Bộ trưởng") and their bodies agree — one contains
the other, one is the other's initials ("NHNN", "Ngân hàng Nhà nước"), or their words
match closely by rapidfuzz's token-set ratio, which takes spelling and word-order
variants ("Bộ Công an" / "Công an"). A bare post ("Thống đốc") and a mention without one
join the most-stated person they fit; they never join two people together.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class PeopleSettings:
    # Token-set ratio (0-100) above which two bodies of one post are the same body. Chosen
    # on the namesakes of the baomoi corpus (docs/enrichment.md): spelling variants of one
    # body score 80-100 ("Bộ Công an" / "Bộ công an"; "UB ATGT Quốc gia" / "Ủy ban ATGT
    # quốc gia"), bodies of namesakes 20-60 ("UBND xã Bạch Đích" / "CĐ Xây dựng VN").
    same_body_ratio: float = 75.0


@dataclass(frozen=True)
class _Post:
    head: str  # the post itself, folded: "thong doc"
    body: str  # the rest, folded: "ngan hang nha nuoc viet nam"
    initials: str  # the body's initials: "nhnnvn"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"\s+", " ", "".join(c for c in decomposed if not unicodedata.combining(c))).strip().lower()


def split_posts(position: str, heads: re.Pattern) -> list[_Post]:
    """The posts of a position ("Ủy viên Bộ Chính trị, Bộ trưởng Bộ Công an"), each as head and body."""
    posts = []
    for item in re.split(r",\s+|\s+(?:kiêm|và)\s+|\s+-\s+", position):
        match = heads.search(item)
        if not match:
            continue
        body = _fold(item[match.end():])
        posts.append(_Post(_fold(match.group()), body, "".join(word[0] for word in body.split())))
    return posts


def _bodies_agree(a: _Post, b: _Post, settings: PeopleSettings) -> bool:
    if not a.body or not b.body:
        return True  # a bare post fits any body of its post
    if a.body in b.body or b.body in a.body:
        return True
    if " " not in a.body and b.initials.startswith(a.body) or " " not in b.body and a.initials.startswith(b.body):
        return True
    return fuzz.token_set_ratio(a.body, b.body) >= settings.same_body_ratio


def _same_person(a: list[_Post], b: list[_Post], settings: PeopleSettings) -> bool:
    return any(x.head == y.head and _bodies_agree(x, y, settings) for x in a for y in b)


def group_positions(positions: dict[str | None, int], heads: re.Pattern,
                    settings: PeopleSettings = PeopleSettings()) -> dict[str | None, int]:
    """Each position stated for one name (with how often) -> the index of its person, 0 the most stated.

    Positions with a body are joined when they are one person's (see the module); bare posts
    and None then go to the most stated person they fit, without joining any two.
    """
    posts = {position: split_posts(position, heads) for position in positions if position}
    specific = sorted((p for p in posts if any(post.body for post in posts[p])), key=lambda p: (-positions[p], p))
    pairs = [(i, j) for i, first in enumerate(specific) for j in range(i + 1, len(specific))
             if _same_person(posts[first], posts[specific[j]], settings)]
    members: dict[int, list[str]] = {}
    if specific:
        rows, columns = zip(*pairs) if pairs else ((), ())
        graph = coo_matrix((np.ones(len(pairs)), (rows, columns)), shape=(len(specific), len(specific)))
        _, component = connected_components(graph, directed=False)
        for position, group in zip(specific, component):
            members.setdefault(int(group), []).append(position)
    people = sorted(members.values(), key=lambda group: (-sum(positions[p] for p in group), group[0]))
    assigned = {position: number for number, group in enumerate(people) for position in group}
    for position in sorted(positions, key=lambda p: (-positions[p], p or "")):
        if position in assigned:
            continue
        fits = [number for number, group in enumerate(people)
                if position is None or any(_same_person(posts[position], posts[p], settings) for p in group)]
        assigned[position] = fits[0] if fits else (len(people) if people else 0)
        if not fits and people:
            people.append([position])
    return assigned
