"""The sources file: the documented example loads; every mistake is one line naming file, line and key."""
from __future__ import annotations

from pathlib import Path

import pytest

from sources.config import ConfigError, Schedules, load_sources
from sources.fetch import USER_AGENT

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "sources.example.toml"

GOOD = """\
[defaults]
rate_limit_seconds = 0.5

[[site]]
name = "vnexpress"
feeds = ["https://vnexpress.net/rss/tin-moi-nhat.rss"]
rules = "rules/vnexpress.toml"
schedule = "*/30 * * * *"

[[site]]
name = "nhandan"
sitemaps = [
    "https://nhandan.vn/sitemaps/newsindex.xml",
]
rate_limit_seconds = 3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "vnexpress.toml").write_text('version = "1"\n', encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_sources(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(str(tmp_path / "sources.toml"), "sources.toml")


def test_the_documented_example_loads():
    config = load_sources(EXAMPLE)
    assert [site.name for site in config.sites] == ["vnexpress", "tuoitre", "thanhnien", "vietnamplus", "nhandan"]
    assert config.user_agent == USER_AGENT and config.rate_limit_seconds == 1.0
    vnexpress = config.site("vnexpress")
    assert vnexpress.feeds[0] == "https://vnexpress.net/rss/tin-moi-nhat.rss" and vnexpress.rate_limit_seconds == 2.0
    assert config.site("tuoitre").rate_limit_seconds == 1.0  # the default
    assert config.site("nhandan").feeds == () and config.site("nhandan").schedule == "@hourly"
    assert config.schedules == Schedules("Asia/Ho_Chi_Minh", ingest="0 * * * *", reprocess="30 2 * * *", revisit="30 * * * *")
    assert config.host_intervals()["vnexpress.net"] == 2.0 and config.host_intervals()["www.vietnamplus.vn"] == 1.5
    settings = config.fetch_settings(workers=2)
    assert (settings.user_agent, settings.host_interval, settings.workers) == (USER_AGENT, 1.0, 2)
    assert settings.interval_for("e.vnexpress.net") == 2.0 and settings.interval_for("tuoitre.vn") == 1.0


def test_values_and_the_rules_path_relative_to_the_file(tmp_path):
    config = load_sources(write(tmp_path, GOOD))
    vnexpress, nhandan = config.sites
    assert vnexpress.rules == (tmp_path / "rules" / "vnexpress.toml").resolve()
    assert (vnexpress.rate_limit_seconds, vnexpress.schedule, vnexpress.sitemaps) == (0.5, "*/30 * * * *", ())
    assert (nhandan.rate_limit_seconds, nhandan.rules, nhandan.schedule) == (3.0, None, None)
    assert nhandan.hosts == ("nhandan.vn",) and config.user_agent == USER_AGENT
    assert config.schedules == Schedules(timezone="Asia/Ho_Chi_Minh", ingest=None, reprocess=None)  # none asked for


@pytest.mark.parametrize("old, new, expected", [
    ('feeds = ["https://vnexpress.net/rss/tin-moi-nhat.rss"]', 'feeds = "https://vnexpress.net/rss/a.rss"',
     "sources.toml:6: site 'vnexpress': 'feeds' must be a list of URLs"),
    ('feeds = ["https://vnexpress.net', 'feed = ["https://vnexpress.net',
     "sources.toml:6: site 'vnexpress': unknown key 'feed' (did you mean 'feeds'?)"),
    ('    "https://nhandan.vn/sitemaps/newsindex.xml",', '    "ftp://nhandan.vn/sitemaps/newsindex.xml",',
     "sources.toml:13: site 'nhandan': 'sitemaps': not an http(s) URL: 'ftp://nhandan.vn/sitemaps/newsindex.xml'"),
    ('sitemaps = [\n    "https://nhandan.vn/sitemaps/newsindex.xml",\n]\n', '',
     "sources.toml:10: site 'nhandan': needs at least one URL in 'feeds', 'sitemaps' or 'archives'"),
    ("rate_limit_seconds = 3", 'rate_limit_seconds = 3\narchives = ["https://nhandan.vn/tin-tuc/ngay.html"]',
     "sources.toml:16: site 'nhandan': 'archives': no {date:...} field in 'https://nhandan.vn/tin-tuc/ngay.html'"),
    ('feeds = ["https://vnexpress.net/rss/tin-moi-nhat.rss"]', 'feeds = ["https://vnexpress.net:80a/rss"]',
     "sources.toml:6: site 'vnexpress': 'feeds': not an http(s) URL: 'https://vnexpress.net:80a/rss'"),
    ("rate_limit_seconds = 3", 'rate_limit_seconds = "fast"',
     "sources.toml:15: site 'nhandan': 'rate_limit_seconds' must be a number of seconds above 0 and at most 3600"),
    ("rate_limit_seconds = 0.5", "rate_limit_seconds = 0",
     "sources.toml:2: defaults: 'rate_limit_seconds' must be a number of seconds above 0 and at most 3600"),
    ("rate_limit_seconds = 3", "rate_limit_seconds = true", "sources.toml:15: site 'nhandan': 'rate_limit_seconds'"),
    ("rate_limit_seconds = 0.5", 'rate_limit_seconds = 0.5\nuser_agnet = "x"',
     "sources.toml:3: defaults: unknown key 'user_agnet' (did you mean 'user_agent'?)"),
    ('name = "nhandan"', 'name = "vnexpress"', "sources.toml:11: site 'vnexpress': duplicate name"),
    ('name = "nhandan"', 'name = "nhân dân"', "sources.toml:11: site #2: 'name' must be letters, digits"),
    ('name = "nhandan"\n', '', "sources.toml:10: site #2: missing 'name'"),
    ('schedule = "*/30 * * * *"', 'schedule = "every 30 minutes"',
     "sources.toml:8: site 'vnexpress': 'schedule' must be a cron string of 5 fields"),
    ('rules = "rules/vnexpress.toml"', 'rules = "rules/missing.toml"',
     "sources.toml:7: site 'vnexpress': 'rules': no such file: "),
    ("[defaults]", "[defaults]\n[extra]\nkey = 1", "sources.toml:2: unknown key 'extra' (known keys: defaults, site, schedules)"),
    ('name = "vnexpress"', 'name = "vnexpress', "sources.toml:5: invalid TOML: "),
    ('schedule = "*/30 * * * *"', 'schedule = "0 24 * * *"',
     "sources.toml:8: site 'vnexpress': 'schedule' must be a cron string of 5 fields (e.g. \"*/30 * * * *\"), "
     "not '0 24 * * *'"),
])
def test_mistakes_are_one_line_with_file_line_and_key(tmp_path, old, new, expected):
    assert old in GOOD
    message = error_of(tmp_path, GOOD.replace(old, new, 1))
    assert message.startswith(expected), message


def test_archive_templates_give_one_page_a_day(tmp_path):
    from datetime import date

    from sources.config import archive_url

    text = GOOD + 'archives = ["https://nhandan.vn/{date:%Y}/{date:%m}/{date:%d}/", "https://nhandan.vn/ngay-{date:%d-%m-%Y}"]\n'
    site = load_sources(write(tmp_path, text)).site("nhandan")
    assert [archive_url(template, date(2026, 2, 3)) for template in site.archives] == [
        "https://nhandan.vn/2026/02/03/", "https://nhandan.vn/ngay-03-02-2026"]


def test_toml_syntax_errors_keep_tomllib_line_and_column(tmp_path):
    message = error_of(tmp_path, "[defaults]\nrate_limit_seconds = = 1\n")
    assert message == "sources.toml:2: invalid TOML: Invalid value (column 22)"


@pytest.mark.parametrize("text, expected", [
    ("", "sources.toml: no [[site]] entries"),
    ('site = "vnexpress"\n', "sources.toml:1: 'site' must be an array of tables ([[site]])"),
    ('defaults = 3\n[[site]]\nname = "a"\nfeeds = ["https://a.vn/rss"]\n',
     "sources.toml:1: 'defaults' must be a table ([defaults])"),
    ('[defaults]\nuser_agent = ""\n[[site]]\nname = "a"\nfeeds = ["https://a.vn/rss"]\n',
     "sources.toml:2: defaults: 'user_agent' must be a non-empty one-line string"),
    ('schedules = "hourly"\n[[site]]\nname = "a"\nfeeds = ["https://a.vn/rss"]\n',
     "sources.toml:1: 'schedules' must be a table ([schedules])"),
])
def test_structure_mistakes(tmp_path, text, expected):
    assert error_of(tmp_path, text) == expected


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match=r"sources.toml: cannot read: No such file or directory$"):
        load_sources(tmp_path / "sources.toml")
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[[site]]\nname = "b\xe1o"\n')
    with pytest.raises(ConfigError, match=r"latin.toml:2: not UTF-8 text \(TOML files are UTF-8\)$"):
        load_sources(path)


SCHEDULED = GOOD + """
[schedules]
timezone = "Europe/Paris"
ingest = "0 * * * *"
reprocess = "30 2 * * 1-5"
"""


def test_the_schedules_table(tmp_path):
    config = load_sources(write(tmp_path, SCHEDULED))
    assert config.schedules == Schedules(timezone="Europe/Paris", ingest="0 * * * *", reprocess="30 2 * * 1-5")
    only_ingest = load_sources(write(tmp_path, GOOD + '[schedules]\ningest = "@hourly"\n')).schedules
    assert only_ingest == Schedules(timezone="Asia/Ho_Chi_Minh", ingest="@hourly", reprocess=None)


@pytest.mark.parametrize("old, new, expected", [
    ('ingest = "0 * * * *"', 'ingest = "hourly"',
     "sources.toml:19: schedules: 'ingest' must be a cron string of 5 fields (e.g. \"*/30 * * * *\"), not 'hourly'"),
    ('reprocess = "30 2 * * 1-5"', 'reprocess = "30 2 * * 1-8"',
     "sources.toml:20: schedules: 'reprocess' must be a cron string of 5 fields"),
    ('ingest = "0 * * * *"', "ingest = 60",
     "sources.toml:19: schedules: 'ingest' must be a cron string of 5 fields (e.g. \"*/30 * * * *\"), not 60"),
    ('timezone = "Europe/Paris"', 'timezone = "Asia/Hanoi"',
     "sources.toml:18: schedules: 'timezone' must be an IANA time zone name (e.g. \"Asia/Ho_Chi_Minh\"), "
     "not 'Asia/Hanoi'"),
    ('timezone = "Europe/Paris"', 'timezone = "../../etc/passwd"',
     "sources.toml:18: schedules: 'timezone' must be an IANA time zone name"),
    ('reprocess = "30 2 * * 1-5"', 'reprocess = "30 2 * * 1-5"\nnightly = "0 3 * * *"',
     "sources.toml:21: schedules: unknown key 'nightly' (known keys: timezone, ingest, revisit, reprocess)"),
    ('reprocess = "30 2 * * 1-5"', 'reproces = "30 2 * * 1-5"',
     "sources.toml:20: schedules: unknown key 'reproces' (did you mean 'reprocess'?)"),
    # Below a [[site]] the key belongs to that site: TOML has no way back to the top level.
    ('[schedules]\n', 'schedules = "0 * * * *"\n', "sources.toml:17: site 'nhandan': unknown key 'schedules' "
     "(did you mean 'schedule'?)"),
])
def test_schedules_mistakes_are_one_line_with_file_line_and_key(tmp_path, old, new, expected):
    assert old in SCHEDULED
    message = error_of(tmp_path, SCHEDULED.replace(old, new, 1))
    assert message.startswith(expected), message
