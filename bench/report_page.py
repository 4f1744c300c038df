"""Look at `tinbai report --html` as a person would: write the page, render it in headless
Chromium with the network off, and save a screenshot.

    .venv/bin/python bench/report_page.py --db WAREHOUSE [--out DIR] [--since WHEN]

Prints the page's size, the time to build it, and the time Chromium took to draw it.
Chromium is $TINBAI_CHROMIUM, else `chromium` (Debian's package) or `chromium-browser` on
PATH; without one the script says so and exits 0 (nothing to look with).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warehouse.queries import open_read_only  # noqa: E402
from warehouse.report_page import report_page  # noqa: E402
from transforms.dates import parse_moment  # noqa: E402

# Flags the machine needs (closed network, root): no sandbox, no background connections; and
# every host name unresolvable, so the page is proven to draw offline.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND")


def chromium() -> str | None:
    return os.environ.get("TINBAI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(browser: str, page: Path, png: Path, width: int = 1280, height: int = 4200) -> float:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
             "--virtual-time-budget=10000", f"--screenshot={png}", page.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default="/tmp/tinbai-report")
    parser.add_argument("--since", default=None)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = open_read_only(args.db)
    try:
        page = report_page(con, since=parse_moment("--since", args.since))
    finally:
        con.close()
    built = time.perf_counter() - started
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    print(f"page: {path}  {len(page.encode('utf-8')) / 1e6:.2f} MB, built in {built:.2f} s")
    browser = chromium()
    if browser is None:
        print("no Chromium found (set TINBAI_CHROMIUM, or install Debian's chromium): no screenshot taken")
        return 0
    png = out / "report.png"
    seconds = screenshot(browser, path, png)
    print(f"screenshot: {png}  {png.stat().st_size / 1e3:.0f} kB, drawn by {browser} in {seconds:.1f} s (network off)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
