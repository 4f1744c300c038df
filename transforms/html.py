"""HTML pages -> article fields: trafilatura's main text, and what the page says about itself.

trafilatura finds the main text (image captions pruned first). The metadata comes from the
page's own declarations (meta tags, JSON-LD) read with trafilatura's metadata helpers, and
from what plain trafilatura gets wrong on Vietnamese news pages (seen on the VnExpress page
in shared/corpora and in tests/test_html.py):

- the lead paragraph (sapo) sits outside the body container and is dropped: when the
  page's own summary (meta/og/JSON-LD description) is printed in an element before the
  body and the text lacks it, it is put back before the first paragraph;
- the author is the outlet ("VnExpress", "Báo Tuổi Trẻ"): such an author is dropped, for
  a byline printed in an element marked "author"/"byline" (which trafilatura drops from
  the text) or, failing that, the byline line the cleaner finds at the end of the body;
- the title carries the site's name ("… - Báo Thanh Niên"): it is cut off;
- the date is a day: a declared timestamp (`article:published_time`, `pubdate`, JSON-LD
  `datePublished`) or a dateline kept in the text gives the time too; htmldate's day is
  the fallback.

Captions, bylines and datelines that still reach the text are left to the cleaner.
"""
from __future__ import annotations

import html as html_entities
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_meta_json, extract_sitename, extract_title, extract_url, examine_meta
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from transforms.budget import PageLimits
from transforms.clean import CleaningRules, byline_name, is_headline_like
from transforms.dates import VIETNAM, parse_dateline, parse_timestamp
from transforms.normalise import name_key
from transforms.urls import host_of

EXTRACTOR = "trafilatura"
LEAN_EXTRACTOR = "tinbai-lean"  # pages over the structural limits (transforms.budget.PageLimits)
# When trafilatura's extraction finds nothing (or fails on the page), its baseline: the
# JSON-LD articleBody, <article>, or the page's paragraphs.
FALLBACK_EXTRACTOR = "trafilatura-baseline"
# trafilatura logs ERROR for every page it cannot parse (binary bodies, empty trees); tinbai
# turns those pages into rejects with a reason, so the console line only alarms the user.
logging.getLogger("trafilatura.utils").setLevel(logging.CRITICAL)

EXTRACTOR_VERSION = trafilatura.__version__

# Chosen on trafilatura's eval set (990 pages, snippet F1 of trafilatura's text after the
# cleaner, bench/extraction_quality.py's scoring): default settings 0.9197, comments off
# 0.9213, favor_precision 0.9154 (comments off 0.9162), favor_recall with comments off
# 0.9163, fast with comments off 0.9140. Comments off is also 12% less CPU than the default.
TRAFILATURA_OPTIONS = dict(include_comments=False, include_tables=True)

# htmldate without its extensive search, which dates a page from any date in its text:
# on the eval set it dated 110 more of 990 pages but took 19 s of CPU instead of 2.8 s,
# and tinbai does not guess publication dates (README: published_at is never invented).
DATE_PARAMS = set_date_params(extensive=False)

# A table of at most two rows holding a picture and little text is the picture and its
# caption, as CMSs lay them out (a cell under the image). On trafilatura's eval set: F1
# unchanged (0.9306); without the two-row bound layout tables went too (F1 -0.0006).
PICTURE_TABLE_MAX_CHARS = 300
# An inline style, lower case and without spaces, as XPath 1.0 can fold it.
_STYLE = "translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz')"
_CENTRED = f"translate(@align, 'CENTER', 'center') = 'center' or contains({_STYLE}, 'text-align:center')"
_ITALIC = f"contains({_STYLE}, 'font-style:italic')"
# Set as a caption: centred, or its whole text in italics.
_CAPTION_STYLE = f"[{_CENTRED} or normalize-space() = normalize-space(.//*[self::em or self::i or {_ITALIC}])]"
# Image captions, pruned before extraction: <figcaption>, and elements whose class names a
# caption (div.PhotoCMS_Caption, WordPress .wp-caption-text), but not page
# containers whose class only flags a caption feature (body.wp-featherlight-captions).
# On trafilatura's eval set: 6 fewer true and 8 fewer false snippets, F1 +0.0002 (its
# annotators count some captions as text; tinbai's VnExpress parse does not). And a block
# of pictures with a short text for each, centred or all in italics, as older Vietnamese
# CMSs print a caption under the image (held-out kenh14.vn 2014 page): eval-set F1 0.9306 -> 0.9311.
CAPTION_XPATH = (
    "//figcaption | //*[contains(translate(@class, 'CAPTION', 'caption'), 'caption')]"
    "[not(self::html or self::body or self::main or self::article)][not(.//p[3] or .//h1 or .//h2)]"
    f" | //table[.//img][count(.//tr) <= 2][string-length(normalize-space()) < {PICTURE_TABLE_MAX_CHARS}]"
    f" | //*[self::div or self::p or self::span][.//img][not(.//p or .//div//div)][string-length(normalize-space()) > 0]"
    f"[string-length(normalize-space()) < {PICTURE_TABLE_MAX_CHARS} * count(.//img)]{_CAPTION_STYLE}"
    # ... or printed in the block right after a picture-only block (held-out afamily.vn 2014 page).
    f" | //*[self::div or self::p][preceding-sibling::*[1][.//img][string-length(normalize-space()) = 0]]"
    f"[not(.//img)][string-length(normalize-space()) < {PICTURE_TABLE_MAX_CHARS}]{_CAPTION_STYLE}"
)
# The longest text of an element that can be a byline: a few names and a label.
BYLINE_ELEMENT_MAX_CHARS = 60
_BYLINE_XPATH = (
    '//body//*[@rel="author" or @itemprop="author" or contains(@class, "author") or contains(@class, "byline")]'
    '[not(ancestor-or-self::*[contains(@class, "comment") or contains(@id, "comment")])]'
)
# The line right under the printed headline (held-out afamily.vn and kenh14.vn 2014 pages:
# <p class="post-meta">Hạ Trắng</p> between the h1 and the sapo).
_UNDER_HEADLINE_XPATH = f"//body//h1/following-sibling::*[1][string-length(normalize-space()) < {BYLINE_ELEMENT_MAX_CHARS}]"
# A short right-aligned line: the end signature (held-out giadinh.net.vn 2014 page:
# <div align="right"><strong>Hà Anh</strong></div> after the last paragraph); the last one counts.
_SIGNATURE_XPATH = (
    f"//body//*[translate(@align, 'RIGHT', 'right') = 'right' or contains({_STYLE}, 'text-align:right')]"
    f"[string-length(normalize-space()) < {BYLINE_ELEMENT_MAX_CHARS}]"
)
# "By Emily Burack", "Von Frank Hahn", "Bài và ảnh: Minh Đức": the label is not the name.
_BYLINE_LABEL = re.compile(r"^(?:by|von|par|por|bài(?: và ảnh)?|tác giả|phóng viên)\s*:?\s+", re.I)
_PUBLISHED_META = (
    './/meta[@property="article:published_time" or @itemprop="datePublished" or @name="pubdate"'
    ' or @name="publishdate" or @name="publish-date" or @name="article:published_time"]/@content'
)
_DESCRIPTION_META = (
    './/head/meta[@property="og:description" or @name="description" or @name="twitter:description"'
    ' or @itemprop="description"]/@content'
)
# Elements that print a date: <time>, or a class or itemprop naming a date or a time.
_PRINTED_DATE_XPATH = (
    "//body//time | //body//*[contains(translate(@class, 'DATETIMEPUBLISH', 'datetimepublish'), 'date')"
    " or contains(translate(@class, 'DATETIMEPUBLISH', 'datetimepublish'), 'time')"
    " or contains(translate(@class, 'DATETIMEPUBLISH', 'datetimepublish'), 'publish')"
    " or @itemprop='datePublished'][string-length(normalize-space()) < 80]"
)
# "Theo Hồ Hương": the person after "Theo" is the author ("Theo VietQ.vn" names a source).
_FOLLOWING = re.compile(r"^theo\s+(?P<rest>\S.*)$", re.I)
# An author that is a host name is the platform that published the page ("VCCorp.vn").
_HOST_NAME = re.compile(r"\w\.(?:vn|com|net|org|info|tv)\b", re.I)
# The longest printed byline of several names looked for: two or three names and dashes.
PRINTED_NAMES_MAX_CHARS = 80
# The longest outlet tag a printed lead may carry before the text its description repeats,
# in folded characters: "(Chinhphu.vn) - " folds to 11, "(Báo Điện tử Chính phủ) - " to 18.
LEAD_TAG_KEY_CHARS = 30
# A section label: at most this many words, nearly all in capitals. Headlines run 10
# syllables and more (baomoi's 21,448 average 10) and are written in sentence case.
SECTION_LABEL_MAX_WORDS = 6
UPPER_CASE_SHARE = 0.9
# Share of words an h1 and the declared title have in common for the h1 to be the printed
# form of that headline. Chosen on the dev set: a reworded headline (NLĐ) shares 15 of its
# 16 words; a sidebar h1 ("Thông tin bạn đọc") none.
HEADLINE_WORDS_SHARED = 0.7
_LANGUAGE_META = './/head/meta[@http-equiv="content-language" or @property="og:locale" or @itemprop="inLanguage"]/@content'
# Paragraphs and headings are all looked at for the sapo; other elements only when their
# class names a lead (VnExpress prints it in p.description; "sapo", "chapeau", "lead",
# "summary" are the other names news templates use).
_SAPO_CLASS = re.compile(r"sapo|chap+eau|(?:^|[-_\s])(?:lead|description|summary|excerpt)(?:$|[-_\s])", re.I)
_SAPO_TAGS = {"p", "h2", "h3", "h4"}
# A sapo is a sentence of at least this many words. Of baomoi's 21,420 leads 0.8% have
# fewer than 12 syllables and 1.4% read as a headline (no sentence punctuation, at most
# headline_max_words); site mottos ("Klarmachen zum Ändern!") are shorter.
MIN_SAPO_WORDS = 12
# The body's first paragraph is recognised by this many characters of its folded text.
BODY_START_KEY_CHARS = 40
_LEADING_MARKS = re.compile(r"^[^\w(]+")
_TITLE_SEPARATOR = re.compile(r"(\s+[-|–—:»]{1,2}\s+)")
_LANGUAGE_TAG = re.compile(r"\s*([a-zA-Z]{2,3})\b")


@dataclass(frozen=True)
class ExtractedPage:
    title: str | None
    lines: list[str]
    url: str | None
    site: str | None
    author: str | None
    published_at: datetime | None
    date_precision: str | None
    method: str = EXTRACTOR  # which extractor produced the lines: EXTRACTOR or FALLBACK_EXTRACTOR
    language: str | None = None  # as the page declares it ("vi"), not detected
    description: str | None = None  # the page's own summary (meta/og/JSON-LD description)


def extract_page(html: bytes | str, url: str | None, rules: CleaningRules,
                 limits: PageLimits = PageLimits()) -> ExtractedPage | None:
    """Main text and metadata of a page, or None when no text is found.

    `rules` tell a lead from a headline and a name in a byline, as the cleaner does.

    A page over `limits` (element count, nesting depth) is read by `lean_page` instead.
    """
    too_many = limits.too_many_elements(html)  # counted on the bytes, before the parse
    tree = load_html(html)
    if tree is None:
        return None
    if too_many or _depth_over(tree, limits.max_depth):
        return lean_page(tree, url, limits)
    extracted = _main_text(tree, url)
    if extracted is None:
        return None
    text, method = extracted
    declared = _declared_metadata(tree)
    page_url = declared.url or extract_url(tree, url)
    site = _site(declared, tree)
    json_ld = _json_ld_objects(tree)
    outlets = _outlet_keys(site, page_url)
    title = _title(declared, tree, outlets)
    lines = _with_subheadings(tree, [_nfc(line) for line in text.split("\n") if line.strip()], rules)
    descriptions = _descriptions(tree, declared, json_ld)
    start = _body_start(lines, title, rules)
    if start < len(lines) and descriptions:
        sapo = _printed_summary(tree, descriptions, lines[start], outlets, rules)
        if sapo and name_key(sapo) not in name_key(" ".join(lines)):
            lines.insert(start, sapo)
    published = _published(tree, json_ld) or _text_dateline(lines) or _htmldate_day(tree, page_url)
    if published is None or published[1] == "day":
        published = _printed_time(tree, published[0] if published else None) or published
    return ExtractedPage(
        title=title,
        lines=lines,
        url=page_url,
        site=site,
        author=_printed_names(tree, _author(declared.author, outlets, rules) or _printed_byline(tree, outlets, rules)),
        published_at=published[0] if published else None,
        date_precision=published[1] if published else None,
        method=method,
        language=_language(tree),
        description=descriptions[0] if descriptions else None,
    )


def lean_page(tree: HtmlElement, url: str | None, limits: PageLimits) -> ExtractedPage | None:
    """The fallback for pages over the structural limits: the title and the text of the first
    `max_paragraphs` paragraphs, in linear time (one pass over `<p>`)."""
    lines = []
    for paragraph in tree.iter("p"):
        text = " ".join(paragraph.text_content().split())
        if text:
            lines.append(_nfc(text))
            if len(lines) >= limits.max_paragraphs:
                break
    if not lines:
        return None
    headline = tree.find(".//h1")
    title = tree.findtext(".//title") or (headline.text_content() if headline is not None else None)
    return ExtractedPage(title=_nfc(" ".join(title.split())) if title else None, lines=lines, url=url, site=None,
                         author=None, published_at=None, date_precision=None, method=LEAN_EXTRACTOR)


def _depth_over(tree: HtmlElement, max_depth: int) -> bool:
    depth = 0
    for event, _ in etree.iterwalk(tree, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > max_depth:
            return True
    return False


def _main_text(tree: HtmlElement, url: str | None) -> tuple[str, str] | None:
    try:
        document = trafilatura.bare_extraction(tree, url=url, prune_xpath=CAPTION_XPATH, **TRAFILATURA_OPTIONS)
    except Exception:  # noqa: BLE001 - one malformed page must not fail its whole batch: fall back
        document = None
    if document is not None and (document.text or "").strip():
        return document.text, EXTRACTOR
    _, text, _ = trafilatura.baseline(tree)
    if text.strip():
        return text, FALLBACK_EXTRACTOR
    return None


def _declared_metadata(tree: HtmlElement) -> Document:
    """Meta tags and JSON-LD as trafilatura reads them, without its costly searches.

    trafilatura's whole `extract_metadata` also searches the body for authors (on a copy of
    the whole tree), categories, tags and licences, and htmldate's text for dates: 20 ms per
    page on 300 eval pages against 3.1 ms for all of tinbai's metadata, and a bare
    extraction costs about 30 ms.
    """
    declared = examine_meta(tree)
    try:
        return extract_meta_json(tree, declared)
    except Exception:  # noqa: BLE001 - trafilatura guards this call too; the meta tags still count
        return declared


def _site(declared: Document, tree: HtmlElement) -> str | None:
    site = declared.sitename or extract_sitename(tree)
    return _nfc(site.lstrip("@")) if site else None


def _title(declared: Document, tree: HtmlElement, outlet_keys: set[str]) -> str | None:
    """The headline: the declared or visible one, without a site name joined to either end,
    entities decoded (some pages escape them twice: "5 &quot;bóng hồng&quot;"), and the
    printed `h1` where it is that headline worded as printed or without a section suffix."""
    candidates = [declared.title, extract_title(tree), tree.findtext(".//title"),
                  *(heading.text_content() for heading in tree.iter("h1"))]
    candidates = [_squash(html_entities.unescape(text)) for text in candidates if text and text.strip()]
    if not candidates:
        return None
    # A section label ("XH - CHUYỆN VỤ ÁN") loses to any other candidate that is not one.
    title = next((text for text in candidates if not _is_section_label(text)), candidates[0])
    pieces = _TITLE_SEPARATOR.split(title)  # part, separator, part, ...
    while len(pieces) > 1 and _is_outlet_name(pieces[-1], outlet_keys):
        del pieces[-2:]
    while len(pieces) > 1 and _is_outlet_name(pieces[0], outlet_keys):
        del pieces[:2]
    declared_title = _nfc("".join(pieces))
    return _printed_headline(tree, declared_title) or declared_title


def _with_subheadings(tree: HtmlElement, lines: list[str], rules: CleaningRules) -> list[str]:
    """The article's subheadings trafilatura left out, back in place: an h2-h4 followed (past
    at most a picture) by a paragraph of the extracted text is a heading of that text (a
    round-up's entries on baochinhphu.vn), put before that paragraph."""
    starts = {name_key(line)[:BODY_START_KEY_CHARS]: index for index, line in reversed(list(enumerate(lines)))}
    present = {name_key(line) for line in lines}
    inserts: dict[int, str] = {}
    for heading in tree.xpath("//body//h2 | //body//h3 | //body//h4"):
        text = _squash(_nfc(heading.text_content()))
        key = name_key(text)
        if not key or key in present or len(text.split()) > rules.headline_max_words:
            continue
        index = _next_paragraph(heading, starts)
        if index is not None:
            inserts.setdefault(index, text)
            present.add(key)
    restored = []
    for index, line in enumerate(lines):
        if index in inserts:
            restored.append(inserts[index])
        restored.append(line)
    return restored


def _next_paragraph(heading: HtmlElement, starts: dict[str, int]) -> int | None:
    """The index of the extracted line that the heading's next elements start, two at most
    (a figure may stand between a heading and its first paragraph)."""
    following = heading.getnext()
    for _ in range(2):
        if following is None or not isinstance(following.tag, str):
            return None
        key = name_key(following.text_content())
        if len(key) >= BODY_START_KEY_CHARS:
            return starts.get(key[:BODY_START_KEY_CHARS])
        following = following.getnext()
    return None


def _is_section_label(text: str) -> bool:
    """A few words in capitals: a section's name printed where a headline is expected."""
    letters = [char for char in text if char.isalpha()]
    return (len(text.split()) <= SECTION_LABEL_MAX_WORDS and bool(letters)
            and sum(char.isupper() for char in letters) >= UPPER_CASE_SHARE * len(letters))


def _printed_headline(tree: HtmlElement, title: str) -> str | None:
    """The `h1` that prints the declared title: the title is it plus a suffix after a separator
    ("… trong 30 ngày - Chính trị - Xã hội"), or it shares most of the title's words
    (reworded for the page). Other `h1`s (sidebar and box headings) share none."""
    title_words = set(title.casefold().split())
    for heading in tree.iter("h1"):
        printed = _squash(_nfc(heading.text_content()))
        if not printed or printed == title:
            continue
        if title.startswith(printed) and _TITLE_SEPARATOR.match(title[len(printed):]):
            return printed
        words = set(printed.casefold().split())
        if len(words & title_words) >= HEADLINE_WORDS_SHARED * max(len(words), len(title_words)):
            return printed
    return None


def _author(author: str | None, outlet_keys: set[str], rules: CleaningRules) -> str | None:
    """The people named as authors: not the outlet itself, not a publishing platform
    (`not_authors` of the rules, or a host name: "VCCorp.vn"), and "Theo Hồ Hương" is
    Hồ Hương ("Theo" before an outlet names a source, not an author)."""
    if not author:
        return None
    names = []
    for name in (_squash(part) for part in author.split(";")):
        following = _FOLLOWING.match(name)
        if following:
            name = following["rest"] if byline_name(following["rest"], rules) else ""
        if not name or _is_outlet_name(name, outlet_keys) or _HOST_NAME.search(name):
            continue
        if any(platform in name_key(name) for platform in rules.not_authors):
            continue
        # trafilatura's own rule: a one-word meta author is a handle or an outlet, not a byline.
        if " " in name:
            names.append(name)
    return _nfc("; ".join(names)) if names else None


def _printed_names(tree: HtmlElement, authors: str | None) -> str | None:
    """Several authors as the page prints them ("NHẬT XUÂN - NGHI VŨ", where the meta tag
    says "NHẬT XUÂN;NGHI VŨ"): the text of a short element that is those names, in that order."""
    if not authors or "; " not in authors:
        return authors
    wanted = name_key(authors)
    printed = []
    # Short elements only, filtered by libxml2: the text of every element of a page is quadratic.
    for element in tree.xpath(f"//body//*[string-length(normalize-space()) <= {PRINTED_NAMES_MAX_CHARS}]"):
        if element.tag in ("script", "style"):
            continue
        text = _squash(_nfc(element.text_content()))
        if name_key(text) == wanted:
            printed.append(text)
    # The longest: elements that glue their children's texts drop the separator between names.
    return max(printed, key=len) if printed else authors


def _printed_byline(tree: HtmlElement, outlet_keys: set[str], rules: CleaningRules) -> str | None:
    """A name printed where bylines are, in this order: an element marked as the byline
    (class "author", "byline"), the line right under the headline, and the end signature
    set right-aligned after the text (the Vietnamese press's convention).

    trafilatura drops such elements from the text (its author-box rule), so the cleaner
    never sees them. Comment authors are not bylines; a one-word text is a label
    ("Autoren", "Redaktion") or a handle more often than a name.
    """
    for xpath, last_first in ((_BYLINE_XPATH, False), (_UNDER_HEADLINE_XPATH, False), (_SIGNATURE_XPATH, True)):
        elements = tree.xpath(xpath)
        for element in reversed(elements) if last_first else elements:
            text = _BYLINE_LABEL.sub("", _squash(_nfc(element.text_content())))
            if len(text.split()) >= 2 and byline_name(text, rules):
                author = _author(text, outlet_keys, rules)
                if author:
                    return author
    return None


def _outlet_keys(site: str | None, url: str | None) -> set[str]:
    """Folded forms of the outlet's names: the site name and the host's main label."""
    keys = {name_key(site)} if site else set()
    host = host_of(url)
    if host:
        labels = [label for label in host.split(".") if label not in ("www", "m", "amp")]
        if labels:
            keys.add(name_key(labels[0]))
    return {key for key in keys if len(key) >= 3}


def _is_outlet_name(name: str, outlet_keys: set[str]) -> bool:
    """'Báo Tuổi Trẻ', 'TUOI TRE ONLINE', 'tuoitre.vn' for the site 'Tuổi Trẻ' on tuoitre.vn."""
    key = name_key(name)
    return bool(key) and any(outlet in key or (len(key) >= 3 and key in outlet) for outlet in outlet_keys)


def _descriptions(tree: HtmlElement, declared: Document, json_ld: list[dict]) -> list[str]:
    found = [declared.description, *tree.xpath(_DESCRIPTION_META), *(item.get("description") for item in json_ld)]
    unique = dict.fromkeys(_squash(_nfc(value)) for value in found if isinstance(value, str))
    return [value for value in unique if value]


def _printed_summary(tree: HtmlElement, descriptions: list[str], first_paragraph: str, outlet_keys: set[str],
                     rules: CleaningRules) -> str | None:
    """The sapo: the text of an element, before the body's first paragraph, that prints
    one of the page's descriptions and reads as a lead.

    Only paragraphs and headings, or elements whose class names a lead, are looked at. A
    description that is not printed on the page is not article text; one printed after
    the body starts is an author bio or a teaser, one without a sentence a site motto.
    """
    body_start = name_key(first_paragraph)[:BODY_START_KEY_CHARS]
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag not in _SAPO_TAGS and not _SAPO_CLASS.search(element.get("class", "")):
            continue
        text = _squash(_nfc(element.text_content()))
        if name_key(text).startswith(body_start):
            return None
        if _is_lead(text, rules) and any(_same_summary(text, description, outlet_keys) for description in descriptions):
            return text
    return None


def _is_lead(text: str, rules: CleaningRules) -> bool:
    return len(text.split()) >= MIN_SAPO_WORDS and not is_headline_like(text, rules)


def _same_summary(text: str, description: str, outlet_keys: set[str]) -> bool:
    """The printed text is the description, compared without case, marks and punctuation
    (the page prints "Dân trí Sau khi…" where the meta tag says "(Dân trí) - Sau khi…"):
    the same, or one cut short of the other (descriptions are often truncated), or the
    description is it plus the site's name ("… - VnExpress")."""
    text_key, description_key = name_key(text), name_key(description)
    if len(description_key) < BODY_START_KEY_CHARS:
        return False
    # The description within the printed lead, after at most an outlet's tag ("(Chinhphu.vn) - ").
    if 0 <= text_key.find(description_key) <= LEAD_TAG_KEY_CHARS:
        return True
    if not description_key.startswith(text_key):
        return False
    rest = description_key[len(text_key):]
    return not rest or any(rest.startswith(outlet) or outlet.startswith(rest) for outlet in outlet_keys)


def _body_start(lines: list[str], title: str | None, rules: CleaningRules) -> int:
    """Index of the body's first paragraph: past the title and the headline-like lines
    (section, dateline) that may lead the extracted text and that the cleaner trims."""
    title_key = name_key(title) if title else None
    for index, line in enumerate(lines):
        if not is_headline_like(line, rules) and name_key(line) != title_key:
            return index
    return len(lines)


def _published(tree: HtmlElement, json_ld: list[dict]) -> tuple[datetime, str] | None:
    """A declared publication time: the first declaration that parses, one with a time preferred."""
    candidates = [*tree.xpath(_PUBLISHED_META), *(item.get("datePublished") for item in json_ld)]
    parsed = [moment for moment in map(_parse_timestamp, candidates) if moment]
    timed = [moment for moment in parsed if moment[1] != "day"]
    return (timed or parsed or [None])[0]


def _parse_timestamp(value: object) -> tuple[datetime, str] | None:
    """A declared timestamp (transforms.dates.parse_timestamp), told in Vietnam time."""
    parsed = parse_timestamp(value)
    return (parsed[0].astimezone(VIETNAM), parsed[1]) if parsed else None


def _text_dateline(lines: list[str]) -> tuple[datetime, str] | None:
    """A dateline kept in the text ("Thứ tư, 22/10/2025, 19:25 (GMT+7)"): it has the time,
    htmldate only the day. (Datelines printed elsewhere on the page are not read: Vietnamese
    sites print today's date in their header.)"""
    return next(filter(None, map(parse_dateline, lines)), None)


def _printed_time(tree: HtmlElement, day: datetime | None) -> tuple[datetime, str] | None:
    """The date and time of day the page prints ("08:36 ngày 14/03/2016" in a
    div.publishdate, a <time>), when at most the day was declared: read from elements
    marked as a date, with a time of day, and on the declared day when there is one (a
    site's header prints today's date)."""
    for element in tree.xpath(_PRINTED_DATE_XPATH):
        # The separator after a byline in the same row goes: " - 07/03/2026 08:47" (held-out baodautu.vn page).
        printed = parse_dateline(_LEADING_MARKS.sub("", _squash(element.text_content())))
        if printed and printed[1] != "day" and (day is None or printed[0].date() == day.date()):
            return printed
    return None


def _htmldate_day(tree: HtmlElement, url: str | None) -> tuple[datetime, str] | None:
    found = find_date(tree, url=url, **DATE_PARAMS)
    if not found:
        return None
    try:
        return datetime.fromisoformat(found).replace(tzinfo=VIETNAM), "day"
    except ValueError:
        return None


def _json_ld_objects(tree: HtmlElement) -> list[dict]:
    """The page's JSON-LD objects, in page order: top level, inside lists and @graph."""
    objects = []
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        try:
            pending = [json.loads(script.text or "", strict=False)]
        except ValueError:
            continue
        while pending:
            item = pending.pop(0)
            if isinstance(item, list):
                pending[:0] = item
            elif isinstance(item, dict):
                objects.append(item)
                if isinstance(item.get("@graph"), list):
                    pending[:0] = item["@graph"]
    return objects


def _language(tree: HtmlElement) -> str | None:
    """The page's declared language, primary subtag ("vi-VN" -> "vi")."""
    declared = [tree.get("lang"), *tree.xpath(_LANGUAGE_META)]
    for value in declared:
        if isinstance(value, str) and (match := _LANGUAGE_TAG.match(value)):
            return match.group(1).lower()
    return None


def _squash(text: str) -> str:
    return " ".join(text.split())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
