"""What guards one connection of the fetcher: the address it may reach (the SSRF guard,
checked on the URL's host before a request and on the connected socket after) and the time
a whole exchange may take (a watchdog that shuts the socket at its deadline).

Plain sockets and urllib3 classes, no Prefect; sources.fetch mounts `CheckedAdapter` on
its session and arms a `Watchdog` per exchange.
"""
from __future__ import annotations

import functools
import ipaddress
import socket
import threading
import time
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# Cloud metadata endpoints (AWS/GCP/Azure, AWS IPv6, AWS ECS, Alibaba): refused even with
# allow_private, which exists for tests and intranet mirrors, never for these.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

class Refused(Exception):
    """A fetch that must stop; the message is the reject reason."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.status = status


def address_refusal(address: str, allow_private: bool = False) -> str | None:
    """Why a connection to this IP address is refused, or None when it may be used."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    ip = _embedded_ipv4(ip) or ip
    if ip in METADATA_ADDRESSES:
        return f"{_PRIVATE_REFUSAL}cloud metadata address ({address})"
    if allow_private:
        return None
    for kind, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("multicast", ip.is_multicast), ("private", ip.is_private),
                       ("reserved", ip.is_reserved or not ip.is_global)):
        if flag:
            return f"{_PRIVATE_REFUSAL}{kind} address ({address})"
    return None


_PRIVATE_REFUSAL = "refused: host resolves to a "


def is_private_refusal(reason: str) -> bool:
    """A reject that --allow-private would have let through (cloud metadata never is)."""
    return reason.startswith(_PRIVATE_REFUSAL) and not reason.startswith(_PRIVATE_REFUSAL + "cloud metadata")


def _embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64): ::ffff:127.0.0.1 is loopback."""
    if ip.version == 4:
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def url_refusal(url: str, allow_private: bool = False) -> str | None:
    """Why this URL may not be fetched (scheme, or any address its host resolves to), or None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"refused: scheme '{scheme}' is not http(s)"
    try:
        host, port = parts.hostname, parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return "invalid URL: bad port"
    if not host:
        return "invalid URL: no host"
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        return f"cannot resolve host '{host}' ({error})"
    for info in infos:
        reason = address_refusal(info[4][0], allow_private)
        if reason:
            return reason
    return None


class _PeerCheck:
    """Mixed into urllib3's connections: refuse the socket if the peer's address is not allowed.

    The URL check resolves the host before the request; urllib3 resolves it again to
    connect. Checking the connected socket closes the gap a DNS answer that changes in
    between (DNS rebinding) would leave.
    """

    allow_private = False

    def getresponse(self, *args, **kwargs):
        watchdog = getattr(EXCHANGE, "watchdog", None)
        if watchdog is not None and self.sock is not None:
            watchdog.arm(self.sock)
        return super().getresponse(*args, **kwargs)

    def _new_conn(self):
        sock = super()._new_conn()
        reason = address_refusal(sock.getpeername()[0], self.allow_private)
        if reason:
            sock.close()
            raise Refused(reason)  # not an OSError: urllib3 must not retry or wrap it
        return sock


@functools.cache
def _guarded_pool_classes(allow_private: bool) -> dict[str, type]:
    classes = {}
    for scheme, pool, connection in (("http", HTTPConnectionPool, HTTPConnection),
                                     ("https", HTTPSConnectionPool, HTTPSConnection)):
        checked = type(f"Checked{connection.__name__}", (_PeerCheck, connection), {"allow_private": allow_private})
        classes[scheme] = type(f"Checked{pool.__name__}", (pool,), {"ConnectionCls": checked})
    return classes


class CheckedAdapter(HTTPAdapter):
    def __init__(self, allow_private: bool, pool_size: int):
        self._allow_private = allow_private
        super().__init__(pool_connections=32, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _guarded_pool_classes(self._allow_private)


EXCHANGE = threading.local()  # the fetching thread's current Watchdog


class Watchdog:
    """Cuts one exchange at its deadline by shutting its socket down.

    Timeouts on the socket bound each read; only this bounds the whole answer, headers
    included, against a server that drips a byte now and then.
    """

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired = False
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def arm(self, sock: socket.socket) -> None:
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._cut, (sock,))
                self._timer.daemon = True
                self._timer.start()

    def _cut(self, sock: socket.socket) -> None:
        self.fired = True
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: the exchange ended on its own

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
