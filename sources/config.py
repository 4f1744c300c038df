"""The sources file: which news sites to read, through which feeds and sitemaps, how politely.

TOML (see docs/sources.example.toml):

    [defaults]
    rate_limit_seconds = 1.0
    user_agent = "tinbai/0.1 (+https://github.com/tinbai/tinbai)"

    [[site]]
    name = "vnexpress"
    feeds = ["https://vnexpress.net/rss/tin-moi-nhat.rss"]
    sitemaps = ["https://vnexpress.net/sitemap.xml"]
    rate_limit_seconds = 2.0        # optional, else the default
    rules = "rules/vnexpress.toml"  # optional, relative to this file
    schedule = "*/30 * * * *"       # optional cron string: its own deployment when served

    [schedules]                     # optional: what `tinbai serve` runs, and when
    timezone = "Asia/Ho_Chi_Minh"   # the default; every cron string is read in it
    ingest = "0 * * * *"            # every site of the file
    revisit = "30 * * * *"          # stored pages checked again for edits and takedowns
    reprocess = "30 2 * * *"        # the warehouse, with the current transforms

Every mistake is a ConfigError with a one-line message naming the file, the line when it
can be found, and the key: `sources.toml:12: site 'vnexpress': 'feeds' must be a list of URLs`.
No Prefect, no network.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transforms.errors import TinbaiError
from sources.fetch import USER_AGENT, FetchSettings
from transforms.urls import host_of, site_of

DEFAULT_RATE_LIMIT_SECONDS = 1.0
# Above this a "rate limit" is surely a typo (minutes for seconds): one request an hour.
MAX_RATE_LIMIT_SECONDS = 3600.0
# [defaults] keys that set a FetchSettings knob of the same meaning, and the bounds that
# catch a typo (minutes for seconds). Unset keys keep the fetcher's own defaults.
FETCH_KEYS = {
    "connect_timeout_seconds": ("connect_timeout", float, 0.1, 300.0),
    "read_timeout_seconds": ("read_timeout", float, 0.1, 600.0),
    "total_timeout_seconds": ("total_timeout", float, 0.1, 3600.0),
    "retries": ("retries", int, 0, 10),
    "backoff_seconds": ("backoff_seconds", float, 0.0, 600.0),
    "max_backoff_seconds": ("max_backoff_seconds", float, 0.0, 3600.0),
    "slow_host_budget": ("slow_host_budget", int, 1, 1000),
}
DEFAULTS_KEYS = ("rate_limit_seconds", "user_agent", *FETCH_KEYS)
SITE_KEYS = ("name", "feeds", "sitemaps", "archives", "rate_limit_seconds", "rules", "schedule")
SCHEDULES_KEYS = ("timezone", "ingest", "revisit", "reprocess")
TOP_KEYS = ("defaults", "site", "schedules")
# The newsroom's clock: "0 6 * * *" means six in the morning in Hà Nội, not in UTC.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Five cron fields of the usual characters, or a macro. Prefect checks the cron string
# fully when the flow is served; this catches the common slips (a missing field, a word).
_CRON_FIELD = re.compile(r"^[0-9*,/?LW#-]+$|^[A-Za-z]{3}([-,][A-Za-z]{3})*$")
_CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly")
# Allowed numbers per field (minute, hour, day of month, month, day of week with 7 = Sunday):
# "0 24 * * *" has the right shape but Prefect refuses it only once the flow is served.
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_DATE_FIELD = re.compile(r"\{date:([^{}]+)\}")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class ConfigError(TinbaiError, ValueError):
    """A sources file that cannot be used; the message is one line: 'file:line: what is wrong'."""


@dataclass(frozen=True)
class Site:
    """One news site: where its article URLs are listed, and how it is treated."""

    name: str
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    rate_limit_seconds: float
    rules: Path | None  # absolute
    schedule: str | None
    # Date-based archive pages, one per day: URL templates with a strftime field,
    # "https://site.vn/tin-tuc/{date:%Y-%m-%d}.html"; read by backfills only.
    archives: tuple[str, ...] = ()

    @property
    def hosts(self) -> tuple[str, ...]:
        """Host names of the site's feeds, sitemaps and archives (the machines asked), in order, each once."""
        return tuple(dict.fromkeys(host_of(url) for url in self._urls))

    @property
    def site_keys(self) -> tuple[str, ...]:
        """Site keys (transforms.urls.site_of, port kept) of its feeds, sitemaps and archives: the pages that are its."""
        return tuple(dict.fromkeys(site_of(url) or "" for url in self._urls))

    @property
    def _urls(self) -> tuple[str, ...]:
        return self.feeds + self.sitemaps + self.archives


@dataclass(frozen=True)
class Schedules:
    """The [schedules] table: cron strings of the served deployments, read in `timezone`."""

    timezone: str = DEFAULT_TIMEZONE
    ingest: str | None = None
    reprocess: str | None = None
    revisit: str | None = None  # hourly suits its checkpoints (1 h, 6 h, 1 d, 3 d, 7 d after first seen)


@dataclass(frozen=True)
class SourcesConfig:
    """A checked sources file: the defaults applied, the sites in file order."""

    path: Path
    rate_limit_seconds: float
    user_agent: str
    sites: tuple[Site, ...]
    schedules: Schedules = Schedules()
    fetch_knobs: dict = field(default_factory=dict, hash=False)  # FetchSettings fields set in [defaults]

    def site(self, name: str) -> Site:
        for site in self.sites:
            if site.name == name:
                return site
        raise KeyError(name)

    def fetch_settings(self, **changes) -> FetchSettings:
        """Fetcher settings with this file's user agent and rate limits; `changes` override any knob."""
        values = dict(user_agent=self.user_agent, host_interval=self.rate_limit_seconds,
                      host_intervals=self.host_intervals(), **self.fetch_knobs)
        return FetchSettings(**{**values, **changes})

    def host_intervals(self) -> dict[str, float]:
        """Seconds between requests per host, for FetchSettings.host_intervals.

        A host shared by two sites gets the slower of their limits.
        """
        intervals: dict[str, float] = {}
        for site in self.sites:
            for host in site.hosts:
                intervals[host] = max(intervals.get(host, 0.0), site.rate_limit_seconds)
        return intervals


def load_sources(path: str | Path) -> SourcesConfig:
    """Read and check a sources file; ConfigError (one line) for anything wrong."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (TOML files are UTF-8)") from None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        if position:
            message = _TOML_POSITION.sub("", message)
            raise ConfigError(f"{path}:{position[1]}: invalid TOML: {message} (column {position[2]})") from None
        raise ConfigError(f"{path}: invalid TOML: {message}") from None
    return _Checker(path, text).sources(parsed)


def archive_url(template: str, day: date) -> str:
    """The archive page of one day: the template's {date:FORMAT} fields filled with strftime."""
    return _DATE_FIELD.sub(lambda field: day.strftime(field[1]), template)


def _is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in text)


def _is_cron_field(field: str, bounds: tuple[int, int]) -> bool:
    """The usual characters, and every number that names a minute, hour, day... within its field's range.

    Steps (after '/') and nth weekdays (after '#') are counts, not field values.
    """
    if not _CRON_FIELD.match(field):
        return False
    low, high = bounds
    for part in field.split(","):
        values = part.split("/")[0].split("#")[0]
        if any(not low <= int(number) <= high for number in re.findall(r"\d+", values)):
            return False
    return True


def _is_timezone(name) -> bool:
    if not isinstance(name, str) or not name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a path, not a key ("../x", "/etc/...")
        return False
    return True


class _Checker:
    """Validates the parsed TOML, finding the line of each offending key in the text."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()

    def sources(self, data: dict) -> SourcesConfig:
        self._unknown_keys(data, TOP_KEYS, "", None)
        defaults = data.get("defaults", {})
        if not isinstance(defaults, dict):
            self._fail("'defaults' must be a table ([defaults])", self._key_line("defaults", None))
        self._unknown_keys(defaults, DEFAULTS_KEYS, "defaults: ", ("defaults", 0))
        rate = self._rate(defaults, DEFAULT_RATE_LIMIT_SECONDS, "defaults: ", ("defaults", 0))
        user_agent = defaults.get("user_agent", USER_AGENT)
        if not isinstance(user_agent, str) or not user_agent.strip() or "\n" in user_agent or "\r" in user_agent:
            self._fail("defaults: 'user_agent' must be a non-empty one-line string",
                       self._key_line("user_agent", ("defaults", 0)))
        sites = data.get("site", [])
        if not isinstance(sites, list) or not all(isinstance(site, dict) for site in sites):
            self._fail("'site' must be an array of tables ([[site]])", self._key_line("site", None))
        if not sites:
            self._fail("no [[site]] entries", None)
        checked = [self._site(index, site, rate) for index, site in enumerate(sites)]
        names = [site.name for site in checked]
        for index, name in enumerate(names):
            if name in names[:index]:
                self._fail(f"site '{name}': duplicate name", self._key_line("name", ("site", index)))
        return SourcesConfig(self.path, rate, user_agent.strip(), tuple(checked), self._schedules(data),
                             self._fetch_knobs(defaults))

    def _fetch_knobs(self, defaults: dict) -> dict:
        knobs = {}
        for key, (knob, kind, low, high) in FETCH_KEYS.items():
            if key not in defaults:
                continue
            value = defaults[key]
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or (kind is int and not isinstance(value, int)) or not low <= value <= high:
                what = "a whole number" if kind is int else "a number of seconds"
                self._fail(f"defaults: '{key}' must be {what} from {low:g} to {high:g}",
                           self._key_line(key, ("defaults", 0)))
            knobs[knob] = kind(value)
        return knobs

    def _schedules(self, data: dict) -> Schedules:
        schedules = data.get("schedules", {})
        if not isinstance(schedules, dict):
            self._fail("'schedules' must be a table ([schedules])", self._key_line("schedules", None))
        table = ("schedules", 0)
        self._unknown_keys(schedules, SCHEDULES_KEYS, "schedules: ", table)
        timezone = schedules.get("timezone", DEFAULT_TIMEZONE)
        if not _is_timezone(timezone):
            self._fail(f"schedules: 'timezone' must be an IANA time zone name (e.g. \"{DEFAULT_TIMEZONE}\"), "
                       f"not {timezone!r}", self._key_line("timezone", table))
        return Schedules(timezone, self._cron(schedules, "ingest", "schedules: ", table),
                         self._cron(schedules, "reprocess", "schedules: ", table),
                         self._cron(schedules, "revisit", "schedules: ", table))

    def _site(self, index: int, site: dict, default_rate: float) -> Site:
        table = ("site", index)
        name = site.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            where = f"site #{index + 1}: "
            problem = "missing 'name'" if name is None else "'name' must be letters, digits, '.', '_' or '-'"
            self._fail(where + problem, self._key_line("name", table) if name is not None else self._table_line(table))
        where = f"site '{name}': "
        self._unknown_keys(site, SITE_KEYS, where, table)
        urls = {key: self._urls(site, key, where, table) for key in ("feeds", "sitemaps", "archives")}
        if not any(urls.values()):
            self._fail(where + "needs at least one URL in 'feeds', 'sitemaps' or 'archives'", self._table_line(table))
        for template in urls["archives"]:
            if archive_url(template, date(2026, 1, 31)) == template:
                self._fail(f"{where}'archives': no {{date:...}} field in {template!r} (e.g. {{date:%Y/%m/%d}})",
                           self._value_line(template, table) or self._key_line("archives", table))
        return Site(name, urls["feeds"], urls["sitemaps"], self._rate(site, default_rate, where, table),
                    self._rules(site, where, table), self._cron(site, "schedule", where, table), urls["archives"])

    def _urls(self, site: dict, key: str, where: str, table: tuple) -> tuple[str, ...]:
        value = site.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self._fail(f"{where}'{key}' must be a list of URLs", self._key_line(key, table))
        for item in value:
            if not _is_http_url(item):
                self._fail(f"{where}'{key}': not an http(s) URL: {item!r}",
                           self._value_line(item, table) or self._key_line(key, table))
        return tuple(dict.fromkeys(value))

    def _rate(self, table_data: dict, default: float, where: str, table: tuple) -> float:
        value = table_data.get("rate_limit_seconds", default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_RATE_LIMIT_SECONDS:
            self._fail(f"{where}'rate_limit_seconds' must be a number of seconds above 0 and at most "
                       f"{MAX_RATE_LIMIT_SECONDS:g}", self._key_line("rate_limit_seconds", table))
        return float(value)

    def _rules(self, site: dict, where: str, table: tuple) -> Path | None:
        value = site.get("rules")
        if value is None:
            return None
        line = self._key_line("rules", table)
        if not isinstance(value, str) or not value.strip():
            self._fail(f"{where}'rules' must be a path (relative to this file)", line)
        rules = (self.path.parent / value).resolve()
        if not rules.is_file():
            self._fail(f"{where}'rules': no such file: {rules}", line)
        return rules

    def _cron(self, table_data: dict, key: str, where: str, table: tuple) -> str | None:
        value = table_data.get(key)
        if value is None:
            return None
        fields = value.split() if isinstance(value, str) else []
        valid = (len(fields) == 1 and fields[0] in _CRON_MACROS) or (
            len(fields) == 5 and all(_is_cron_field(field, bounds) for field, bounds in zip(fields, _CRON_RANGES)))
        if not valid:
            self._fail(f"{where}'{key}' must be a cron string of 5 fields (e.g. \"*/30 * * * *\"), "
                       f"not {value!r}", self._key_line(key, table))
        return " ".join(fields)

    def _unknown_keys(self, data: dict, known: tuple[str, ...], where: str, table: tuple | None) -> None:
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
                self._fail(f"{where}unknown key '{key}' ({hint})", self._key_line(key, table))

    def _fail(self, message: str, line: int | None):
        location = f"{self.path}:{line}" if line else str(self.path)
        raise ConfigError(f"{location}: {message}")

    # -- finding lines -------------------------------------------------------------

    def _table_span(self, table: tuple | None) -> tuple[int, int]:
        """0-based [start, end) line span of a table: ('defaults', 0) or ('site', index); None: the top level."""
        headers = [(number, line.strip()) for number, line in enumerate(self.lines) if line.strip().startswith("[")]
        if table is None:
            return 0, headers[0][0] if headers else len(self.lines)
        name, index = table
        pattern = re.compile(rf"^\[\[\s*{name}\s*\]\]|^\[\s*{name}\s*\]")
        starts = [number for number, header in headers if pattern.match(header)]
        if index >= len(starts):
            return 0, 0
        following = [number for number, _ in headers if number > starts[index]]
        return starts[index], following[0] if following else len(self.lines)

    def _table_line(self, table: tuple) -> int | None:
        start, end = self._table_span(table)
        return start + 1 if end > start else None

    def _key_line(self, key: str, table: tuple | None) -> int | None:
        """The line of `key = ...` in the table; at the top level also of a [key] or [[key]] header."""
        start, end = self._table_span(table)
        pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*[=.]""")
        for number in range(start, end):
            if pattern.match(self.lines[number]):
                return number + 1
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(key)}\s*[\].]")
        for number, line in enumerate(self.lines if table is None else ()):
            if header.match(line):
                return number + 1
        return None

    def _value_line(self, value: str, table: tuple) -> int | None:
        start, end = self._table_span(table)
        for number in range(start, end):
            if f'"{value}"' in self.lines[number] or f"'{value}'" in self.lines[number]:
                return number + 1
        return None
