"""The requests page (create, close, open again) and the /u/ page without JavaScript:
the form posts, the page answers with the receipt; a password form unlocks it."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.services.accounts import ROLE_USER
from tests.support.sessions import sign_in

BROWSER = {"Accept": "text/html"}
CSRF = "csrf-of-this-session"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def _signed_in(client: FlaskClient, services: Services) -> int:
    user = services.accounts.create_user("asker", "a long password", ROLE_USER)
    sign_in(client, services, user.id, csrf=CSRF)
    return user.id


def _create(client: FlaskClient, **fields: str) -> str:
    form = {"csrf_token": CSRF, "title": "Photos from the trip", **fields}
    done = client.post("/account/requests", data=form, headers=BROWSER)
    assert done.status_code == 303, done.get_data(as_text=True)
    page = client.get("/account/requests", headers=BROWSER).get_data(as_text=True)
    match = re.search(r'<code class="request-link">[^<]*(/u/[A-Za-z0-9]+)</code>', page)
    assert match is not None, page
    return match.group(1)


def test_create_close_and_open_again(client: FlaskClient, services: Services) -> None:
    _signed_in(client, services)
    assert client.post("/account/requests", data={"title": "x"}).status_code == 400  # no CSRF
    path = _create(client, max_files="2", allowed_types="image/*, application/pdf")
    page = client.get("/account/requests", headers=BROWSER).get_data(as_text=True)
    assert "Photos from the trip" in page and "0 / 2" in page and ">open<" in page
    [ident] = re.findall(r'data-request="([A-Za-z0-9]+)"', page)
    closed = client.post(f"/account/requests/{ident}/close", data={"csrf_token": CSRF})
    assert closed.status_code == 303
    assert client.get(path, headers=BROWSER).status_code == 410
    client.post(f"/account/requests/{ident}/open", data={"csrf_token": CSRF})
    assert client.get(path, headers=BROWSER).status_code == 200


def test_a_bad_form_says_why_and_keeps_what_was_typed(
    client: FlaskClient, services: Services
) -> None:
    _signed_in(client, services)
    form = {"csrf_token": CSRF, "title": "Kept title", "allowed_types": "not-a-type"}
    page = client.post("/account/requests", data=form, headers=BROWSER)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'role="alert"' in html and 'value="Kept title"' in html


def test_the_upload_page_works_without_javascript(client: FlaskClient, services: Services) -> None:
    _signed_in(client, services)
    path = _create(client, message="Line one\nline two")
    visitor = client.application.test_client()
    page = visitor.get(path, headers=BROWSER).get_data(as_text=True)
    assert "Photos from the trip" in page and "Line one\nline two" in page
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert csrf is not None
    form = {"file": (io.BytesIO(b"holiday notes\n"), "notes.txt"), "csrf_token": csrf.group(1)}
    sent = visitor.post(path, data=form, headers=BROWSER)
    assert sent.status_code == 201
    html = sent.get_data(as_text=True)
    assert 'class="receipt-name">notes.txt<' in html and "/p/" not in html and "/i/" not in html


def test_a_password_form_unlocks_the_upload_page(client: FlaskClient, services: Services) -> None:
    _signed_in(client, services)
    path = _create(client, password="trip secret")
    visitor = client.application.test_client()
    page = visitor.get(path, headers=BROWSER)
    assert page.status_code == 403 and b"upload link is protected" in page.data
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', page.get_data(as_text=True))
    assert csrf is not None
    wrong = visitor.post(f"{path}/unlock", data={"password": "nope", "csrf_token": csrf.group(1)})
    assert wrong.status_code == 403
    done = visitor.post(
        f"{path}/unlock", data={"password": "trip secret", "csrf_token": csrf.group(1)}
    )
    assert done.status_code == 303
    assert visitor.get(path, headers=BROWSER).status_code == 200


def test_a_signed_in_upload_needs_the_csrf_token(client: FlaskClient, services: Services) -> None:
    _signed_in(client, services)
    path = _create(client)
    form = {"file": (io.BytesIO(b"forged\n"), "forged.txt")}
    forged = client.post(path, data=form, headers={"Accept": "application/json"})
    assert forged.status_code == 400  # a cross-site form cannot use this session
    form = {"file": (io.BytesIO(b"mine\n"), "mine.txt")}
    sent = client.post(
        path, data=form, headers={"Accept": "application/json", "X-CSRF-Token": CSRF}
    )
    assert sent.status_code == 201
