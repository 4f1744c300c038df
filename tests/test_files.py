"""Local inputs at the edges: links out of the folder, FIFOs, devices, unreadable files, oversized lines."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import sources.files as files
from sources.files import find_inputs, iter_documents
from transforms.models import RawDocument, Reject


def names(inputs) -> list[str]:
    return [Path(item.source).name for item in inputs]


def reasons(rejects) -> dict[str, str]:
    return {Path(reject.source).name: reject.reason for reject in rejects}


def test_links_out_of_the_folder_fifos_and_sockets_are_refused_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("mật khẩu", encoding="utf-8")
    folder = tmp_path / "input"
    (folder / "sub").mkdir(parents=True)
    (folder / "bai.txt").write_text("Tiêu đề\nNội dung", encoding="utf-8")
    (folder / "sub" / "hai.txt").write_text("Tiêu đề hai\nNội dung", encoding="utf-8")
    (folder / "ra-ngoai.txt").symlink_to(outside / "secret.txt")
    (folder / "ben-trong.txt").symlink_to(folder / "bai.txt")
    (folder / "thu-muc-ngoai").symlink_to(outside, target_is_directory=True)
    os.mkfifo(folder / "ong.txt")
    inputs, rejects = find_inputs([str(folder)])
    assert names(inputs) == ["bai.txt", "ben-trong.txt", "hai.txt"]
    assert reasons(rejects) == {
        "ra-ngoai.txt": "symbolic link leads outside the folder; not followed",
        "ong.txt": "not a regular file (device, FIFO or socket)",
    }
    documents = list(iter_documents(inputs))  # returns: the FIFO is never opened
    assert all(isinstance(item, RawDocument) for item in documents) and len(documents) == 3


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/urandom"])
def test_devices_named_directly_are_refused(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    inputs, rejects = find_inputs([device])
    assert inputs == [] and [reject.reason for reject in rejects] == ["not a regular file (device, FIFO or socket)"]


def test_a_file_that_cannot_be_read_is_a_reject():
    unreadable = "/proc/self/mem"  # a regular file whose read fails (EIO), even for root
    if not os.path.exists(unreadable):
        pytest.skip("no /proc here")
    inputs, rejects = find_inputs([unreadable])
    assert rejects == []
    [outcome] = list(iter_documents(inputs))
    assert isinstance(outcome, Reject) and outcome.stage == "read" and outcome.reason


def test_an_oversized_json_line_is_refused_and_the_next_lines_still_read(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_INPUT_BYTES", 2000)
    corpus = tmp_path / "corpus.jsonl"
    records = [{"id": "a", "title": "Một", "text": "ngắn"}, {"id": "b", "title": "Hai", "text": "dài " * 5000},
               {"id": "c", "title": "Ba", "text": "ngắn nữa"}]
    corpus.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    inputs, _ = find_inputs([str(corpus)])
    outcomes = list(iter_documents(inputs))
    assert [type(item).__name__ for item in outcomes] == ["RawDocument", "Reject", "RawDocument"]
    assert outcomes[1].source.endswith("#2") and "line too large" in outcomes[1].reason
    assert outcomes[2].record["id"] == "c"
