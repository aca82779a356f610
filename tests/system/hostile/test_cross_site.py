"""Another site, with a signed-in user's browser, reaches nothing: not the events WebSocket,
not a change through the API, not a redirect to itself."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
import requests
from simple_websocket import Client, ConnectionClosed

from tests.support.production import ProductionServer, put_file
from tests.support.sockets import websocket

EVIL = "http://evil.example"
PASSWORD = "a long and right password"


@pytest.fixture(scope="module")
def browser(server: ProductionServer) -> requests.Session:
    server.create_user("alice", PASSWORD)
    return server.browser("alice", PASSWORD)


def _events(
    server: ProductionServer, browser: requests.Session, origin: str
) -> AbstractContextManager[Client]:
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    url = f"ws://127.0.0.1:{server.port}/api/v1/events"
    return websocket(url, headers={"Cookie": cookie, "Origin": origin})


def test_the_session_cookie_is_samesite_and_httponly(server: ProductionServer) -> None:
    session, csrf = server.login_form()
    server.create_user("bob", PASSWORD)
    answer = session.post(
        server.url("/login"),
        data={"username": "bob", "password": PASSWORD, "csrf_token": csrf},
        allow_redirects=False,
        timeout=10,
    )
    cookie = answer.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_another_site_cannot_open_the_events_socket(
    server: ProductionServer, browser: requests.Session
) -> None:
    with _events(server, browser, EVIL) as hijack, pytest.raises(ConnectionClosed):
        hijack.receive(timeout=10)


def test_this_site_opens_the_events_socket(
    server: ProductionServer, browser: requests.Session
) -> None:
    # simple-websocket sends "Host: 127.0.0.1" without the port: that is this site here.
    with _events(server, browser, "http://127.0.0.1") as own:
        assert '"hello"' in str(own.receive(timeout=30))


def test_the_cookie_alone_changes_nothing_through_the_api(
    server: ProductionServer, browser: requests.Session
) -> None:
    token = browser.post(
        server.url("/api/v1/tokens"), json={"name": "mine", "scopes": ["upload"]}, timeout=10
    ).json()
    assert "token" not in token, "no token was made without the CSRF token"
    ident = put_file(server, "public.txt", b"not alice's to rename")
    for method, path, body in (
        ("POST", "/api/v1/tokens", {"name": "x", "scopes": ["read"]}),
        ("PATCH", "/api/v1/users/1", {"roles": 255}),
        ("PATCH", f"/api/v1/files/{ident}", {"filename": "renamed.txt"}),
        ("DELETE", f"/api/v1/files/{ident}", None),
    ):
        answer = browser.request(method, server.url(path), json=body, timeout=10)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "CSRF token" in answer.json()["detail"]
    assert requests.get(server.url(f"/i/{ident}"), timeout=10).status_code == 200


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "//evil.example", "/%0a/x", "https://evil.example"]
)
def test_next_never_leaves_the_site(server: ProductionServer, target: str) -> None:
    answer = requests.get(server.url(f"/lang/en?next={target}"), allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith("/") and not location.startswith("//"), location
    assert "evil" not in location
