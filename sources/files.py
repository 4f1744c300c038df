"""Local inputs: find the files under the given paths and read them as raw documents.

I/O only, no Prefect: the flow decides batching and retries.
"""
from __future__ import annotations

import gzip
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from transforms.dates import utc_now
from transforms.models import RawDocument, Reject

# Inputs larger than this are refused unread: the largest real page in the corpora here
# is 1.7 MB of HTML and the longest article 19 kB of text, so 10 MiB is generous.
MAX_INPUT_BYTES = 10 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".html", ".htm", ".html.gz", ".htm.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")


@dataclass(frozen=True)
class LocalInput:
    path: Path
    source: str

    @property
    def is_jsonl(self) -> bool:
        return self.path.name.lower().endswith(JSONL_SUFFIXES)


def find_inputs(paths: list[str]) -> tuple[list[LocalInput], list[Reject]]:
    """Files named, and supported files under folders named (sorted); what cannot be used becomes a reject.

    Inside a folder, symbolic links that lead outside it are not followed.
    """
    inputs: list[LocalInput] = []
    rejects: list[Reject] = []
    for given in paths:
        path = Path(given).absolute()
        if not path.exists() and not path.is_symlink():
            rejects.append(Reject(str(path), "read", "no such file or directory"))
        elif path.is_dir():
            _walk(path, inputs, rejects)
        else:
            _add_file(path, inputs, rejects)
    unique = {item.source: item for item in inputs}
    return [unique[source] for source in sorted(unique)], rejects


def _walk(root: Path, inputs: list[LocalInput], rejects: list[Reject]) -> None:
    real_root = root.resolve()
    for directory, folders, files in os.walk(root):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(TEXT_SUFFIXES + JSONL_SUFFIXES):
                continue
            path = Path(directory) / name
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                rejects.append(Reject(str(path), "read", "symbolic link leads outside the folder; not followed"))
                continue
            _add_file(path, inputs, rejects)


def _add_file(path: Path, inputs: list[LocalInput], rejects: list[Reject]) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as error:
        rejects.append(Reject(str(path), "read", _os_reason(error)))
        return
    if not stat.S_ISREG(mode):
        rejects.append(Reject(str(path), "read", "not a regular file (device, FIFO or socket)"))
        return
    inputs.append(LocalInput(path=path, source=str(path)))


def iter_documents(inputs: list[LocalInput]) -> Iterator[RawDocument | Reject]:
    """Raw documents in order, read lazily so a large corpus never sits in memory whole."""
    for item in inputs:
        if item.is_jsonl:
            yield from _read_jsonl(item)
            continue
        try:
            yield RawDocument(item.source, read_capped(item.path), utc_now())
        except InputTooLarge as error:
            yield Reject(item.source, "read", str(error))
        except OSError as error:
            yield Reject(item.source, "read", _os_reason(error))


class InputTooLarge(ValueError):
    pass


def read_capped(path: Path) -> bytes:
    """The file's bytes (gunzipped for .gz), refusing more than MAX_INPUT_BYTES without reading it all."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except (gzip.BadGzipFile, EOFError) as error:
        raise OSError(0, f"not a valid gzip file ({error})") from error
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLarge(f"too large: more than {MAX_INPUT_BYTES} bytes")
    return data


def _read_jsonl(item: LocalInput) -> Iterator[RawDocument | Reject]:
    """One raw document per line; its source is the file and the record's id (or line number).

    A line longer than MAX_INPUT_BYTES is refused and skipped without being held whole.
    """
    opener = gzip.open if item.path.name.lower().endswith(".gz") else open
    try:
        with opener(item.path, "rb") as handle:
            number = 0
            while line := handle.readline(MAX_INPUT_BYTES + 1):
                number += 1
                if len(line) > MAX_INPUT_BYTES and not line.endswith(b"\n"):
                    _skip_rest_of_line(handle)
                    yield Reject(f"{item.source}#{number}", "read", f"line too large: more than {MAX_INPUT_BYTES} bytes")
                elif line.strip():
                    yield _jsonl_document(f"{item.source}#", number, line)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        yield Reject(item.source, "read", _os_reason(error))


def _skip_rest_of_line(handle) -> None:
    while (chunk := handle.readline(MAX_INPUT_BYTES)) and not chunk.endswith(b"\n"):
        pass


def _jsonl_document(prefix: str, number: int, line: bytes) -> RawDocument | Reject:
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        return Reject(f"{prefix}{number}", "parse", f"malformed JSON line: {error}")
    source = f"{prefix}{record.get('id') or number}"
    return RawDocument(source, line.rstrip(b"\n"), utc_now(), record=record)


def _os_reason(error: Exception) -> str:
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, FileNotFoundError):
        return "no such file or directory"
    return getattr(error, "strerror", None) or str(error)
