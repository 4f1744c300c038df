"""Host names read from URLs: one reading for every place that needs one.

Two questions are asked of a URL's host, and they differ in the port:
- `host_of`: which machine is asked (politeness gates, robots.txt, the fetcher's lanes,
  the outlet's name): the host name alone, lower case.
- `site_of`: which site an article belongs to (the `site` column when a page names none,
  a sources-file site's rules): the host without "www." and with its port when it is not
  the scheme's default, so two sites served on one machine stay two sites.
"""
from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str | None) -> str:
    """The URL's host name in lower case; '' when it has none or is not a URL."""
    try:
        return (urlsplit(url or "").hostname or "").lower()
    except ValueError:
        return ""


def site_of(url: str | None) -> str | None:
    """The URL's site key: host without 'www.', with a port that is not the scheme's default; None without a host."""
    host = host_of(url).removeprefix("www.")
    if not host:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:  # an IPv6 address, written as in a URL
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return host
