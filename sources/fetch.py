"""The web fetcher: polite, bounded HTTP GETs that always end in a FetchResult.

Plain requests, no Prefect: the flow decides what to fetch and what to do with the result.
Every outcome, failures included, is a FetchResult; nothing raises to the caller.

What a fetch goes through, hop by hop (redirects are followed here, not by requests, so
that each hop is checked again):

1. the URL: http(s) only; every address its host resolves to must be public (the SSRF guard, sources.guard),
   and the connection itself is checked again once open (a DNS answer that changes
   between the check and the connect cannot sneak a private address in);
2. robots.txt of that host, fetched once per host per Fetcher and obeyed;
3. the host's turn: requests to one host start at least `interval` seconds apart;
   Retry-After and backoff push that host's next turn back;
4. the response: 3xx is followed (capped, loops refused), 304 is "not modified",
   429, 5xx, resets and connect timeouts are retried, other 4xx are rejects; a 2xx must
   have an expected content type and is read as a stream, decoded, and cut off at the size cap.

A server that is slow on purpose is not asked again: a read timeout or a response not
complete within `total_timeout` (headers included: a watchdog shuts the socket) ends the
fetch at once, and after `slow_host_budget` such cuts the rest of that host's URLs are
skipped for this Fetcher's life (a run), so one bad host never stalls a run's end.
"""
from __future__ import annotations

import codecs
import email.utils
import logging
import queue
import re
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

import charset_normalizer
import requests
from courlan import normalize_url
from protego import Protego
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from sources.files import MAX_INPUT_BYTES
from sources.guard import EXCHANGE, CheckedAdapter, Refused, Watchdog, url_refusal
from transforms.dates import utc_now
from transforms.decode import sniff_format
from transforms.urls import host_of

LOGGER = logging.getLogger(__name__)
# urllib3 logs a warning with a traceback for headers it cannot parse: what a watchdog cut
# mid-header (or a broken server) leaves. The fetch's reject already says what happened.
logging.getLogger("urllib3.connection").setLevel(logging.ERROR)

USER_AGENT = "tinbai/0.1 (+https://github.com/tinbai/tinbai)"

Kind = Literal["html", "xml"]  # what the caller wants: a web page, or a feed / sitemap

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Feeds and sitemaps. Servers label RSS every which way; text/plain also covers TXT
# sitemaps, JSON types cover JSON Feed, gzip covers sitemap.xml.gz served as a file.
XML_TYPES = frozenset({
    "application/xml", "text/xml", "application/rss+xml", "application/atom+xml",
    "application/rdf+xml", "application/x-rss+xml", "application/feed+json",
    "application/json", "text/plain", "application/gzip", "application/x-gzip",
})
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip"})
ACCEPT = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "xml": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1",
}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; more is cut off, not refused.
ROBOTS_MAX_BYTES = 500 * 1024
CHUNK_BYTES = 64 * 1024
# Where a page declares its charset: HTML5 <meta charset>, the http-equiv form, or the
# XML declaration. Looked for in the first 4 KiB (the HTML5 prescan reads 1 KiB, but
# Vietnamese sites often put long <head> scripts before the meta).
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.I
)
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
# WHATWG encoding labels: browsers read these as windows-1252, and so must we, or
# bytes 0x80-0x9f (curly quotes, dashes) come out as control characters.
_WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"})


@dataclass(frozen=True)
class FetchSettings:
    """Every knob of the fetcher. Defaults are for crawling news sites politely."""

    connect_timeout: float = 5.0  # seconds to open the TCP (and TLS) connection
    read_timeout: float = 20.0  # seconds of silence allowed between bytes
    # Seconds for one whole response (headers and body): read_timeout alone lets a server
    # that drips a byte every few seconds hold a worker forever.
    total_timeout: float = 60.0
    retries: int = 3  # extra tries after the first, on connection errors, connect timeouts, 429 and 5xx
    backoff_seconds: float = 1.0  # first wait before a retry; doubles each time (1, 2, 4...)
    max_backoff_seconds: float = 30.0
    # A Retry-After longer than this is not waited for: the fetch is rejected instead, so a
    # server asking for an hour neither stalls the run nor gets hammered after 2 minutes.
    max_retry_after: float = 120.0
    max_redirects: int = 5  # what early HTTP specs recommended; news sites need 1 to 3
    max_bytes: int = MAX_INPUT_BYTES  # decoded body bytes; the same cap as local inputs
    user_agent: str = USER_AGENT
    accept_language: str = "vi,en;q=0.5"  # Vietnamese editions first where a site has several
    host_interval: float = 1.0  # seconds between request starts to one host
    # Per-host intervals; a host not listed takes its nearest listed parent domain's
    # ("vnexpress.net" covers "e.vnexpress.net"), else host_interval.
    host_intervals: dict[str, float] = field(default_factory=dict, hash=False)
    # robots.txt Crawl-delay is honoured when longer than the interval, up to this.
    max_crawl_delay: float = 10.0
    allow_private: bool = False  # let private/loopback addresses through (tests, intranets)
    workers: int = 4  # threads of fetch_many; different hosts run in parallel, one host never does
    # Read timeouts and total-timeout cuts one host may cost a run before its remaining URLs
    # are skipped: with the defaults a hostile host costs at most 3 x 60 s, then nothing.
    slow_host_budget: int = 3

    def interval_for(self, host: str) -> float:
        labels = host.lower().split(".")
        for start in range(len(labels)):
            seconds = self.host_intervals.get(".".join(labels[start:]))
            if seconds is not None:
                return seconds
        return self.host_interval


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    kind: Kind = "html"


@dataclass(frozen=True)
class FetchResult:
    """What happened to one requested URL. `reject_reason` is None when the fetch worked."""

    url: str  # as requested
    canonical_url: str  # identity of the article (see canonical_url)
    final_url: str  # the last URL requested, after redirects
    status: int | None  # HTTP status of the last response; None when none came
    content_type: str | None  # media type only, lower case ("text/html")
    charset: str | None  # codec name the body decodes with (see detect_charset)
    etag: str | None
    last_modified: str | None  # the header as sent, to be sent back verbatim
    fetched_at: datetime  # UTC
    body: bytes | None = field(repr=False)  # decoded from Content-Encoding; None unless fetched
    not_modified: bool  # 304: the caller's copy is current
    reject_reason: str | None
    attempts: int  # tries of the URL: 1 plus retries (redirect hops are not tries)
    elapsed: float  # seconds, including waits for the host's turn, backoff and Retry-After

    skipped: bool = False  # not requested: its host had used up its slow budget this run

    @property
    def ok(self) -> bool:
        return self.reject_reason is None


class _TooSlow(Refused):
    """A server too slow on purpose or by accident: never retried, counted against its host."""


class _Retryable(Exception):
    """A failure worth another try; `wait` is the server's Retry-After, if it gave one."""

    def __init__(self, reason: str, status: int | None = None, wait: float | None = None):
        super().__init__(reason)
        self.status = status
        self.wait = wait


def clean_url(url: str) -> str:
    """The URL to request: courlan's normalize_url, fragment dropped, path otherwise as served.

    normalize_url lower-cases scheme and host, strips default ports, collapses '//' and
    percent-encodes the path consistently, sorts the query and removes tracking
    parameters (utm_*, fbclid, gclid, ...: courlan's TRACKERS_RE). Its strict mode is not
    used: it keeps only a short list of query parameters and would merge different
    articles of sites that pass the article id in the query. (Not courlan.clean_url, which
    also jumps to a URL embedded in the query: a share link would become another page.)
    Raises ValueError for a URL that is not absolute http(s).
    """
    return _normalized(url, trailing_slash=True)


def canonical_url(url: str) -> str:
    """The URL an article is known by: clean_url with the trailing slash dropped ('/a/' and '/a' are one page)."""
    return _normalized(url, trailing_slash=False)


def _normalized(url: str, trailing_slash: bool) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    normal = urlsplit(normalize_url(parts._replace(fragment=""), trailing_slash=trailing_slash))
    return urlunsplit(normal._replace(path=normal.path or "/", fragment=""))


def detect_charset(body: bytes, content_type: str | None = None) -> str | None:
    """The codec that decodes the body, for transforms.decode.decode_bytes(body, charset).

    In order: a BOM; UTF-8 when the body is valid UTF-8 with non-ASCII bytes (legacy
    single-byte text practically never forms valid UTF-8 sequences, while servers that
    declare ISO-8859-1 by default for UTF-8 pages are common); the header's charset; the
    page's <meta> or XML declaration; UTF-8 for plain ASCII; charset_normalizer's
    detection. A declared charset counts only when the body decodes with it: older
    Vietnamese sites declare UTF-8 and send Windows-1258. None for bytes no codec fits.
    """
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return name
    is_utf8 = _decodes(body, "utf-8")
    if is_utf8 and not body.isascii():
        return "utf-8"
    labels = []
    header = _CHARSET_PARAM.search(content_type or "")
    if header:
        labels.append(header[1])
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        labels.append((meta[1] or meta[2]).decode("ascii"))
    for label in labels:
        name = _codec_name(label)
        if name and _decodes(body, name):
            return name
    if is_utf8:
        return "utf-8"
    best = charset_normalizer.from_bytes(body).best()
    return _codec_name(best.encoding) if best is not None else None


def _codec_name(label: str) -> str | None:
    label = label.strip().lower()
    if label in _WINDOWS_1252_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decodes(body: bytes, name: str) -> bool:
    try:
        body.decode(name)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# -- per-host turns and robots.txt ------------------------------------------------------


class _HostGate:
    """Request starts to one host at least `interval` apart; backoff pushes the next start back."""

    def __init__(self, interval: float):
        self.interval = interval
        self._next = 0.0
        self._lock = threading.Lock()

    def wait_turn(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)

    def defer(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


@dataclass(frozen=True)
class _Robots:
    parser: Protego | None  # None: no rules (robots.txt absent), everything allowed
    unreachable: str | None = None  # set: robots.txt could not be read, so nothing is allowed


@dataclass
class _Trace:
    """What one fetch has done so far, for the result."""

    url: str
    started: float = field(default_factory=time.monotonic)
    attempts: int = 0
    retries: int = 0
    final_url: str = ""
    status: int | None = None


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    headers: CaseInsensitiveDict
    body: bytes | None


class Fetcher:
    """One HTTP session for a run: pooled connections, robots.txt and host turns remembered.

    Safe to share between threads. Use as a context manager, or call close().
    """

    def __init__(self, settings: FetchSettings | None = None):
        self.settings = settings or FetchSettings()
        self._session = requests.Session()
        # Environment proxies and .netrc are ignored: the SSRF guard checks the address
        # actually connected to, which a proxy would hide.
        self._session.trust_env = False
        adapter = CheckedAdapter(self.settings.allow_private, max(self.settings.workers, 1) * 2)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"User-Agent": self.settings.user_agent,
                                      "Accept-Language": self.settings.accept_language})
        self._lock = threading.Lock()
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._slow_cuts: dict[str, int] = {}  # host -> read timeouts and total-timeout cuts so far

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # -- public --------------------------------------------------------------------

    def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None,
              kind: Kind = "html") -> FetchResult:
        """GET one URL; never raises.

        `kind` says what is wanted: "html" (a page) or "xml" (a feed or sitemap), which
        sets the Accept header and the content types taken. With etag / last_modified
        the GET is conditional, and a 304 gives a result with not_modified=True.
        """
        trace = _Trace(url, final_url=url)
        headers = {"Accept": ACCEPT[kind]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            canonical = canonical_url(url)
        except ValueError:
            scheme = urlsplit(url).scheme.lower()
            reason = (f"refused: scheme '{scheme}' is not http(s)" if scheme not in ("", "http", "https")
                      else f"invalid URL: {url[:200]!r}")
            return self._result(trace, url, reject_reason=reason)
        host = host_of(url)
        if self.host_is_spent(host):
            return self._result(trace, canonical, skipped=True, reject_reason=(
                f"skipped: {host} was too slow {self._slow_cuts[host]} times this run"))
        try:
            response = self._follow(url, headers, kind, trace, obey_robots=True)
            if response.status == 304:
                return self._result(trace, canonical, not_modified=True,
                                    etag=response.headers.get("ETag") or etag,
                                    last_modified=response.headers.get("Last-Modified") or last_modified)
            return self._page_result(trace, canonical, response, kind)
        except Refused as refused:
            return self._result(trace, canonical, reject_reason=str(refused), status=refused.status or trace.status)
        except Exception as error:  # noqa: BLE001 - the contract is a result, never an exception
            LOGGER.exception("unexpected error fetching %s", url)
            return self._result(trace, canonical, reject_reason=f"unexpected error: {type(error).__name__}: {error}")

    def host_is_spent(self, host: str) -> bool:
        with self._lock:
            return self._slow_cuts.get(host, 0) >= self.settings.slow_host_budget

    def _count_slow(self, host: str) -> None:
        with self._lock:
            self._slow_cuts[host] = self._slow_cuts.get(host, 0) + 1

    def fetch_many(self, items: Iterable[FetchRequest | str]) -> Iterator[FetchResult]:
        """Fetch many URLs: one lane per host (serial, spaced), up to `workers` hosts at once.

        Results come as they complete (match them on `.url`). Lanes wait while the caller
        has not taken the last few results, so bodies never pile up in memory; closing
        the iterator early stops the lanes after their current fetch.
        """
        lanes: dict[str, list[FetchRequest]] = {}
        for item in items:
            item = FetchRequest(item) if isinstance(item, str) else item
            lanes.setdefault(host_of(item.url), []).append(item)
        total = sum(len(lane) for lane in lanes.values())
        if not total:
            return
        workers = max(1, min(self.settings.workers, len(lanes)))
        done: queue.Queue[FetchResult] = queue.Queue(maxsize=2 * workers)
        stop = threading.Event()
        with ThreadPoolExecutor(workers, thread_name_prefix="tinbai-fetch") as pool:
            for lane in lanes.values():
                pool.submit(self._run_lane, lane, done, stop)
            try:
                for _ in range(total):
                    yield done.get()
            finally:
                stop.set()

    def _run_lane(self, lane: list[FetchRequest], done: queue.Queue, stop: threading.Event) -> None:
        for item in lane:
            if stop.is_set():
                return
            result = self.fetch(item.url, item.etag, item.last_modified, item.kind)
            while not stop.is_set():
                try:
                    done.put(result, timeout=0.1)
                    break
                except queue.Full:
                    continue

    # -- hops ----------------------------------------------------------------------

    def _follow(self, url: str, headers: dict, kind: Kind | None, trace: _Trace, obey_robots: bool) -> _Response:
        """Request `url`, following redirects; every hop is checked (scheme, addresses, robots)."""
        seen = {(url, self._cookie_state(url))}
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            trace.final_url = current
            reason = url_refusal(current, self.settings.allow_private)
            if reason:
                raise Refused(reason)
            if obey_robots:
                self._check_robots(current)
            response = self._send(current, headers, kind, trace)
            if response.status not in REDIRECT_STATUSES:
                return response
            location = response.headers.get("Location")
            if not location:
                raise Refused(f"HTTP {response.status} redirect without a Location", response.status)
            target = urlunsplit(urlsplit(urljoin(current, location.strip()))._replace(fragment=""))
            # A cookie set on the way (consent and anti-bot bounces: /a -> /check -> /a) makes
            # a revisit legitimate; the same URL with the same cookies is a loop.
            key = (target, self._cookie_state(target))
            if key in seen:
                raise Refused(f"redirect loop ({current} -> {target})", response.status)
            seen.add(key)
            current = target
        raise Refused(f"too many redirects (more than {self.settings.max_redirects})", trace.status)

    def _cookie_state(self, url: str) -> frozenset:
        """The cookies the session holds for this URL's host (other hosts' cookies change concurrently)."""
        host = host_of(url)
        return frozenset((cookie.domain, cookie.path, cookie.name, cookie.value) for cookie in self._session.cookies
                         if host == cookie.domain.lstrip(".") or host.endswith("." + cookie.domain.lstrip(".")))

    def _send(self, url: str, headers: dict, kind: Kind | None, trace: _Trace) -> _Response:
        """One hop, with retries on connection errors, timeouts, 429 and 5xx."""
        gate = self._gate(host_of(url))
        while True:
            gate.wait_turn()
            trace.attempts += 1
            try:
                return self._exchange(url, headers, kind, trace)
            except _TooSlow:
                self._count_slow(host_of(url))
                raise
            except _Retryable as retryable:
                wait = retryable.wait if retryable.wait is not None else self._backoff(trace.retries)
                if retryable.wait is not None and wait > self.settings.max_retry_after:
                    raise Refused(f"{retryable}: server asked to wait {wait:.0f} s, more than the "
                                   f"{self.settings.max_retry_after:.0f} s limit", retryable.status) from None
                if trace.retries >= self.settings.retries:
                    tries = f"{trace.attempts} attempt{'s' if trace.attempts > 1 else ''}"
                    raise Refused(f"{retryable} (after {tries})", retryable.status) from None
                trace.retries += 1
                LOGGER.info("retrying %s in %.1f s: %s", url, wait, retryable)
                gate.defer(wait)

    def _backoff(self, retries_so_far: int) -> float:
        return min(self.settings.max_backoff_seconds, self.settings.backoff_seconds * 2 ** retries_so_far)

    def _exchange(self, url: str, headers: dict, kind: Kind | None, trace: _Trace) -> _Response:
        """Send one request and read the answer; raise _Retryable or Refused on failure."""
        settings = self.settings
        deadline = time.monotonic() + settings.total_timeout
        trace.status = None
        watchdog = EXCHANGE.watchdog = Watchdog(deadline)
        try:
            return self._watched_exchange(url, headers, kind, trace, deadline, watchdog)
        except Exception:
            if watchdog.fired:
                raise _TooSlow(self._too_slow(trace), trace.status) from None
            raise
        finally:
            watchdog.cancel()
            EXCHANGE.watchdog = None

    def _too_slow(self, trace: _Trace) -> str:
        part = "body" if trace.status is not None else "response headers"
        return f"too slow: {part} not complete after {self.settings.total_timeout:g} s"

    def _watched_exchange(self, url: str, headers: dict, kind: Kind | None, trace: _Trace, deadline: float,
                          watchdog: Watchdog) -> _Response:
        settings = self.settings
        try:
            response = self._session.get(url, headers=headers, stream=True, allow_redirects=False,
                                         timeout=(settings.connect_timeout, settings.read_timeout))
        except requests.exceptions.SSLError as error:
            raise Refused(f"TLS error: {_innermost(error)}") from None
        except requests.ConnectTimeout as error:
            raise _Retryable(_network_reason(error, settings)) from None
        except requests.Timeout as error:
            raise _TooSlow(_network_reason(error, settings)) from None
        except requests.ConnectionError as error:
            raise _Retryable(_network_reason(error, settings)) from None
        except requests.RequestException as error:
            raise Refused(f"request failed: {_innermost(error)}") from None
        if watchdog.fired:  # the cut ended the headers: what came is not an answer
            response.close()
            raise _TooSlow(self._too_slow(trace))
        with response:
            trace.status = response.status_code
            status = response.status_code
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status} {response.reason or ''}".strip(), status,
                                 retry_after_seconds(response.headers.get("Retry-After")))
            if status in REDIRECT_STATUSES or status == 304:
                return _Response(url, status, response.headers, None)
            if status >= 400 or status < 200:
                raise Refused(f"HTTP {status} {response.reason or ''}".strip(), status)
            if kind is not None:
                _check_content_type(response.headers.get("Content-Type"), kind)
            limit = ROBOTS_MAX_BYTES if kind is None else settings.max_bytes
            body = _read_body(response, limit, deadline, truncate=kind is None, settings=settings)
            if watchdog.fired:  # a cut without Content-Length reads as a short, complete body
                raise _TooSlow(self._too_slow(trace), status)
            return _Response(url, status, response.headers, body)

    # -- robots.txt ----------------------------------------------------------------

    def _check_robots(self, url: str) -> None:
        robots = self._robots_for(url)
        if robots.unreachable:
            raise Refused(f"disallowed: robots.txt unreachable ({robots.unreachable})")
        if robots.parser is not None and not robots.parser.can_fetch(url, self.settings.user_agent):
            raise Refused("disallowed by robots.txt")

    def _robots_for(self, url: str) -> _Robots:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch per host even when several threads ask at once
            if origin not in self._robots:
                self._robots[origin] = self._load_robots(origin, parts.hostname or "")
            return self._robots[origin]

    def _load_robots(self, origin: str, host: str) -> _Robots:
        """RFC 9309: 4xx (or a redirect maze) means no rules; 5xx or no answer means disallow all."""
        trace = _Trace(origin + "/robots.txt")
        try:
            response = self._follow(trace.url, {"Accept": "text/plain,*/*;q=0.1"}, None, trace, obey_robots=False)
        except Refused as refused:
            if (refused.status is not None and 400 <= refused.status < 500) or "redirect" in str(refused):
                return _Robots(None)
            return _Robots(None, unreachable=str(refused))
        # Protego (Scrapy's parser) reads Google's conventions: `*` and `$` wildcards,
        # longest match wins, Allow over Disallow on a tie. urllib.robotparser reads neither.
        parser = Protego.parse((response.body or b"").decode("utf-8", "replace"))
        delay = parser.crawl_delay(self.settings.user_agent)
        if delay:
            gate = self._gate(host)
            gate.interval = max(gate.interval, min(float(delay), self.settings.max_crawl_delay))
        return _Robots(parser)

    def _gate(self, host: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate(self.settings.interval_for(host))
            return gate

    # -- results -------------------------------------------------------------------

    def _page_result(self, trace: _Trace, canonical: str, response: _Response, kind: Kind) -> FetchResult:
        content_type = response.headers.get("Content-Type")
        media_type = _media_type(content_type)
        body = response.body or b""
        if kind == "xml" and (media_type in GZIP_TYPES or body.startswith(b"\x1f\x8b")):
            body = _gunzip_capped(body, self.settings.max_bytes)
        if media_type is None and not _looks_like(body, kind):
            raise Refused(f"no Content-Type and the body does not look like {_wanted(kind)}", response.status)
        return self._result(trace, canonical, status=response.status, content_type=media_type, body=body,
                            charset=detect_charset(body, content_type),
                            etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"))

    def _result(self, trace: _Trace, canonical: str, **fields) -> FetchResult:
        values = dict(url=trace.url, canonical_url=canonical, final_url=trace.final_url or trace.url,
                      status=trace.status, content_type=None, charset=None, etag=None, last_modified=None,
                      fetched_at=utc_now(), body=None, not_modified=False, reject_reason=None,
                      attempts=trace.attempts, elapsed=round(time.monotonic() - trace.started, 3))
        values.update(fields)
        return FetchResult(**values)


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _wanted(kind: Kind) -> str:
    return "HTML" if kind == "html" else "a feed or sitemap"


def _check_content_type(content_type: str | None, kind: Kind) -> None:
    """Refuse before reading the body when the server says it is something else; a missing type is sniffed later."""
    media_type = _media_type(content_type)
    if media_type is None:
        return
    allowed = HTML_TYPES if kind == "html" else XML_TYPES
    if media_type in allowed or (kind == "xml" and media_type.endswith("+xml")):
        return
    raise Refused(f"unexpected content type '{media_type}' (wanted {_wanted(kind)})")


def _looks_like(body: bytes, kind: Kind) -> bool:
    if kind == "html":
        return sniff_format(body) == "html"
    return body.lstrip(codecs.BOM_UTF8).lstrip()[:1] in (b"<", b"{")


def _read_body(response: requests.Response, limit: int, deadline: float, truncate: bool,
               settings: FetchSettings) -> bytes:
    """The decoded body, read in chunks; more than `limit` bytes is refused (or cut, for robots.txt).

    urllib3 (2.6+) decompresses at most a chunk's worth per read, so a gzip bomb costs
    at most about `limit` bytes of memory before it is stopped. Each read returns what
    one socket read brought (read1), not a full chunk: stream() would wait for 64 KiB, so
    a server dripping a byte a second was never held to the total timeout.
    """
    declared = response.headers.get("Content-Length", "")
    encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
    if declared.isdigit() and int(declared) > limit and not truncate and not encoded:
        raise Refused(f"too large: {declared} bytes, more than the {limit} byte limit", response.status_code)
    chunks, size = [], 0
    try:
        while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                if truncate:
                    return b"".join(chunks)[:limit]
                raise Refused(f"too large: more than {limit} bytes", response.status_code)
            if time.monotonic() > deadline:
                raise _TooSlow(f"too slow: body not complete after {settings.total_timeout:g} s",
                               response.status_code)
    except ReadTimeoutError:
        raise _TooSlow(f"read timeout (no data for {settings.read_timeout:g} s)", response.status_code) from None
    except ProtocolError as error:
        raise _Retryable(f"connection broken while reading the body ({_innermost(error)})",
                         response.status_code) from None
    except DecodeError as error:
        raise Refused(f"cannot decode the body's Content-Encoding ({_innermost(error)})",
                       response.status_code) from None
    return b"".join(chunks)


def _gunzip_capped(data: bytes, limit: int) -> bytes:
    """A gzip file served as such (sitemap.xml.gz), inflated to at most `limit` bytes."""
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, detected
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise Refused(f"not valid gzip ({error})") from None
    if len(out) > limit:
        raise Refused(f"too large: more than {limit} bytes once decompressed")
    return out


def _network_reason(error: Exception, settings: FetchSettings) -> str:
    if isinstance(error, requests.ConnectTimeout):
        return f"connect timeout (after {settings.connect_timeout:g} s)"
    if isinstance(error, requests.Timeout):
        return f"read timeout (no data for {settings.read_timeout:g} s)"
    text = _innermost(error)
    for needle, reason in (("refused", "connection refused"), ("reset", "connection reset"),
                           ("resolution", "cannot resolve host"), ("Name or service", "cannot resolve host")):
        if needle in text:
            return reason
    return f"connection error: {text}"


def _innermost(error: BaseException) -> str:
    """The message of the deepest cause (requests wraps urllib3, which wraps the socket error)."""
    for _ in range(10):
        nested = getattr(error, "reason", None)  # urllib3's MaxRetryError
        if not isinstance(nested, BaseException):
            first = error.args[0] if error.args else None
            nested = first if isinstance(first, BaseException) else error.__cause__ or error.__context__
        if nested is None:
            break
        error = nested
    return str(error)[:200] or type(error).__name__
