"""Enrichment of one article: the Party and State documents it cites and the people it names.

Pure functions over an article's text, driven by rules/enrich.toml (every pattern and
threshold is explained there). Matching runs on a view of the text with the same length
(dashes, spaces and old-style tone placement folded), so `start` and `mention` always
point into the text as given (after NFC).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from transforms.rulefile import RulesError, read_rule_file

ENRICH_RULES_PATH = Path(__file__).parent / "rules" / "enrich.toml"

_BARE_POLICIES = {"any", "with_so", "never"}
_LETTER = r"[^\W\d_]"


@dataclass(frozen=True)
class DocumentRef:
    code: str  # normalised: "205-QĐ/TW", "15/2020/NĐ-CP", "Kết luận 64", "Nghị quyết Trung ương 4 khóa XI"
    kind: str  # "Quy định", "Nghị định", ...
    number: str | None  # as written ("05"); None for a plenum's or congress's resolution
    issuer: str | None  # from the symbol: "TW", "CP", "TTg", "BTCTW"; None without a symbol
    mention: str  # the text as written
    start: int


@dataclass(frozen=True)
class PersonMention:
    name: str  # "Trương Thị Mai"
    position: str | None  # "Ủy viên Bộ Chính trị, Bí thư Trung ương Đảng, Trưởng Ban Tổ chức Trung ương"
    honorific: str | None  # "đồng chí", "Ông", "Trung tá", "GS.TS"
    mention: str  # the text as written, from honorific or position to the end of the appositive
    start: int


@dataclass(frozen=True)
class Enrichment:
    document_refs: tuple[DocumentRef, ...]
    people: tuple[PersonMention, ...]


@dataclass(frozen=True)
class _Kind:
    label: str
    bare_number: str
    lowercase_bare: bool
    abbreviation: bool


@dataclass(frozen=True)
class EnrichRules:
    version: str
    # document references
    reference: re.Pattern  # kind, "số", then a Party symbol, a State symbol or a bare number
    continuation: re.Pattern  # one more symbol of a list after a reference
    kinds: dict[str, _Kind]  # by spelling: "Nghị định", "nghị định", "NĐ"
    quantity_after: re.Pattern
    year_like: range
    issuer_replacements: tuple[tuple[str, str], ...]
    canonical_tokens: dict[str, str]
    state_type_codes: frozenset[str]
    plenum: re.Pattern
    plenum_code: str
    plenum_code_with_term: str
    plenum_more_terms: re.Pattern
    congress: re.Pattern
    congress_code: str
    # people
    capitalised_run: re.Pattern
    name_syllables: range
    split_name_syllables: range
    foreign_letters: frozenset[str]
    min_last_syllable_letters: int
    names_with_commas: re.Pattern
    surnames: frozenset[str]
    not_names: frozenset[str]
    not_name_lengths: tuple[int, ...]  # in syllables, longest first
    place_before: re.Pattern
    company_before: re.Pattern
    honorific_before: re.Pattern
    run_honorifics: frozenset[str]  # one-word honorifics, capitalised, as they open a sentence
    position_before: re.Pattern
    position_item: re.Pattern
    organisation_item: re.Pattern
    position_stop: re.Pattern
    position_dangling: re.Pattern
    speech_after_body: re.Pattern
    appositive_lead: re.Pattern
    appositive_end: re.Pattern
    clause_end: re.Pattern
    appositive_max_chars: int
    position_item_max_syllables: int
    position_before_max_chars: int
    honorific_before_max_chars: int
    named_thing_before_max_chars: int
    position_replacements: tuple[tuple[re.Pattern, str], ...]


def _alternation(words: list[str]) -> str:
    """A regex matching any of the words, as a trie: the engine then tests a few letters per
    position instead of every word, and at one place the longest word wins, backing off to
    shorter ones ("Thông tư liên tịch", then "Thông tư")."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_pattern(trie)


def _trie_pattern(node: dict) -> str:
    branches = [re.escape(char) + _trie_pattern(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{body})?" if "" in node else body


def _letters(category: str) -> str:
    """Every letter of the Latin blocks Vietnamese uses with this Unicode category (Lu, Ll)."""
    ranges = (range(0x41, 0x250), range(0x1E00, 0x1F00))
    return "".join(chr(c) for r in ranges for c in r if unicodedata.category(chr(c)) == category)


_UPPER = _letters("Lu")
_LOWER = _letters("Ll")


def _compile_rule(source: str) -> re.Pattern:
    """A rule file pattern, with \\p{Lu} and \\p{Ll} made into character classes."""
    return re.compile(source.replace(r"\p{Lu}", f"[{_UPPER}]").replace(r"\p{Ll}", f"[{_LOWER}]"))


def load_enrich_rules(path: Path = ENRICH_RULES_PATH) -> EnrichRules:
    return read_rule_file(path, _compile)


def _compile(data: dict, version: str) -> EnrichRules:
    return EnrichRules(version=version, **_refs_rules(data["refs"]), **_people_rules(data["people"]))


def _refs_rules(refs: dict) -> dict:
    """The document-reference fields of EnrichRules, compiled from the [refs] table."""
    kinds: dict[str, _Kind] = {}
    for index, entry in enumerate(refs["kind"]):
        names = entry["names"]
        if entry.get("abbreviated"):
            # "QĐ" counts only before a full symbol; it is written in capitals only.
            kinds.update((name, _Kind(names[0], "never", False, True)) for name in names[1:])
            continue
        policy = entry["bare_number"]
        if policy not in _BARE_POLICIES:
            raise RulesError(f"[[refs.kind]] #{index + 1} ({names[0]}): unknown bare_number {policy!r}")
        kind = _Kind(names[0], policy, bool(entry.get("lowercase_bare", False)), False)
        kinds.update((written, kind) for name in names for written in (name, name.lower()))
    # One trie over every spelling, case-sensitive, so the engine can skip quickly to the
    # few letters a kind starts with (a case-insensitive alternation costs 5x more here).
    reference = re.compile(
        rf"(?P<kind>{_alternation(list(kinds))})(?!{_LETTER})(?P<lead>{refs['number_lead']})"
        rf"(?:{refs['party_symbol']}|{refs['state_symbol']}|{refs['bare_number']})"
    )
    continuation = re.compile(rf"{refs['list_continuation']}(?:{refs['party_symbol']}|{refs['state_symbol']})")
    return dict(
        reference=reference,
        continuation=continuation,
        kinds=kinds,
        quantity_after=re.compile(
            rf"[ ]*(?:{_alternation(refs['quantity_words'])})(?!{_LETTER})(?!{refs['quantity_unless_before']})"
        ),
        year_like=range(refs["year_like_min"], refs["year_like_max"] + 1),
        issuer_replacements=tuple(refs["issuer_replacements"].items()),
        canonical_tokens={token.upper(): token for token in refs["mixed_case_tokens"]},
        state_type_codes=frozenset(code.upper() for code in refs["state_type_codes"]),
        plenum=re.compile(refs["plenum"]["pattern"]),
        plenum_code=refs["plenum"]["code"],
        plenum_code_with_term=refs["plenum"]["code_with_term"],
        plenum_more_terms=re.compile(refs["plenum"]["more_terms"]),
        congress=re.compile(refs["congress"]["pattern"]),
        congress_code=refs["congress"]["code"],
    )


def _people_rules(people: dict) -> dict:
    """The people fields of EnrichRules, compiled from the [people] table."""
    # A capitalised syllable ends at a non-letter or at a capital glued on by the crawler
    # ("Lý Hiển LongThủ tướng"); likewise a word may start right after a small letter.
    syllable = rf"[{_UPPER}][{_LOWER}]*(?:(?![\w])|(?=[{_UPPER}]))"
    word_start = rf"(?:(?<![\w])|(?<=[{_LOWER}]))"
    # A run's first capital comes first in the pattern so the engine can skip from capital
    # to capital; the look-behind after it checks that no capital or digit precedes it.
    run_start = rf"[{_UPPER}](?<![{_UPPER}\d_][{_UPPER}])[{_LOWER}]*(?:(?![\w])|(?=[{_UPPER}]))"
    honorifics = people["honorifics"]
    mods = _alternation(people["position_modifiers"])
    heads = _alternation(people["position_heads"])
    return dict(
        capitalised_run=re.compile(rf"{run_start}(?:[ ]+{syllable})+"),
        name_syllables=range(people["name_min_syllables"], people["name_max_syllables"] + 1),
        split_name_syllables=range(people["split_name_min_syllables"], people["split_name_max_syllables"] + 1),
        foreign_letters=frozenset(people["foreign_letters"]),
        min_last_syllable_letters=people["min_last_syllable_letters"],
        names_with_commas=re.compile(_alternation(people["names_with_commas"])),
        surnames=frozenset(people["surnames"]),
        not_names=frozenset(people["not_names"]),
        not_name_lengths=tuple(sorted({len(entry.split()) for entry in people["not_names"]}, reverse=True)),
        place_before=re.compile(
            "".join(rf"(?<!{re.escape(post)} )" for post in people["posts_before_place_words"])
            + rf"(?<![\w])(?i:{_alternation(people['place_words'])})[ ]*$"
        ),
        company_before=re.compile(
            rf"(?<![\w])(?i:{_alternation(people['company_words'])})"
            rf"(?:[ ]+\S+){{0,{people['company_name_max_words_between']}}}[ ]*$"
        ),
        honorific_before=re.compile(
            rf"(?<![\w])(?P<honorific>{people['honorific_chain']}|(?i:{_alternation(honorifics)}))[ ]*:?[ ]*$"
        ),
        run_honorifics=frozenset(word[0].upper() + word[1:] for word in honorifics if " " not in word),
        position_before=re.compile(rf"{word_start}(?:(?i:{mods})[ ]+)*(?:{heads})(?![\w])"),
        position_item=re.compile(rf"(?:(?i:{mods})[ ]+)*(?i:{heads})(?![\w])"),
        organisation_item=re.compile(rf"(?:{_alternation(people['organisation_heads'])})(?![\w])"),
        position_stop=_compile_rule(people["position_stop"]),
        position_dangling=_compile_rule(people["position_dangling"]),
        speech_after_body=_compile_rule(people["speech_after_body"]),
        appositive_lead=_compile_rule(people["appositive_lead"]),
        appositive_end=_compile_rule(people["appositive_end"]),
        clause_end=_compile_rule(people["clause_end"]),
        appositive_max_chars=people["appositive_max_chars"],
        position_item_max_syllables=people["position_item_max_syllables"],
        position_before_max_chars=people["position_before_max_chars"],
        honorific_before_max_chars=people["honorific_before_max_chars"],
        named_thing_before_max_chars=people["named_thing_before_max_chars"],
        position_replacements=tuple(
            (re.compile(entry["pattern"]), entry["replacement"]) for entry in people["position_replacement"]
        ),
    )


# ---------------------------------------------------------------------------------------
# The matching view: same length as the text, one spelling per word.

_FOLDS = (*((dash, "-") for dash in "–—‑‐−"), *((space, " ") for space in "\u00a0\u2007\u2009\u202f\t"))


def _tone_table() -> dict[str, str]:
    """Old-style tone placement on a syllable-final "oa", "oe", "uy" ("hoà", "khoẻ", "uỷ") ->
    the placement the rules are written in ("hòa", "khỏe", "ủy"), in every case."""
    table = {}
    placements = (("àáảãạ", "òóỏõọ", "oa"), ("èéẻẽẹ", "òóỏõọ", "oe"), ("ỳýỷỹỵ", "ùúủũụ", "uy"))
    for old_vowels, new_vowels, pair in placements:
        for old, new in zip(old_vowels, new_vowels):
            for case in (str.lower, str.capitalize, str.upper):
                table[case(pair[0] + old)] = case(new + pair[1])
    return table


_NEW_TONES = _tone_table()
_OLD_TONES = re.compile(rf"[oOuU][{''.join(sorted({old[1] for old in _NEW_TONES}))}](?![\w])")


def _new_tone(match: re.Match) -> str:
    pair = match.group()
    if match.start() and match.string[match.start() - 1] in "qQ":
        return pair  # "quý", "quỷ": the u belongs to the consonant, the tone is already right
    return _NEW_TONES.get(pair, pair)


def _matching_view(text: str, rules: EnrichRules) -> str:
    for char, replacement in _FOLDS:
        if char in text:
            text = text.replace(char, replacement)
    text = _OLD_TONES.sub(_new_tone, text)
    return rules.names_with_commas.sub(lambda match: match.group().replace(",", _KEPT_COMMA), text)


# Stands in for the comma inside a body's name ("Lao động, Thương binh và Xã hội") in the
# matching view, so neither clauses nor appositive items are cut there.
_KEPT_COMMA = "\u201a"


# ---------------------------------------------------------------------------------------
# Document references


def extract_document_refs(text: str, rules: EnrichRules) -> list[DocumentRef]:
    """Documents cited in the text, one per code, at their first mention, in text order."""
    text = unicodedata.normalize("NFC", text)
    return _document_refs(text, _matching_view(text, rules), rules)


def _document_refs(text: str, view: str, rules: EnrichRules) -> list[DocumentRef]:
    found: list[DocumentRef] = []
    for match in rules.reference.finditer(view):
        first = _reference(match, text, rules)
        if first is None:
            continue
        found.append(first)
        end = match.end()
        while more := rules.continuation.match(view, end):
            number_start = more.start("p_number") if more["p_number"] else more.start("s_number")
            found.append(_symbol_ref(more, first.kind, text, number_start, rules))
            end = more.end()
    for match in rules.plenum.finditer(view):
        found.extend(_plenum_refs(match, view, text, rules))
    for match in rules.congress.finditer(view):
        code = rules.congress_code.format(congress=match["congress"])
        found.append(DocumentRef(code, "Nghị quyết", None, "TW", text[match.start():match.end()], match.start()))
    return _distinct_refs(found)


def _reference(match: re.Match, text: str, rules: EnrichRules) -> DocumentRef | None:
    written = match["kind"]
    kind = rules.kinds[written]
    start = match.start()
    lowercase = written[0].islower()
    if (lowercase or kind.abbreviation) and start > 0 and text[start - 1].isalpha():
        return None  # inside a word; a capitalised kind glued on ("xãNghị định") is a crawler's join
    if match["p_number"] or match["s_number"]:
        return _symbol_ref(match, kind.label, text, start, rules)
    if kind.abbreviation or kind.bare_number == "never":
        return None
    with_so = bool(match["lead"].strip())
    if not with_so and (kind.bare_number == "with_so" or (lowercase and not kind.lowercase_bare)):
        return None
    number = match["b_number"]
    if not with_so and not match["b_year"] and number.isdigit() and int(number) in rules.year_like:
        return None
    if not with_so and rules.quantity_after.match(text, match.end()):
        return None
    code = f"{kind.label} {number}" + (f"/{match['b_year']}" if match["b_year"] else "")
    return DocumentRef(code, kind.label, number, None, text[start:match.end()], start)


def _symbol_ref(match: re.Match, kind: str, text: str, start: int, rules: EnrichRules) -> DocumentRef:
    mention = text[start:match.end()]
    if match["p_number"]:
        number = match["p_number"]
        issuer = match["p_issuer"].replace(".", "").upper()
        for written, canonical in rules.issuer_replacements:
            issuer = issuer.replace(written, canonical)
        code = f"{number}-{_canonical(match['p_type'], rules)}/{issuer}"
        return DocumentRef(code, kind, number, issuer, mention, start)
    number = match["s_number"]
    pieces = [_canonical(piece, rules) for piece in _SYMBOL_PIECES.split(match["s_rest"])]
    rest = "".join(pieces)
    first = pieces[0]
    issuer = rest[len(first) + 1:] if len(pieces) > 1 and first in rules.state_type_codes else rest
    year = f"/{match['s_year']}" if match["s_year"] else ""
    return DocumentRef(f"{number}{year}/{rest}", kind, number, issuer.replace("/", "-"), mention, start)


_SYMBOL_PIECES = re.compile(r"[ ]*([-/])[ ]*")  # keeps the separators, drops the spaces around them


def _canonical(token: str, rules: EnrichRules) -> str:
    """Upper case except the official mixed-case codes; separators pass through."""
    upper = token.upper()
    return rules.canonical_tokens.get(upper, upper)


def _plenum_refs(match: re.Match, view: str, text: str, rules: EnrichRules) -> list[DocumentRef]:
    kind, plenum, term = match["kind"], match["plenum"], match["term"]
    if not term:
        code = rules.plenum_code.format(kind=kind, plenum=plenum)
        return [DocumentRef(code, kind, None, "TW", text[match.start():match.end()], match.start())]
    refs = []
    end = match.end()
    while True:
        code = rules.plenum_code_with_term.format(kind=kind, plenum=plenum, term=term)
        refs.append(DocumentRef(code, kind, None, "TW", text[match.start():end], match.start()))
        more = rules.plenum_more_terms.match(view, end)
        if not more:
            return refs
        term, end = more["term"], more.end()


def _distinct_refs(found: list[DocumentRef]) -> list[DocumentRef]:
    """One ref per code, first mention kept. A number written short takes the fullest code the
    article gives that kind and number: "Chỉ thị 35" the code of "35-CT/TW", "Quyết định số 02"
    that of "Quyết định số 02/2010", "Thông tư 02/2013" that of "02/2013/TT-NHNN"."""
    found.sort(key=lambda ref: ref.start)
    fullest: dict[tuple[str, str], DocumentRef] = {}
    for ref in found:
        if ref.number:
            key = (ref.kind, ref.number.lstrip("0"))
            if key not in fullest or _fullness(ref) > _fullness(fullest[key]):
                fullest[key] = ref
    distinct: dict[str, DocumentRef] = {}
    for ref in found:
        full = fullest.get((ref.kind, ref.number.lstrip("0"))) if ref.number else None
        if full is not None and _fullness(ref) < _fullness(full) and _same_year(ref, full):
            ref = replace(ref, code=full.code, issuer=full.issuer)
        distinct.setdefault(ref.code, ref)
    return list(distinct.values())


def _fullness(ref: DocumentRef) -> int:
    """2: a symbol ("02/2013/TT-NHNN"), 1: a number and year ("Thông tư 02/2013"), 0: a number."""
    return 2 if ref.issuer else int("/" in ref.code)


def _same_year(short: DocumentRef, full: DocumentRef) -> bool:
    """A short mention with a year only joins a code of that year."""
    return "/" not in short.code or f"/{short.code.rsplit('/', 1)[1]}" in full.code


# ---------------------------------------------------------------------------------------
# People


def extract_people(text: str, rules: EnrichRules) -> list[PersonMention]:
    """People named with an honorific or a position, one per (name, position), in text order."""
    text = unicodedata.normalize("NFC", text)
    return _people(text, _matching_view(text, rules), rules)


def _people(text: str, view: str, rules: EnrichRules) -> list[PersonMention]:
    found = []
    for run in rules.capitalised_run.finditer(view):
        person = _person(run, view, text, rules)
        if person is not None:
            found.append(person)
    return _distinct_people(found)


def _person(run: re.Match, view: str, text: str, rules: EnrichRules) -> PersonMention | None:
    tokens = _tokens(run)
    honorific = honorific_start = None
    left_end = None
    if tokens[0][0] in rules.run_honorifics:
        honorific, honorific_start, left_end = tokens[0][0], tokens[0][1], tokens[0][1]
        tokens = tokens[1:]
    split = _name_split(tokens, rules)
    if split is None:
        return None
    place_prefix, name_tokens = tokens[:split], tokens[split:]
    name_start, name_end = name_tokens[0][1], name_tokens[-1][2]
    name = view[name_start:name_end]
    if name in rules.not_names or rules.foreign_letters.intersection(name):
        return None
    if len(name_tokens[-1][0]) < rules.min_last_syllable_letters:
        return None
    if view.startswith("-", name_end) and view[name_end + 1:name_end + 2].isalpha():
        return None  # "Kim Jong-un": a hyphenated foreign name
    if left_end is None:
        left_end = place_prefix[0][1] if place_prefix else name_start
    if honorific is None:
        before = rules.honorific_before.search(view, max(0, left_end - rules.honorific_before_max_chars), left_end)
        if before:
            honorific, honorific_start = text[before.start("honorific"):before.end("honorific")], before.start()
            left_end = before.start()
    if not place_prefix and honorific is None and _named_thing(view, name_start, rules):
        return None
    # After an honorific the words before it are not the person's post: "Thủ tướng bổ
    # nhiệm ông Phạm Lê Tuấn" (the press writes "Giám đốc Sở Y tế, ông A", with a comma).
    position_before, before_start = (None, None) if honorific else _position_before(view, left_end, rules)
    if place_prefix:
        if position_before is None:
            return None  # capitalised words before the name that no post explains
        position_before = view[before_start:place_prefix[-1][2]]
    items, end = _appositive(view, name_end, rules)
    if position_before is None and not items and honorific is None:
        return None
    parts = ([position_before] if position_before else []) + items
    position = _normalise_position(", ".join(parts), rules) if parts else None
    start = min(s for s in (name_start, honorific_start, before_start) if s is not None)
    return PersonMention(name, position, honorific, text[start:end], start)


_WORD = re.compile(r"\S+")


def _tokens(run: re.Match) -> list[tuple[str, int, int]]:
    """The syllables of a capitalised run with their offsets in the text."""
    return [(m.group(), run.start() + m.start(), run.start() + m.end()) for m in _WORD.finditer(run.group())]


def _name_split(tokens: list[tuple[str, int, int]], rules: EnrichRules) -> int | None:
    """Where the name starts in a capitalised run, or None when the run holds no name.

    A known place or body opening the run is never the name ("Hàn Quốc | Yun Byung Se").
    Then a run that starts with a surname and is no longer than a usual name is the name;
    otherwise the name is the last part of usual length that starts with a surname
    ("Quảng Nam | Lê Phước Thanh"); a longer run starting with a surname is taken whole
    only when no such part exists and it is not longer than the longest name.
    """
    count = len(tokens)
    lead = _leading_not_name(tokens, rules)
    if count - lead < rules.name_syllables.start:
        return None
    first_is_surname = tokens[lead][0] in rules.surnames
    if first_is_surname and count - lead < rules.split_name_syllables.stop:
        return lead
    for index in range(count - rules.split_name_syllables.start, lead, -1):
        if tokens[index][0] in rules.surnames and count - index in rules.split_name_syllables:
            return index
    if first_is_surname and count - lead in rules.name_syllables:
        return lead
    return None


def _leading_not_name(tokens: list[tuple[str, int, int]], rules: EnrichRules) -> int:
    """How many syllables at the start of a run are a known place or body."""
    for length in rules.not_name_lengths:
        if len(tokens) >= length and " ".join(token for token, _, _ in tokens[:length]) in rules.not_names:
            return length
    return 0


def _named_thing(view: str, start: int, rules: EnrichRules) -> bool:
    """Whether the words before a run make it the name of a place or firm ("TP Hồ Chí Minh")."""
    left = view[max(0, start - rules.named_thing_before_max_chars):start]
    return bool(rules.place_before.search(left) or rules.company_before.search(left))


def _names_someone(view: str, start: int, end: int, rules: EnrichRules) -> bool:
    """Whether a stretch of text holds another person's full name (a post before it is theirs).

    Only names of a usual full length count: two capitalised syllables inside a post are
    far more often a place or a namesake body ("QTDND Quang Trung", "thị xã Châu Đốc")."""
    for run in rules.capitalised_run.finditer(view, start, end):
        tokens = _tokens(run)
        split = _name_split(tokens, rules)
        if split is None or len(tokens) - split < rules.split_name_syllables.start:
            continue
        if view[tokens[split][1]:tokens[-1][2]] in rules.not_names:
            continue
        if split > 0 or not _named_thing(view, run.start(), rules):
            return True
    return False


def _position_before(view: str, end: int, rules: EnrichRules) -> tuple[str | None, int | None]:
    """The post written before a name ("Bộ trưởng Bộ Y tế Nguyễn Thanh Long"), with the
    posts listed before it and separated by commas ("Ủy viên Bộ Chính trị, Bí thư ...")."""
    clause_start = _clause_start(view, end, rules)
    for head in rules.position_before.finditer(view, clause_start, end):
        if rules.position_stop.search(view, head.end(), end) or _names_someone(view, head.end(), end, rules):
            continue
        start = head.start()
        if not view[clause_start:start].strip():
            start = _earlier_posts(view, start, rules)
        return view[start:end].strip(), start
    return None, None


def _earlier_posts(view: str, start: int, rules: EnrichRules) -> int:
    """Extend a post back over the comma-separated posts before it."""
    while True:
        comma = start - 1
        while comma >= 0 and view[comma] == " ":
            comma -= 1
        if comma < 0 or view[comma] != ",":
            break
        previous_start = _clause_start(view, comma, rules)
        previous = view[previous_start:comma]
        item = previous.lstrip()
        head = rules.position_item.match(item)
        if not head or rules.position_stop.search(item, head.end()):
            break
        if len(item.split()) > rules.position_item_max_syllables:
            break
        if _names_someone(view, comma - len(item), comma, rules):
            break
        start = comma - len(item)
    return start


def _clause_start(view: str, end: int, rules: EnrichRules) -> int:
    window_start = max(0, end - rules.position_before_max_chars)
    last = None
    for last in rules.clause_end.finditer(view, window_start, end):
        pass
    return last.end() if last else window_start


def _appositive(view: str, name_end: int, rules: EnrichRules) -> tuple[list[str], int]:
    """The posts after a name: comma-separated items up to the end of the appositive."""
    lead = rules.appositive_lead.match(view, name_end)
    if not lead:
        return [], name_end
    start = lead.end()
    limit = min(len(view), start + rules.appositive_max_chars)
    for end_mark in rules.appositive_end.finditer(view, start, limit):
        if end_mark.lastgroup == "end":
            limit = end_mark.start()
            break
    items: list[str] = []
    end = name_end
    item_start = start
    for raw_item in _ITEM_COMMA.split(view[start:limit]):
        item = raw_item.strip()
        item_at = item_start + len(raw_item) - len(raw_item.lstrip())
        item_start += len(raw_item) + 1
        post = rules.position_item.match(item)
        body = not post and items and rules.organisation_item.match(item)
        if not (post or body):
            break
        stop = rules.position_stop.search(item, (post or body).end())
        if stop and body and not rules.speech_after_body.match(item, stop.start()):
            break  # "ông A, Trưởng ban X, Cục Di sản không đồng ý": the body opens the next clause
        if stop:
            item = rules.position_dangling.sub("", item[:stop.start()].rstrip(" -"))
        if len(item.split()) > rules.position_item_max_syllables:
            break
        if _names_someone(view, item_at, item_at + len(item), rules):
            break  # "Thủ tướng Singapore Lý Hiển Long, Thủ tướng Nguyễn Tấn Dũng ...": the next person
        items.append(item)
        end = item_at + len(item)
        if stop:
            break
    return items, end


# Appositive items are separated by a comma and a space: "Sở VH,TT&DL" is one body.
_ITEM_COMMA = re.compile(r",(?=\s)")


def _normalise_position(position: str, rules: EnrichRules) -> str:
    position = position.replace(_KEPT_COMMA, ",")
    for pattern, replacement in rules.position_replacements:
        position = pattern.sub(replacement, position)
    return position.strip(" ,-")


def _distinct_people(found: list[PersonMention]) -> list[PersonMention]:
    """One mention per (name, position); a bare name is dropped when the article gives the post."""
    with_position = {person.name for person in found if person.position}
    seen = {}
    for person in found:
        if person.position is None and person.name in with_position:
            continue
        seen.setdefault((person.name, person.position), person)
    return list(seen.values())


def enrich(title: str, text: str, rules: EnrichRules) -> Enrichment:
    """Both extractors over the article: `start` counts in `title + "\\n" + text`."""
    whole = unicodedata.normalize("NFC", f"{title}\n{text}" if title else text)
    view = _matching_view(whole, rules)
    return Enrichment(tuple(_document_refs(whole, view, rules)), tuple(_people(whole, view, rules)))
