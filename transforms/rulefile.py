"""Reading a rule file (TOML): one loader for every rule table tinbai has.

A rule file declares a `version`; the version stamped on what it shaped is that
declaration plus a digest of the file's bytes, so an edit that forgets to bump the
declared version still tells `reprocess` which articles are out of date.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import tomllib
from pathlib import Path
from typing import Callable, TypeVar

from transforms.errors import TinbaiError

T = TypeVar("T")
# Hex digits of the file's SHA-256 kept in the version: enough to tell edits apart.
DIGEST_CHARS = 8


class RulesError(TinbaiError, ValueError):
    """A rule file that cannot be used; the message names the file and the entry."""


def read_rule_file(path: Path, compile_rules: Callable[[dict, str], T]) -> T:
    """The file's tables compiled by `compile_rules(data, version)`; RulesError (one line) for any mistake.

    Compiled once per version of the file: a long-lived process (`tinbai serve`) sees an
    edit on its next run, without compiling the patterns again for every document.
    """
    try:
        status = os.stat(path)
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error.strerror or error}") from None
    return _compiled(str(path), status.st_mtime_ns, status.st_size, compile_rules)


@functools.lru_cache(maxsize=16)
def _compiled(path: str, _mtime_ns: int, _size: int, compile_rules: Callable[[dict, str], T]) -> T:
    try:
        content = Path(path).read_bytes()
        data = tomllib.loads(content.decode("utf-8"))
        version = f"{data['version']}+{hashlib.sha256(content).hexdigest()[:DIGEST_CHARS]}"
        return compile_rules(data, version)
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RulesError, TypeError, ValueError, re.error) as error:
        raise RulesError(f"{path}: {error}") from error
    except KeyError as error:
        raise RulesError(f"{path}: missing key {error}") from error
