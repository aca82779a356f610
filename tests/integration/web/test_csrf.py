"""Every change the session cookie authenticates needs the session's CSRF token and a
same-site Origin, on every route that reaches the data: the API as much as the pages.
A bearer token needs neither, because a browser never sends one on its own."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from simple_websocket import Client, ConnectionClosed
from werkzeug.serving import BaseWSGIServer, make_server

from pastefile.composition import Services
from pastefile.services.accounts import ROLE_ADMIN, ROLE_USER
from pastefile.web.auth import SESSION_CSRF, SESSION_ID
from tests.support.api import problem
from tests.support.sessions import sign_in
from tests.support.sockets import websocket

CSRF = "a-csrf-token-of-this-session"
EVIL = "http://evil.example"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def admin(services: Services, client: FlaskClient) -> int:
    user = services.accounts.create_user("root", "a long password", ROLE_ADMIN)
    sign_in(client, services, user.id, csrf=CSRF)
    return user.id


def _file(client: FlaskClient) -> dict[str, Any]:
    form = {"file": (io.BytesIO(b"mine\n"), "a.txt"), "csrf_token": CSRF}
    response = client.post("/api/v1/files", data=form, headers={"X-CSRF-Token": CSRF})
    assert response.status_code == 201
    return response.get_json()  # type: ignore[no-any-return]


def _etag(client: FlaskClient, ident: str) -> str:
    return client.get(f"/api/v1/files/{ident}").headers["ETag"]


def test_a_session_cannot_patch_a_file_without_the_token(client: FlaskClient, admin: int) -> None:
    body = _file(client)
    change = {"json": {"filename": "pwned.txt"}, "headers": {"If-Match": _etag(client, body["id"])}}
    problem(client.patch(f"/api/v1/files/{body['id']}", **change), 403, "forbidden")
    assert client.get(f"/api/v1/files/{body['id']}").get_json()["filename"] == "a.txt"
    change["headers"]["X-CSRF-Token"] = CSRF
    assert client.patch(f"/api/v1/files/{body['id']}", **change).status_code == 200


def test_a_session_cannot_delete_a_file_without_the_token(client: FlaskClient, admin: int) -> None:
    body = _file(client)
    problem(client.delete(f"/api/v1/files/{body['id']}"), 403, "forbidden")
    assert client.get(f"/api/v1/files/{body['id']}").status_code == 200
    deleted = client.delete(f"/api/v1/files/{body['id']}", headers={"X-CSRF-Token": CSRF})
    assert deleted.status_code == 204


def test_a_session_cannot_make_or_revoke_tokens_without_the_token(
    client: FlaskClient, services: Services, admin: int
) -> None:
    problem(client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}), 403, "forbidden")
    made = client.post(
        "/api/v1/tokens", json={"name": "x", "scopes": ["read"]}, headers={"X-CSRF-Token": CSRF}
    )
    assert made.status_code == 201
    token_id = made.get_json()["id"]
    problem(client.delete(f"/api/v1/tokens/{token_id}"), 403, "forbidden")


def test_a_forged_request_cannot_make_someone_an_administrator(
    client: FlaskClient, services: Services, admin: int
) -> None:
    mallory = services.accounts.create_user("mallory", "a long password", ROLE_USER)
    etag = client.get(f"/api/v1/users/{mallory.id}").headers["ETag"]
    forged = client.patch(
        f"/api/v1/users/{mallory.id}", json={"roles": 255}, headers={"If-Match": etag}
    )
    problem(forged, 403, "forbidden")
    assert services.accounts.get_user(mallory.id).roles == ROLE_USER


def test_admin_removal_needs_the_token(client: FlaskClient, admin: int) -> None:
    body = _file(client)
    removal = client.post(f"/api/v1/files/{body['id']}/removal", json={"reason": "spam"})
    problem(removal, 403, "forbidden")
    assert client.get(f"/api/v1/files/{body['id']}").status_code == 200


def test_the_token_from_another_site_is_refused(client: FlaskClient, admin: int) -> None:
    body = _file(client)
    headers = {"X-CSRF-Token": CSRF, "Origin": EVIL}
    problem(client.delete(f"/api/v1/files/{body['id']}", headers=headers), 403, "forbidden")
    opaque = {**headers, "Origin": "null"}  # a sandboxed frame or a file:// page
    problem(client.delete(f"/api/v1/files/{body['id']}", headers=opaque), 403, "forbidden")
    # The same host over https (a proxy that ends TLS) is this site.
    own = {"X-CSRF-Token": CSRF, "Origin": "https://localhost"}
    assert client.delete(f"/api/v1/files/{body['id']}", headers=own).status_code == 204


def test_page_forms_need_the_token_too(client: FlaskClient, admin: int) -> None:
    body = _file(client)
    assert client.post("/me/files/delete", data={"ids": body["id"]}).status_code == 400
    assert client.get(f"/api/v1/files/{body['id']}").status_code == 200


def test_a_bearer_token_needs_no_csrf_token(services: Services, client: FlaskClient) -> None:
    user = services.accounts.create_user("bot", "a long password", ROLE_USER)
    principal = services.accounts.session_principal(user)
    _, value = services.accounts.create_token(principal, "ci", ["read", "upload", "delete"])
    bearer = {"Authorization": f"Bearer {value}"}
    made = client.post(
        "/api/v1/files", data={"file": (io.BytesIO(b"ci\n"), "c.txt")}, headers=bearer
    )
    assert made.status_code == 201
    assert (
        client.delete(f"/api/v1/files/{made.get_json()['id']}", headers=bearer).status_code == 204
    )


def test_a_forged_upload_is_taken_as_anonymous(
    client: FlaskClient, services: Services, admin: int
) -> None:
    forged = client.post("/api/v1/files", data={"file": (io.BytesIO(b"x\n"), "x.txt")})
    assert forged.status_code == 201
    assert services.files.get(forged.get_json()["id"]).owner_id is None


# --- the events WebSocket -------------------------------------------------------------


@pytest.fixture
def server(app: Flask) -> Iterator[BaseWSGIServer]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()


def _session_cookie(app: Flask, services: Services, user_id: int) -> str:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    session_id = services.accounts.open_session(user_id)
    return f"session={serializer.dumps({SESSION_ID: session_id, SESSION_CSRF: CSRF})}"


def _socket(server: BaseWSGIServer, cookie: str, origin: str) -> AbstractContextManager[Client]:
    url = f"ws://127.0.0.1:{server.server_port}/api/v1/events"
    return websocket(url, headers={"Cookie": cookie, "Origin": origin})


def test_another_site_cannot_open_the_events_socket_with_the_cookie(
    app: Flask, services: Services, server: BaseWSGIServer
) -> None:
    user = services.accounts.create_user("alice", "a long password", ROLE_USER)
    cookie = _session_cookie(app, services, user.id)
    with _socket(server, cookie, EVIL) as ws, pytest.raises(ConnectionClosed):
        ws.receive(timeout=10)


def test_this_site_opens_the_events_socket_with_the_cookie(
    app: Flask, services: Services, server: BaseWSGIServer
) -> None:
    user = services.accounts.create_user("alice", "a long password", ROLE_USER)
    # This test client sends "Host: 127.0.0.1" (no port), so that is this site's origin here.
    cookie = _session_cookie(app, services, user.id)
    with _socket(server, cookie, "http://127.0.0.1") as ws:
        assert '"hello"' in str(ws.receive(timeout=30))
