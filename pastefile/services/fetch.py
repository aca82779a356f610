"""Fetching a file from a URL without becoming a proxy into our own network.

How a fetch of a user's URL stays safe:

* one shared client (connection pools are reused), a bounded number of
  concurrent fetches, connect and read timeouts, retries on connect errors;
* the size limit is enforced while streaming, never after;
* SSRF: the host is resolved once, every address is checked (loopback,
  private, link-local, multicast, reserved, cloud metadata, IPv4-mapped and
  other embedded-IPv4 IPv6 forms), and the connection is pinned to the
  checked address so a second DNS answer cannot swap it (DNS rebinding).
  Each redirect is checked again; only http and https are followed.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from pastefile.errors import FetchFailed, FetchRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Cloud metadata endpoints that are not covered by the link-local check.
_METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_POST_READ = 4096
POOLS_AT_MOST = 16  # connection pools kept, one per host and address


class Sink(Protocol):
    def write(self, data: bytes) -> int: ...


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_redirects: int = 5
    connect_retries: int = 2
    max_concurrent: int = 4
    # Networks an operator trusts despite being private (an intranet, or tests).
    allowed_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Posted:
    status: int
    duration_ms: int


@dataclass
class FetchResult:
    url: str
    filename: str
    size: int
    content_type: str = ""
    redirects: list[str] = field(default_factory=list)


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def refusal_reason(address: IPAddress, allowed: Iterable[str] = ()) -> str | None:
    """Why an address may not be fetched from, or None when it may."""
    for network in allowed:
        if address in ipaddress.ip_network(network, strict=False):
            return None
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = refusal_reason(embedded, allowed)
        return f"embeds {embedded}, which {reason}" if reason else None
    if address in _METADATA:
        return "is a cloud metadata address"
    for attribute in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{attribute}"):
            return f"is a {attribute.replace('_', '-')} address"
    if not address.is_global:
        return "is not a public address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class Fetcher:
    """A shared, SSRF-safe HTTP client. One instance per process."""

    def __init__(self, policy: FetchPolicy | None = None, resolver: Resolver | None = None):
        self.policy = policy or FetchPolicy()
        self.resolve = resolver or system_resolver
        self._slots = threading.BoundedSemaphore(self.policy.max_concurrent)
        self._pools: OrderedDict[tuple[str, str, str, int], urllib3.HTTPConnectionPool] = (
            OrderedDict()
        )
        self._pools_lock = threading.Lock()

    def fetch(self, url: str, sink: Sink) -> FetchResult:
        """Stream ``url`` into ``sink``; the sink enforces the size limit."""
        with self._slots:
            redirects: list[str] = []
            for _ in range(self.policy.max_redirects + 1):
                response = self._request(url)
                location = response.headers.get("Location")
                if response.status in _REDIRECTS and location:
                    _discard(response)
                    url = urljoin(url, location)
                    redirects.append(url)
                    continue
                try:
                    return self._drain(url, response, sink, redirects)
                finally:
                    _discard(response)
            raise FetchFailed(f"more than {self.policy.max_redirects} redirects")

    def check_target(self, url: str) -> None:
        """Refuse a URL this fetcher would refuse to reach (a webhook target at
        registration); the request itself checks again, as DNS answers can change."""
        _scheme, host, port, _target = _split(url)
        self._checked_address(host, port)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Posted:
        """POST ``body`` under the same SSRF rules; redirects are not followed.

        Only the status is kept (at most ``_POST_READ`` bytes of the answer are read).
        """
        started = time.monotonic()
        with self._slots:
            response = self._request(url, "POST", body, headers, connect_retries=0)
            try:
                response.read(_POST_READ)
            except Urllib3Error:
                pass  # the status is what counts
            finally:
                _discard(response)
        return Posted(response.status, int((time.monotonic() - started) * 1000))

    def _request(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        extra: dict[str, str] | None = None,
        connect_retries: int | None = None,
    ) -> urllib3.BaseHTTPResponse:
        scheme, host, port, target = _split(url)
        address = self._checked_address(host, port)
        pool = self._pool(scheme, host, address, port)
        timeout = urllib3.Timeout(
            connect=self.policy.connect_timeout, read=self.policy.read_timeout
        )
        if connect_retries is None:
            connect_retries = self.policy.connect_retries
        retries = urllib3.Retry(
            connect=connect_retries,
            read=0,
            redirect=False,
            status=0,
            backoff_factor=0.2,
        )
        headers = {**(extra or {}), "Host": _host_header(host, port, scheme)}
        headers.setdefault("User-Agent", "pastefile-fetch/1")
        try:
            return pool.urlopen(
                method,
                target,
                body=body,
                headers=headers,
                timeout=timeout,
                retries=retries,
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
        except Urllib3Error as exc:
            raise FetchFailed(f"could not fetch {host}: {exc.__class__.__name__}") from exc

    def _checked_address(self, host: str, port: int) -> str:
        try:
            answers = self.resolve(host, port)
        except (OSError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
            raise FetchFailed(f"cannot resolve {host}") from exc
        if not answers:
            raise FetchFailed(f"cannot resolve {host}")
        # Every answer must be safe: refusing only the first would let an
        # attacker put a private address second and rely on failover.
        for answer in answers:
            reason = refusal_reason(ipaddress.ip_address(answer), self.policy.allowed_networks)
            if reason:
                raise FetchRefused(f"{host} resolves to {answer}, which {reason}")
        return answers[0]

    def _pool(self, scheme: str, host: str, address: str, port: int) -> urllib3.HTTPConnectionPool:
        key = (scheme, host, address, port)
        with self._pools_lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = _new_pool(scheme, host, address, port)
                self._pools[key] = pool
                # A worker fetches from any number of hosts in its life: keep the
                # recently used ones, as urllib3's PoolManager does.
                while len(self._pools) > POOLS_AT_MOST:
                    self._pools.popitem(last=False)[1].close()
            self._pools.move_to_end(key)
            return pool

    def _drain(
        self, url: str, response: urllib3.BaseHTTPResponse, sink: Sink, redirects: list[str]
    ) -> FetchResult:
        if response.status >= 400:
            raise FetchFailed(f"the remote server answered {response.status}")
        size = 0
        try:
            # Small reads, so progress and cancellation are noticed while bytes arrive.
            for chunk in response.stream(64 * 1024):
                size += sink.write(chunk)
        except Urllib3Error as exc:
            raise FetchFailed(f"the download broke off: {exc.__class__.__name__}") from exc
        return FetchResult(
            url=url,
            filename=_filename(url, response.headers.get("Content-Disposition", "")),
            size=size,
            content_type=response.headers.get("Content-Type", ""),
            redirects=redirects,
        )

    def close(self) -> None:
        with self._pools_lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


def _discard(response: urllib3.BaseHTTPResponse) -> None:
    # An unread body (a redirect, an error, an aborted download) must not be
    # left on a pooled connection; closing drops that connection instead.
    response.close()
    response.release_conn()


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "http://[\\", an unclosed IPv6 literal
        raise FetchRefused("the URL cannot be read") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchRefused("only http and https URLs can be fetched")
    if not parts.hostname or parts.username or parts.password:
        raise FetchRefused("the URL needs a host and no credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchRefused("the URL has an invalid port") from exc
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, target


def _new_pool(scheme: str, host: str, address: str, port: int) -> urllib3.HTTPConnectionPool:
    if scheme == "https":
        # Connect to the checked address; verify the certificate for the name.
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            maxsize=2,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(address, port, maxsize=2)


def _host_header(host: str, port: int, scheme: str) -> str:
    default = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    return shown if port == default else f"{shown}:{port}"


def _filename(url: str, disposition: str) -> str:
    if disposition:
        message = Message()
        message["Content-Disposition"] = disposition
        name = message.get_filename()
        if name:
            return name
    tail = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return tail or "download"
