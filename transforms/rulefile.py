"""Reading a rule file (TOML): one loader for every rule table tinbai has.

A rule file declares a `version`; the version stamped on what it shaped is that
declaration plus a digest of the file's bytes, so an edit that forgets to bump the
declared version still tells `reprocess` which articles are out of date.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Callable, TypeVar

from transforms.errors import TinbaiError

T = TypeVar("T")
# Hex digits of the file's SHA-256 kept in the version: enough to tell edits apart.
DIGEST_CHARS = 8
# Compiled rule tables kept: a run uses two or three files (the default ones, sites' own).
MAX_COMPILED = 16
_COMPILED: dict[tuple, object] = {}


class RulesError(TinbaiError, ValueError):
    """A rule file that cannot be used; the message names the file and the entry."""


def read_rule_file(path: Path, compile_rules: Callable[[dict, str], T]) -> T:
    """The file's tables compiled by `compile_rules(data, version)`; RulesError (one line) for any mistake.

    Compiled once per content of the file (the bytes are read each time: a few kB), so a
    long-lived process (`tinbai serve`) sees an edit on its next run.
    """
    try:
        content = Path(path).read_bytes()
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error.strerror or error}") from None
    digest = hashlib.sha256(content).hexdigest()
    key = (str(path), digest, compile_rules)
    if key not in _COMPILED:
        if len(_COMPILED) >= MAX_COMPILED:
            _COMPILED.clear()
        _COMPILED[key] = _compile(path, content, digest, compile_rules)
    return _COMPILED[key]


def _compile(path: Path, content: bytes, digest: str, compile_rules: Callable[[dict, str], T]) -> T:
    try:
        data = tomllib.loads(content.decode("utf-8"))
        return compile_rules(data, f"{data['version']}+{digest[:DIGEST_CHARS]}")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RulesError, TypeError, ValueError, re.error) as error:
        raise RulesError(f"{path}: {error}") from error
    except KeyError as error:
        raise RulesError(f"{path}: missing key {error}") from error
