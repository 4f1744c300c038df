"""Bytes -> text: encoding detection, binary refusal, and format sniffing."""
from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer

# Share of C0 control characters (other than tab/CR/LF/FF) above which decoded "text" is
# really binary. Real text dumps have none; 1% tolerates a few stray bytes.
MAX_CONTROL_SHARE = 0.01

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_HTML_TAGS = re.compile(rb"<(p|div|br|span|a|h[1-6]|article|section|meta|title)\b[^>]*>", re.I)


class DecodeError(ValueError):
    """The bytes are not text tinbai can read; the message is the reject reason."""


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode to NFC text: BOM first, then a declared charset, then UTF-8, then detection."""
    if not data.strip():
        raise DecodeError("empty input")
    text = _decode(data, declared)
    if text.strip() == "":
        raise DecodeError("empty input")
    controls = len(_CONTROL.findall(text))
    if controls > MAX_CONTROL_SHARE * len(text):
        raise DecodeError("binary content (control characters), not text")
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _decode(data: bytes, declared: str | None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace").lstrip("\ufeff")
    if b"\x00" in data[:4096]:
        raise DecodeError("binary content (NUL bytes), not text")
    for encoding in (declared, "utf-8"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise DecodeError("unknown encoding or binary content")
    return str(best)


def sniff_format(data: bytes, name: str = "") -> str:
    """'html' when the bytes look like a web page (by content, whatever the name), else 'text'."""
    head = data[:8192].lstrip(codecs.BOM_UTF8)
    if _HTML_START.match(head):
        return "html"
    if len(_HTML_TAGS.findall(head)) >= 5:
        return "html"
    if name.lower().endswith((".html", ".htm")) and b"<" in head:
        return "html"
    return "text"
