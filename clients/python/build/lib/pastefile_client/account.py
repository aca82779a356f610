"""``pf login`` (RFC 8628 device flow, a password exchange, or a token you have),
``pf logout`` and ``pf token create|list|revoke``."""

from __future__ import annotations

import socket
import time
from typing import Any

from pastefile_client import config
from pastefile_client.api import Api, problem
from pastefile_client.errors import AUTH, GENERAL, Failure
from pastefile_client.progress import note

CLIENT_ID = "pf"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_SCOPES = ("read", "upload", "delete")


def token_name() -> str:
    return f"pf on {socket.gethostname()}"[:100]


def exchange_password(
    api: Api, username: str, password: str, scopes: tuple[str, ...]
) -> dict[str, Any]:
    """``POST /api/v1/tokens`` with a username and password: a token for scripts."""
    body = {
        "username": username,
        "password": password,
        "name": token_name(),
        "scopes": list(scopes),
    }
    response = api.request("POST", "/api/v1/tokens", json=body, ok=(401,))
    if response.status_code == 401:
        raise Failure("wrong username or password", AUTH)
    return dict(response.json())


def device_flow(api: Api, scopes: tuple[str, ...], clock: Any = time) -> str:
    """Show a code, wait while the user approves it in the browser, return the token."""
    started = api.request(
        "POST",
        "/oauth/device_authorization",
        ok=(404, 405),
        data={
            "client_id": CLIENT_ID,
            "scope": " ".join(scopes),
            "device_name": socket.gethostname(),
        },
    )
    if started.status_code in (404, 405):
        raise Failure("this server has no device login: use --username (or --token)", GENERAL)
    grant = started.json()
    note(f"Open {grant.get('verification_uri_complete') or grant['verification_uri']}")
    note(f"and check that it shows the code: {grant['user_code']}")
    interval = int(grant.get("interval") or 5)
    deadline = clock.monotonic() + int(grant.get("expires_in") or 600)
    while clock.monotonic() < deadline:
        clock.sleep(interval)
        answer = api.request(
            "POST",
            "/oauth/token",
            ok=(400, 401, 403),
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": grant["device_code"],
                "client_id": CLIENT_ID,
            },
        )
        if answer.status_code == 200:
            return str(answer.json()["access_token"])
        interval = _next_interval(problem(answer).get("error"), interval)
    raise Failure("the code expired before it was approved: run pf login again", AUTH)


def _next_interval(error: str | None, interval: int) -> int:
    if error == "authorization_pending":
        return interval
    if error == "slow_down":
        return interval + 5
    if error == "access_denied":
        raise Failure("the login was denied in the browser", AUTH)
    if error == "expired_token":
        raise Failure("the code expired before it was approved: run pf login again", AUTH)
    raise Failure(f"the server refused the device login: {error or 'unknown error'}", AUTH)


def remember(server: str, token: str, token_id: int | None) -> str:
    """Check the token with ``/api/v1/me`` and save it; returns the username."""
    api = Api(server, token)
    me = api.request("GET", "/api/v1/me").json()
    if token_id is None:
        token_id = _find_token_id(api, token)
    config.save(
        config.Config(
            server=api.server, token=token, token_id=token_id, username=me.get("username")
        )
    )
    return str(me.get("username"))


def _find_token_id(api: Api, token: str) -> int | None:
    """A device-flow token's id, by its prefix, so that ``pf logout`` can revoke it."""
    listed = api.request("GET", "/api/v1/tokens", ok=(401, 403))
    if listed.status_code != 200:
        return None
    for row in listed.json():
        if row.get("prefix") and token.startswith(row["prefix"]) and not row.get("revoked_at"):
            return int(row["id"])
    return None


def logout() -> str:
    saved = config.load()
    if not saved.server or not saved.token:
        raise Failure("not logged in", AUTH)
    if saved.token_id is not None:
        api = Api(saved.server, saved.token)
        try:
            api.request("DELETE", f"/api/v1/tokens/{saved.token_id}", ok=(401, 403, 404))
        except Failure as failed:  # the server is away: forget the token here anyway
            note(f"could not revoke the token on the server ({failed.message})")
    config.forget()
    return saved.server
