"""Sessions end for good: after logout the old cookie is worthless, "log out
everywhere" ends every device's session, and the cookie is HttpOnly, SameSite=Lax,
and Secure whenever the site is reached over HTTPS."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.db.users import UserSession
from pastefile.services.accounts import ROLE_USER

BROWSER = {"Accept": "text/html"}
PASSWORD = "correct horse battery"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def alice(services: Services) -> int:
    return services.accounts.create_user("alice", PASSWORD, ROLE_USER).id


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path, headers=BROWSER).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


def _log_in(client: FlaskClient) -> str:
    token = _csrf(client)
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    return response.headers["Set-Cookie"]


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _signed_in(app: Flask, cookie: str) -> bool:
    fresh = app.test_client()
    fresh.set_cookie("session", cookie)
    return fresh.get("/account/tokens", headers=BROWSER).status_code == 200


def test_the_old_cookie_is_worthless_after_logout(
    app: Flask, client: FlaskClient, alice: int
) -> None:
    _log_in(client)
    stolen = _cookie(client)
    assert _signed_in(app, stolen)
    token = _csrf(client, "/account/tokens")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert not _signed_in(app, stolen), "a copy of the cookie no longer signs anyone in"


def test_log_out_everywhere_ends_every_device(
    app: Flask, client: FlaskClient, services: Services, alice: int
) -> None:
    laptop, phone = app.test_client(), app.test_client()
    _log_in(laptop)
    _log_in(phone)
    _log_in(client)
    assert _signed_in(app, _cookie(laptop)) and _signed_in(app, _cookie(phone))
    token = _csrf(client, "/account/tokens")
    assert client.post("/logout/everywhere", data={"csrf_token": token}).status_code == 303
    assert not _signed_in(app, _cookie(laptop)) and not _signed_in(app, _cookie(phone))
    with services.db.read() as session:
        assert session.query(UserSession).filter_by(user_id=alice).count() == 0


def test_the_database_keeps_no_session_id(
    client: FlaskClient, services: Services, alice: int
) -> None:
    _log_in(client)
    with services.db.read() as session:
        stored = [row.id_hash for row in session.query(UserSession).all()]
    assert len(stored) == 1
    cookie = _cookie(client)
    assert stored[0] not in cookie


def test_the_cookie_is_httponly_and_same_site(client: FlaskClient, alice: int) -> None:
    cookie = _log_in(client)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie, "plain HTTP: a Secure cookie would never come back"


def test_the_cookie_is_secure_over_https(app: Flask, alice: int) -> None:
    client = app.test_client()
    https = {"base_url": "https://files.test"}
    page = client.get("/login", headers=BROWSER, **https).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    response = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": found.group(1)},
        **https,
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]
