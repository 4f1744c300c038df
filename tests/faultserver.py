"""A misbehaving Vietnamese news site on 127.0.0.1, for the fault suite.

tests/test_faults.py and bench/faults.py run the `ingest` flow over its RSS feed: 500
article URLs, 10% of them faulty in the ways real sites fail (FAULTS), the rest good pages
whose texts all differ (dedup must merge none of them). The site records every request
(path, User-Agent, time) and how many body bytes each response got out before the client
hung up, so a test checks what the crawler did, not only what it stored; `audit` compares
a warehouse with what the feed should have produced.

Bounded: stalls and drips end as soon as the client hangs up, after `hold_seconds`, or when
the site closes; leaving the context manager shuts every connection and joins every thread.
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import random
import re
import select
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from conftest import encode_cp1258
from sources.config import FETCH_KEYS
from sources.fetch import FetchSettings, canonical_url

SITE_NAME = "Báo Lỗi Mạng"
FEED_PATH = "/rss/tin-moi.rss"
# The wildcard line is Google's syntax (`*` any run, `$` the end): urllib.robotparser ignored it.
ROBOTS = "User-agent: *\nDisallow: /private/\nDisallow: /*.htm$\n"
SIZE_CAP = FetchSettings().max_bytes
HUGE_BYTES = 50 * 1024 * 1024
BOMB_INFLATED_BYTES = 256 * 1024 * 1024  # ~260 KB on the wire
# Fetcher knobs for the sources file's [defaults]: without them a stall costs 20 s and
# a drip 60 s. read_timeout stays above the drip's 1 s gaps, so a drip is caught by
# total_timeout, not as a stall. Every fault is on one host, so its slow budget is lifted
# here (tests/test_fetch.py tests the budget).
FAST_TIMEOUTS = dict(connect_timeout_seconds=2.0, read_timeout_seconds=2.0, total_timeout_seconds=4.0,
                     backoff_seconds=0.05, max_backoff_seconds=0.2, slow_host_budget=100)
RATE_LIMIT_SECONDS = 0.001  # the sources file refuses 0
WAREHOUSE_TABLES = ("raw_documents", "articles", "duplicates", "rejects", "fetch_state")

# Common words of Vietnamese news; pages are random sequences of them, so no two pages
# share runs of four syllables beyond chance.
VOCABULARY = tuple("""
người dân chính quyền thành phố tỉnh huyện xã kinh tế xã hội giáo dục y tế giao thông
nông nghiệp công nghiệp doanh nghiệp ngân hàng thị trường giá cả xăng dầu điện nước
học sinh sinh viên giáo viên bệnh viện bác sĩ công an cảnh sát tòa án quốc hội chính phủ
thủ tướng bộ trưởng chủ tịch đại biểu hội nghị cuộc họp dự án công trình cây cầu con đường
sân bay bến cảng nhà máy khu công nghiệp mùa mưa bão lũ hạn hán nắng nóng rét đậm
tăng giảm ổn định phát triển đầu tư xây dựng sửa chữa kiểm tra xử lý vi phạm quy định
luật pháp chính sách kế hoạch mục tiêu kết quả báo cáo tổng kết đánh giá đề xuất kiến nghị
trong ngoài trên dưới giữa sau trước khi đã đang sẽ vừa mới cũng còn chỉ rất nhiều ít
hơn nhất các những mọi mỗi một hai ba bốn năm sáu bảy tám chín mười trăm nghìn triệu tỷ
đồng tấn hecta ki lô mét buổi sáng chiều tối hôm nay ngày tháng năm tuần quý
hà nội hải phòng đà nẵng huế cần thơ sài gòn nghệ an thanh hóa quảng ninh lâm đồng
gia đình trẻ em phụ nữ người cao tuổi lao động việc làm thu nhập đời sống văn hóa
thể thao bóng đá du lịch lễ hội di tích môi trường rác thải khí hậu rừng biển đảo
an toàn an ninh trật tự phòng chống dịch bệnh vắc xin tiêm chủng khám chữa bệnh
cho biết khẳng định nhấn mạnh yêu cầu đề nghị chỉ đạo triển khai thực hiện hoàn thành
""".split())


def fetch_settings_of(sources_defaults: dict) -> dict:
    """FetchSettings keyword arguments for the sources-file keys the fault site uses."""
    return {FETCH_KEYS[key][0]: value for key, value in sources_defaults.items()}


@dataclass(frozen=True)
class Fault:
    name: str
    count: int  # URLs with this fault in the feed
    stage: str | None  # None: the crawler must recover and load the page; else its reject stage
    reason: str = ""  # pattern the reject reason must match (re.search)


FAULTS = (
    Fault("500-twice-then-200", 5, None),
    Fault("429-retry-after-then-200", 2, None),
    Fault("latin1-header-utf8-body", 4, None),
    Fault("utf8-header-cp1258-body", 4, None),
    Fault("malformed-html", 4, None),
    Fault("always-503", 3, "fetch", r"^HTTP 503 Service Unavailable \(after \d+ attempts\)$"),
    Fault("connection-reset", 3, "fetch", r"^connection reset \(after \d+ attempts\)$"),
    Fault("stall-before-headers", 1, "fetch", r"^read timeout \(no data for [\d.]+ s\)$"),
    Fault("stall-mid-body", 1, "fetch", r"^read timeout \(no data for [\d.]+ s\)$"),
    Fault("drip-1-byte-per-second", 2, "fetch", r"^too slow: body not complete after [\d.]+ s$"),
    Fault("drip-headers", 2, "fetch", r"^too slow: response headers not complete after [\d.]+ s$"),
    Fault("redirect-loop", 3, "fetch", r"^redirect loop \(.+ -> .+\)$"),
    Fault("50mb-declared", 2, "fetch", rf"^too large: {HUGE_BYTES} bytes, more than the {SIZE_CAP} byte limit$"),
    Fault("50mb-streamed", 2, "fetch", rf"^too large: more than {SIZE_CAP} bytes$"),
    Fault("gzip-bomb", 3, "fetch", rf"^too large: more than {SIZE_CAP} bytes$"),
    # The fetcher takes it (its Content-Type says HTML); trafilatura finds no text in it.
    Fault("binary-as-html", 3, "parse", r"^no main text found in the HTML page$"),
    Fault("empty-200", 3, "decode", r"^empty input$"),
    Fault("robots-disallowed", 5, "fetch", r"^disallowed by robots\.txt$"),
    Fault("robots-wildcard", 3, "fetch", r"^disallowed by robots\.txt$"),
)
FAULTS_BY_NAME = {fault.name: fault for fault in FAULTS}


@dataclass(frozen=True)
class Entry:
    """One URL of the feed: a good page (fault None) or a faulty one. Numbers are unique."""

    number: int
    fault: Fault | None

    @property
    def path(self) -> str:
        if self.fault is None:
            return f"/tin/{self.number}.html"
        if self.fault.name == "robots-disallowed":
            return f"/private/{self.number}.html"
        if self.fault.name == "robots-wildcard":
            return f"/bai/{self.number}.htm"
        return f"/loi/{self.fault.name}/{self.number}.html"

    @property
    def should_load(self) -> bool:
        return self.fault is None or self.fault.stage is None


def feed_entries(total: int = 500, seed: int = 20260301) -> list[Entry]:
    """The feed's URLs in feed order: faults (FAULTS' counts) spread among good pages."""
    faulty = [fault for fault in FAULTS for _ in range(fault.count)]
    if total < len(faulty):
        raise ValueError(f"a feed needs at least {len(faulty)} entries for its faults, not {total}")
    kinds = faulty + [None] * (total - len(faulty))
    random.Random(seed).shuffle(kinds)
    return [Entry(number, fault) for number, fault in enumerate(kinds, start=1)]


@functools.cache
def article(number: int) -> tuple[str, tuple[str, ...]]:
    """(title, paragraphs) of page `number`: random words, seeded by the number, so texts differ."""
    rng = random.Random(f"tinbai-fault-page-{number}")

    def sentence(low: int, high: int) -> str:
        words = rng.choices(VOCABULARY, k=rng.randint(low, high))
        return " ".join(words).capitalize()

    title = f"{sentence(6, 10)} số {number}"
    paragraphs = tuple(" ".join(sentence(12, 24) + "." for _ in range(rng.randint(2, 4))) for _ in range(5))
    return title, (f"Bài số {number}: {paragraphs[0]}",) + paragraphs[1:]


def article_html(number: int, charset_meta: bool = True) -> str:
    title, paragraphs = article(number)
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    meta = '<meta charset="utf-8">' if charset_meta else ""
    return (f'<!DOCTYPE html><html lang="vi"><head>{meta}<title>{title} - {SITE_NAME}</title>'
            f'<meta property="og:site_name" content="{SITE_NAME}"></head><body>'
            '<nav><a href="/">Trang chủ</a> <a href="/thoi-su">Thời sự</a> <a href="/kinh-te">Kinh tế</a></nav>'
            f"<article><h1>{title}</h1>{body}</article>"
            '<div class="related"><h3>Tin liên quan</h3><ul><li><a href="/tin/1.html">Tin khác</a></li></ul></div>'
            f"<footer>© 2026 {SITE_NAME}. Ghi rõ nguồn khi phát hành lại.</footer></body></html>")


def malformed_html(number: int) -> str:
    """Unclosed <p>, <div> and <b>, a stray </span>, unquoted attributes, no </body></html>."""
    title, paragraphs = article(number)
    first, *rest = paragraphs
    return (f"<html lang=vi><head><meta charset=utf-8><title>{title} - {SITE_NAME}</title><body>"
            f"<div class=noi-dung><h1>{title}</h1><p>{first}<div><b>{rest[0]}</span><p>"
            + "<p>".join(rest[1:]))


@functools.cache
def gzip_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"<p>" + bytes(1024 * 1024 - 3)
    parts = [packer.compress(block) for _ in range(BOMB_INFLATED_BYTES // len(block))]
    return b"".join(parts + [packer.flush()])


def binary_body(number: int) -> bytes:
    """A PNG's signature and random bytes, as an image server mislabelled as a page sends it."""
    return b"\x89PNG\r\n\x1a\n" + random.Random(number).randbytes(8192)


@dataclass(frozen=True)
class RequestRecord:
    path: str
    user_agent: str | None
    at: float  # time.monotonic()


class FaultSite:
    """The site; use as a context manager (`with FaultSite() as site:`)."""

    def __init__(self, total: int = 500, hold_seconds: float = 20.0):
        self.entries = feed_entries(total)
        self.by_path = {entry.path: entry for entry in self.entries}
        self.hold_seconds = hold_seconds  # longest a stall or drip holds a connection the client keeps open
        self.requests: list[RequestRecord] = []
        self.body_bytes_sent: Counter = Counter()  # path -> body bytes written
        self.closing = threading.Event()
        self._hits: Counter = Counter()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "FaultSite":
        gzip_bomb()  # built before the clock of any test starts
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-site", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.closing.set()
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wakes handlers waiting on idle keep-alive connections
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()  # joins every handler thread
        self._thread.join()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def feed_url(self) -> str:
        return self.base_url + FEED_PATH

    def url(self, entry: Entry) -> str:
        return self.base_url + entry.path

    def write_sources(self, path: Path) -> Path:
        """A sources file naming the site's feed, with the fastest rate limit it accepts."""
        knobs = "".join(f"{key} = {value}\n" for key, value in FAST_TIMEOUTS.items())
        path.write_text(f'[defaults]\nrate_limit_seconds = {RATE_LIMIT_SECONDS}\n{knobs}\n'
                        f'[[site]]\nname = "bao-loi-mang"\nfeeds = ["{self.feed_url}"]\n', encoding="utf-8")
        return path

    def feed(self) -> bytes:
        items = "".join(f"<item><title>{article(entry.number)[0]}</title><link>{self.url(entry)}</link></item>"
                        for entry in self.entries)
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{SITE_NAME}</title>'
                f"<link>{self.base_url}/</link>{items}</channel></rss>").encode()

    def _record(self, path: str, user_agent: str | None) -> int:
        """Log a request; returns how many times this path has been asked for, this one included."""
        with self._lock:
            self.requests.append(RequestRecord(path, user_agent, time.monotonic()))
            self._hits[path] += 1
            return self._hits[path]

    def _count_sent(self, path: str, size: int) -> None:
        with self._lock:
            self.body_bytes_sent[path] += size


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handlers: they all end by themselves
    site: FaultSite

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # a client hanging up is no error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as news sites serve
    timeout = 30  # an idle keep-alive connection is closed after this long
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.site._lock:
            self.server.site._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.site._lock:
            self.server.site._connections.discard(self.connection)
        with contextlib.suppress(OSError, ValueError):  # ValueError: the reset fault closed the socket
            super().finish()

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        site = self.server.site
        self.path_only = urlsplit(self.path).path
        hit = site._record(self.path_only, self.headers.get("User-Agent"))
        try:
            self._route(site, hit)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client hung up: what the faults are for

    def _route(self, site: FaultSite, hit: int) -> None:
        if self.path_only == "/robots.txt":
            return self._send(ROBOTS.encode(), "text/plain; charset=utf-8")
        if self.path_only == FEED_PATH:
            return self._send(site.feed(), "application/rss+xml; charset=utf-8")
        entry = site.by_path.get(self.path_only)
        if entry is None:
            return self._send(b"<h1>404</h1>", "text/html", status=404)
        if entry.fault is None:
            return self._page(entry.number)
        getattr(self, "_" + entry.fault.name.replace("-", "_"))(entry, hit)

    # -- plain answers ---------------------------------------------------------------

    def _send(self, body: bytes, content_type: str, status: int = 200, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self._write(body)

    def _page(self, number: int) -> None:
        """A good page; every other one gzip-encoded, as most news sites answer."""
        body = article_html(number).encode()
        if number % 2 and "gzip" in self.headers.get("Accept-Encoding", ""):
            return self._send(gzip.compress(body), "text/html; charset=utf-8", Content_Encoding="gzip")
        self._send(body, "text/html; charset=utf-8")

    # -- the faults, one method each (named after Fault.name) -------------------------

    def _500_twice_then_200(self, entry: Entry, hit: int) -> None:
        if hit <= 2:
            return self._send(b"<h1>Internal Server Error</h1>", "text/html", status=500)
        self._page(entry.number)

    def _429_retry_after_then_200(self, entry: Entry, hit: int) -> None:
        if hit == 1:
            return self._send(b"<h1>Too Many Requests</h1>", "text/html", status=429, Retry_After="1")
        self._page(entry.number)

    def _latin1_header_utf8_body(self, entry: Entry, _hit: int) -> None:
        self._send(article_html(entry.number, charset_meta=False).encode(), "text/html; charset=iso-8859-1")

    def _utf8_header_cp1258_body(self, entry: Entry, _hit: int) -> None:
        self._send(encode_cp1258(article_html(entry.number, charset_meta=False)), "text/html; charset=utf-8")

    def _malformed_html(self, entry: Entry, _hit: int) -> None:
        self._send(malformed_html(entry.number).encode(), "text/html")

    def _always_503(self, _entry: Entry, _hit: int) -> None:
        self._send("<h1>Hệ thống đang bảo trì</h1>".encode(), "text/html; charset=utf-8", status=503)

    def _connection_reset(self, _entry: Entry, _hit: int) -> None:
        # SO_LINGER 0 makes close() send RST instead of FIN
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _stall_before_headers(self, _entry: Entry, _hit: int) -> None:
        self._hold(self.server.site.hold_seconds)
        self.close_connection = True

    def _stall_mid_body(self, entry: Entry, _hit: int) -> None:
        body = article_html(entry.number).encode()
        self._headers("text/html; charset=utf-8", len(body))
        self._write(body[: len(body) // 2])
        self._hold(self.server.site.hold_seconds)
        self.close_connection = True

    def _drip_1_byte_per_second(self, entry: Entry, _hit: int) -> None:
        body = article_html(entry.number).encode()
        self._headers("text/html; charset=utf-8", len(body))
        self.close_connection = True
        for index in range(min(len(body), int(self.server.site.hold_seconds))):
            self._write(body[index:index + 1])
            if self._hold(1.0):
                return

    def _drip_headers(self, _entry: Entry, _hit: int) -> None:
        self.close_connection = True
        self._write_raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        for _ in range(int(self.server.site.hold_seconds)):  # a header that never ends
            self._write_raw(b"x")
            if self._hold(0.5):
                return

    def _redirect_loop(self, entry: Entry, _hit: int) -> None:
        target = entry.path if urlsplit(self.path).query else entry.path + "?hop=2"
        self._send(b"", "text/html", status=302, Location=target)

    def _50mb_declared(self, _entry: Entry, _hit: int) -> None:
        self._headers("text/html", HUGE_BYTES)
        self._stream(HUGE_BYTES)

    def _50mb_streamed(self, _entry: Entry, _hit: int) -> None:
        self._headers("text/html", None)  # no length: the body ends when the connection does
        self._stream(HUGE_BYTES)

    def _gzip_bomb(self, _entry: Entry, _hit: int) -> None:
        self._send(gzip_bomb(), "text/html", Content_Encoding="gzip")

    def _binary_as_html(self, entry: Entry, _hit: int) -> None:
        self._send(binary_body(entry.number), "text/html")

    def _empty_200(self, _entry: Entry, _hit: int) -> None:
        self._send(b"", "text/html; charset=utf-8")

    def _robots_disallowed(self, entry: Entry, _hit: int) -> None:
        self._page(entry.number)  # a crawler that ignores robots.txt would load it

    _robots_wildcard = _robots_disallowed

    # -- helpers for the slow and the big -----------------------------------------------

    def _headers(self, content_type: str, length: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _write_raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.server.site._count_sent(self.path_only, len(data))

    def _stream(self, size: int) -> None:
        chunk = b"<p>" + b"x" * (64 * 1024 - 3)
        for _ in range(size // len(chunk)):
            if self.server.site.closing.is_set():
                break
            self._write(chunk)
        self.close_connection = True

    def _hold(self, seconds: float) -> bool:
        """Stay silent up to `seconds`; True when the client hung up or the site is closing."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.server.site.closing.is_set():
                return True
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return True
                except OSError:
                    return True
        return False


@dataclass
class Audit:
    """A warehouse against the feed: what is missing, doubled, or rejected for the wrong reason."""

    expected_loaded: int
    loaded: int
    missing: list[str]  # pages that should be articles and are not
    doubled: list[str]  # sources stored more than once (articles and duplicates together)
    wrongly_loaded: list[str]  # faulty pages that became articles
    wrong_titles: list[str]  # loaded pages whose title is not the page's (mis-decoded charset)
    unexplained: list[str]  # faulty pages without their reject (stage and reason), or good ones rejected
    rejects_by_reason: Counter

    @property
    def problems(self) -> dict[str, list[str]]:
        return {name: values for name, values in (
            ("missing", self.missing), ("doubled", self.doubled), ("wrongly loaded", self.wrongly_loaded),
            ("wrong title", self.wrong_titles), ("unexplained", self.unexplained)) if values}


def audit(database: str | Path, site: FaultSite) -> Audit:
    con = duckdb.connect(str(database), read_only=True)
    try:
        titles = con.execute("SELECT source, title FROM articles").fetchall()
        stored = Counter(source for (source,) in con.execute(
            "SELECT source FROM articles UNION ALL SELECT source FROM duplicates").fetchall())
        rejects = con.execute("SELECT source, stage, reason FROM rejects").fetchall()
    finally:
        con.close()
    title_of = dict(titles)
    rejects_of: dict[str, list[tuple[str, str]]] = {}
    for source, stage, reason in rejects:
        rejects_of.setdefault(source, []).append((stage, reason))
    expected = {canonical_url(site.url(entry)): entry for entry in site.entries}
    missing, wrongly_loaded, wrong_titles, unexplained = [], [], [], []
    for source, entry in expected.items():
        if entry.should_load:
            if source not in title_of:
                missing.append(source)
            elif title_of[source] != article(entry.number)[0]:
                wrong_titles.append(f"{source}: {title_of[source]!r}")
            if source in rejects_of:
                unexplained.append(f"{source}: rejected {rejects_of[source]}")
            continue
        if source in stored:
            wrongly_loaded.append(source)
        fault = entry.fault
        found = rejects_of.get(source, [])
        if not any(stage == fault.stage and re.search(fault.reason, reason) for stage, reason in found):
            unexplained.append(f"{source} ({fault.name}): {found or 'no reject'}")
    unexplained += [f"{source}: not in the feed, rejected {found}" for source, found in rejects_of.items()
                    if source not in expected]
    return Audit(
        expected_loaded=sum(entry.should_load for entry in site.entries),
        loaded=sum(1 for source in title_of if source in expected),
        missing=missing,
        doubled=sorted(source for source, count in stored.items() if count > 1),
        wrongly_loaded=wrongly_loaded,
        wrong_titles=wrong_titles,
        unexplained=unexplained,
        rejects_by_reason=Counter(f"{stage}: {reason}" for _, stage, reason in rejects),
    )


def table_counts(database: str | Path) -> dict[str, int]:
    """Rows per warehouse table the crawl writes: a rerun of the same ingest must leave them as they are."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in WAREHOUSE_TABLES}
    finally:
        con.close()
