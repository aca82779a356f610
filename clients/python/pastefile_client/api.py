"""The HTTP session to one pastefile server, and the translation of every HTTP or network
error into a one-line ``Failure`` (docs/api.md lists the problem codes)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from pastefile_client import __version__
from pastefile_client.errors import AUTH, GENERAL, LIMIT, MISSING, NETWORK, USAGE, Failure

TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def normalize_server(url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; anything else is refused."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # "Invalid IPv6 URL" and the like
        raise Failure(f"bad URL {url!r}: {exc}", USAGE) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Failure(f"bad URL {url!r}: give the server as http(s)://host[:port]", USAGE)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise Failure(f"bad URL {url!r}: the port is not a number", USAGE) from None
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class Api:
    """httpx.Client with the server's base URL and the bearer token, if any."""

    def __init__(self, server: str, token: str | None = None) -> None:
        self.server = normalize_server(server)
        headers = {"User-Agent": f"pastefile-client/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=self.server, headers=headers, timeout=TIMEOUT)

    def url(self, path: str) -> str:
        return self.server + path

    def request(
        self, method: str, path: str, ok: tuple[int, ...] = (), **kw: Any
    ) -> httpx.Response:
        """Send, and raise a ``Failure`` for any error status not in ``ok``."""
        with network_errors(self.server):
            response = self.http.request(method, path, **kw)
        if response.status_code >= 400 and response.status_code not in ok:
            raise http_failure(response)
        return response

    @contextlib.contextmanager
    def stream(self, method: str, path: str, **kw: Any) -> Iterator[httpx.Response]:
        with network_errors(self.server), self.http.stream(method, path, **kw) as response:
            if response.status_code >= 400:
                response.read()
                raise http_failure(response)
            yield response

    def close(self) -> None:
        self.http.close()


@contextlib.contextmanager
def network_errors(server: str) -> Iterator[None]:
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise Failure(f"cannot reach {server}: {_reason(exc)}", NETWORK) from None
    except httpx.TimeoutException:
        raise Failure(f"{server} did not answer in time", NETWORK) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise Failure(f"bad URL: {exc}", USAGE) from None
    except httpx.TransportError as exc:
        raise Failure(f"the connection to {server} failed: {_reason(exc)}", NETWORK) from None


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1]  # "[Errno 111] Connection refused" -> "Connection refused"


def problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def http_failure(response: httpx.Response) -> Failure:
    """One line that says what happened and, where there is one, what to do."""
    status = response.status_code
    body = problem(response)
    code = str(body.get("code", ""))
    detail = str(body.get("detail") or body.get("title") or response.reason_phrase)
    special = _SPECIAL.get(code)
    if special:
        return Failure(special[0].format(detail=detail), special[1])
    if status == 429:
        wait = response.headers.get("Retry-After")
        when = f"; try again in {wait} s" if wait else ""
        return Failure(f"too many requests (429){when}", LIMIT)
    message, exit_code = _BY_STATUS.get(status, ("server error {status}: {detail}", GENERAL))
    return Failure(message.format(status=status, detail=detail), exit_code)


_SPECIAL = {
    "password_required": (
        "this file needs a password: pass --password (or set PF_FILE_PASSWORD)",
        AUTH,
    ),
    "wrong_password": ("wrong password for this file", AUTH),
    "insufficient_scope": ("your token lacks a scope: {detail}", AUTH),
    "quota_exceeded": ("quota exceeded (507): {detail}", LIMIT),
    "quota_too_large": ("larger than your whole quota (413): {detail}", LIMIT),
    "storage_full": ("the server's disk is full (507): {detail}", LIMIT),
    "upload_expired": ("the upload expired on the server (410): {detail}", MISSING),
}

_BY_STATUS = {
    400: ("refused (400): {detail}", GENERAL),
    401: ("not authorised (401): {detail}; run `pf login URL`", AUTH),
    403: ("forbidden (403): {detail}", AUTH),
    404: ("not found (404): {detail}", MISSING),
    410: ("gone (410): deleted, expired or used up", MISSING),
    413: ("too large (413): {detail}", LIMIT),
    415: ("refused type (415): {detail}", GENERAL),
    451: ("unavailable for legal reasons (451): {detail}", MISSING),
    507: ("no room on the server (507): {detail}", LIMIT),
}
