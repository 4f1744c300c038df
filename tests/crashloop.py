"""Kill -9 an ingest at random points of its loads, again and again, then check nothing was lost or doubled.

Used by tests/test_crashes.py (a few cycles, in CI) and bench/faults.py (many cycles).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SYLLABLES = (
    "an bình công chính dân đảng điện đường giá hà hội kinh lao mới năm nghị nhà nước phát quốc sản "
    "tế thành thị tỉnh trung tư văn việt xã xây y bộ cán cấp chủ đầu hoạch khoa lực mạnh ngành phòng "
    "quản sách tài tiêu trường vụ bảo cầu chợ dịch giáo hàng học khỏe lúa mưa nông rừng sông thuế"
).split()


@dataclass
class CrashReport:
    cycles: int = 0
    killed_during_batch: list[int] = field(default_factory=list)
    killed_mid_run: int = 0  # kills that found the run still going (not those that came after its last commit)
    partial_batches: int = 0  # raw documents without a member or a reject after a kill
    records: int = 0
    members: int = 0  # articles + duplicates after the final run
    distinct_sources: int = 0
    lost: int = 0
    doubled: int = 0
    interrupted_runs: int = 0


def write_corpus(path: Path, records: int, seed: int = 7) -> int:
    """Distinct synthetic articles (random syllables), one in 50 an exact repost of an earlier one."""
    rng = random.Random(seed)
    texts: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        for number in range(records):
            if number % 50 == 49:
                text = texts[rng.randrange(len(texts))]
            else:
                sentences = [" ".join(rng.choice(SYLLABLES) for _ in range(18)).capitalize() + "." for _ in range(12)]
                text = "\n".join(sentences) + f"\nBài số {number}."
            texts.append(text)
            title = f"Tin {number}: " + " ".join(rng.choice(SYLLABLES) for _ in range(8))
            out.write(json.dumps({"id": f"r{number}", "title": title, "text": text, "site": "thu-nghiem"},
                                 ensure_ascii=False) + "\n")
    return records


def ingest_command(corpus: Path, db: Path, batch_size: int) -> list[str]:
    tinbai = str(Path(sys.executable).parent / "tinbai")
    return [tinbai, "ingest", str(corpus), "--db", str(db), "--batch-size", str(batch_size), "--workers", "1", "-v"]


def kill_during_a_load(command: list[str], env: dict, batch: int, rng: random.Random, timeout: float = 300) -> bool:
    """Start the ingest, wait until it logs batch `batch`, kill -9 it a moment later; False if it finished first."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + timeout
    try:
        for line in process.stderr:
            if f"batch {batch}:" in line:
                time.sleep(rng.uniform(0, 0.4))  # somewhere inside the next transform or load
                os.kill(process.pid, signal.SIGKILL)
                return True
            if time.monotonic() > deadline:
                break
        return False
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()


def after_a_kill(db: Path) -> tuple[int, bool]:
    """(raw documents without a member or a reject, whether the latest run was left running)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        partial = con.execute(
            "SELECT count(*) FROM raw_documents r WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.source = r.source)"
            " AND NOT EXISTS (SELECT 1 FROM duplicates d WHERE d.source = r.source)"
            " AND NOT EXISTS (SELECT 1 FROM rejects j WHERE j.source = r.source)"
        ).fetchone()[0]
        latest = con.execute("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return partial, latest is not None and latest[0] == "running"


def crash_loop(workdir: Path, cycles: int, records: int = 2000, batch_size: int = 200, env: dict | None = None,
               seed: int = 11) -> CrashReport:
    rng = random.Random(seed)
    corpus, db = workdir / "corpus.jsonl", workdir / "crash.duckdb"
    report = CrashReport(records=write_corpus(corpus, records))
    # The kill waits for the run's "batch N:" log lines, whatever the caller's console level.
    environment = {**os.environ, **(env or {}), "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO"}
    command = ingest_command(corpus, db, batch_size)
    batches = -(-records // batch_size)
    for _ in range(cycles):
        batch = rng.randint(1, max(1, batches - 3))  # leave batches to come, so the kill lands mid-run
        if kill_during_a_load(command, environment, batch, rng):
            report.cycles += 1
            report.killed_during_batch.append(batch)
            partial, mid_run = after_a_kill(db)
            report.partial_batches += partial
            report.killed_mid_run += mid_run
    final = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
    if final.returncode != 0:
        raise RuntimeError(f"the run after the crashes failed: {final.stderr.strip().splitlines()[-1:]}")
    con = duckdb.connect(str(db), read_only=True)
    try:
        sources = [source for (source,) in con.execute("SELECT source FROM articles UNION ALL SELECT source FROM duplicates").fetchall()]
        report.interrupted_runs = con.execute("SELECT count(*) FROM runs WHERE status = 'interrupted'").fetchone()[0]
    finally:
        con.close()
    report.members, report.distinct_sources = len(sources), len(set(sources))
    report.doubled = report.members - report.distinct_sources
    report.lost = records - report.distinct_sources
    return report
