"""Editing a collection after creation, on every database: its password and download limit
(with title, visibility, expiry) through ``PATCH /api/v1/collections/{id}`` (If-Match), by
its owner or the management token's holder only; bad values change nothing; a new
password ends every earlier unlock, in a browser session and for the API's old password."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.services.accounts import Permission
from pastefile.services.policy import MAX_PASSWORD
from tests.support.api import make_token, post_file, problem, unlock_in_session
from tests.support.sessions import sign_in


def _collection(client: FlaskClient, headers: dict[str, str], **body: Any) -> str:
    (file_id,) = [post_file(client, headers, b"member bytes", "m.txt").get_json()["id"]]
    made = client.post("/api/v1/collections", json={"files": [file_id], **body}, headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    return str(made.get_json()["id"])


def _patch(client: FlaskClient, ident: str, body: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    url = f"/api/v1/collections/{ident}"
    etag = client.get(url, headers=headers).headers.get("ETag", f'"{ident}-v1"')
    return client.patch(url, json=body, headers={**headers, "If-Match": etag})


def _read(client: FlaskClient, ident: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"/api/v1/collections/{ident}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(response.get_json())


def test_the_owner_sets_and_removes_the_password_and_the_limit(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = _collection(client, alice)
    changed = _patch(client, ident, {"password": "coll pass", "max_downloads": 3}, alice)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    got = changed.get_json()
    assert got["password_protected"] is True and got["max_downloads"] == 3
    problem(client.get(f"/api/v1/collections/{ident}"), 403, "password_required")
    opened = client.get(f"/api/v1/collections/{ident}", headers={"X-File-Password": "coll pass"})
    assert opened.status_code == 200
    cleared = _patch(client, ident, {"password": None, "max_downloads": None}, alice)
    assert cleared.get_json()["password_protected"] is False
    assert cleared.get_json()["max_downloads"] is None
    assert client.get(f"/api/v1/collections/{ident}").status_code == 200


def test_fields_left_out_stay_as_they_were(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    ident = _collection(client, alice, password="keep me", max_downloads=5, expires_in=3600)
    changed = _patch(client, ident, {"title": "Renamed"}, alice).get_json()
    assert changed["title"] == "Renamed" and changed["password_protected"] is True
    assert changed["max_downloads"] == 5 and changed["expires_at"] is not None


def test_the_management_token_edits_an_anonymous_collection(client: FlaskClient) -> None:
    token = post_file(client, {}, b"anon member").get_json()["token"]
    made = client.post("/api/v1/collections", json={}, headers={"X-Token": token}).get_json()
    anon = {"X-Token": token}  # the upload's token manages its collection too
    changed = _patch(client, made["id"], {"password": "anon pass", "max_downloads": 2}, anon)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["password_protected"] is True
    problem(_patch(client, made["id"], {"visibility": "private"}, anon), 400, "invalid_input")


def test_a_limit_at_or_below_the_downloads_so_far_is_refused(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = _collection(client, alice, max_downloads=5)
    assert client.get(f"/c/{ident}.zip").status_code == 200
    assert client.get(f"/c/{ident}.zip").status_code == 200
    for limit in (1, 2):
        problem(_patch(client, ident, {"max_downloads": limit}, alice), 400, "invalid_input")
    assert _read(client, ident, alice)["max_downloads"] == 5
    assert _patch(client, ident, {"max_downloads": 3}, alice).get_json()["max_downloads"] == 3
    assert client.get(f"/c/{ident}.zip").status_code == 200
    assert client.get(f"/c/{ident}.zip").status_code == 410  # the edited limit holds


# --- a password change ends earlier unlocks ---------------------------------------------------


def test_a_new_password_locks_out_a_session_that_had_unlocked_the_collection(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = _collection(client, alice, password="first pass")
    unlock_in_session(client, f"/c/{ident}", "first pass")
    assert client.get(f"/c/{ident}.zip").status_code == 200  # the session's unlock opens it
    assert _patch(client, ident, {"password": "second pass"}, alice).status_code == 200
    page = client.get(f"/c/{ident}", headers={"Accept": "text/html"})
    assert page.status_code == 403 and 'name="password"' in page.get_data(as_text=True)
    problem(client.get(f"/c/{ident}.zip"), 403, "password_required")
    unlock_in_session(client, f"/c/{ident}", "second pass")  # the new one opens it again


def test_the_same_password_set_again_still_ends_earlier_unlocks(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = _collection(client, alice, password="same pass")
    unlock_in_session(client, f"/c/{ident}", "same pass")
    _patch(client, ident, {"password": "same pass"}, alice)
    assert client.get(f"/c/{ident}", headers={"Accept": "text/html"}).status_code == 403


def test_the_api_with_the_old_password_gets_403(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    ident = _collection(client, alice, password="old pass")
    old, new = {"X-File-Password": "old pass"}, {"X-File-Password": "new pass"}
    assert client.get(f"/api/v1/collections/{ident}", headers=old).status_code == 200
    _patch(client, ident, {"password": "new pass"}, alice)
    problem(client.get(f"/api/v1/collections/{ident}", headers=old), 403, "wrong_password")
    problem(client.get(f"/c/{ident}.zip", headers=old), 403, "wrong_password")
    assert client.get(f"/c/{ident}.zip", headers=new).status_code == 200


# --- hostile ---------------------------------------------------------------------------------


def test_strangers_and_wrong_tokens_cannot_edit(client: FlaskClient, services: Services) -> None:
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    hidden = _collection(client, alice, visibility="private")
    shown = _collection(client, alice)
    token = post_file(client, {}, b"anon bytes").get_json()["token"]
    anonymous = client.post("/api/v1/collections", json={}, headers={"X-Token": token})
    anonymous_id = anonymous.get_json()["id"]
    change = {"password": "taken over", "max_downloads": 1, "visibility": "public"}
    strangers: list[dict[str, str]] = [{}, bob, {"X-Token": "pf_not-the-token"}]
    for who in strangers:
        response = client.patch(
            f"/api/v1/collections/{hidden}",
            json=change,
            headers={**who, "If-Match": f'"{hidden}-v1"'},
        )
        problem(response, 404, "not_found")  # it does not exist for them
        for ident in (shown, anonymous_id):
            problem(_patch(client, ident, change, who), 403, "forbidden")
            problem(client.delete(f"/api/v1/collections/{ident}", headers=who), 403, "forbidden")
    for ident in (hidden, shown):
        after = _read(client, ident, alice)
        assert after["password_protected"] is False and after["max_downloads"] is None
    assert _read(client, hidden, alice)["visibility"] == "private"
    assert client.get(f"/api/v1/collections/{anonymous_id}").get_json()["max_downloads"] is None


def test_bad_values_are_refused_and_change_nothing(
    client: FlaskClient, services: Services, settings: Any
) -> None:
    alice = make_token(services)
    ident = _collection(client, alice, max_downloads=4, password="stays")
    before = _read(client, ident, alice)
    bad: list[dict[str, Any]] = [
        {"max_downloads": -1},
        {"max_downloads": 0},
        {"max_downloads": 10**12},
        {"expires_in": 0},
        {"expires_in": settings.max_expiry_seconds + 1},
        {"expires_in": 10**30},
        {"password": "x" * (MAX_PASSWORD + 1)},
        {"password": ""},
        {"password": 12345},
        {"visibility": "everyone"},
        {"title": "ok", "password": "p" * 100_000},
        {"title": "ok", "max_downloads": 0},
    ]
    for body in bad:
        response = _patch(client, ident, body, alice)
        assert response.status_code in (400, 422), (body, response.status_code)
        assert response.mimetype == "application/problem+json"
    assert _read(client, ident, alice) == before
    assert client.get(f"/c/{ident}.zip", headers={"X-File-Password": "stays"}).status_code == 200


def test_a_stale_if_match_is_412_and_changes_nothing(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = _collection(client, alice)
    url = f"/api/v1/collections/{ident}"
    first = {**alice, "If-Match": client.get(url, headers=alice).headers["ETag"]}
    assert client.patch(url, json={"max_downloads": 9}, headers=first).status_code == 200
    problem(client.patch(url, json={"password": "late"}, headers=first), 412, "precondition_failed")
    assert _read(client, ident, alice)["password_protected"] is False


# --- the page offers the form only to who may edit ---------------------------------------------


def test_the_page_offers_the_edit_form_only_to_who_may_edit(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = _collection(client, alice, title="Mine")
    stranger = client.get(f"/c/{ident}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="collection-edit"' not in stranger and 'data-action="remove-file"' not in stranger
    carol = services.accounts.create_user("carol", "correct horse battery 7")
    sign_in(client, services, carol.id)
    other = client.get(f"/c/{ident}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="collection-edit"' not in other  # signed in, but not hers
    owner = services.accounts.authenticate("alice", "correct horse battery")
    sign_in(client, services, owner.id)
    mine = client.get(f"/c/{ident}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="collection-edit"' in mine and 'name="csrf-token"' in mine
    assert 'data-action="remove-file"' in mine and "data-anonymous" not in mine
    with client.session_transaction() as session:
        session.clear()  # signed out: the anonymous collection's page, as anyone sees it
    token = post_file(client, {}, b"anon bytes").get_json()["token"]
    anonymous = client.post("/api/v1/collections", json={}, headers={"X-Token": token})
    page = client.get(f"/c/{anonymous.get_json()['id']}", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    # The form is there, its buttons hidden until this browser shows the token (the script).
    assert 'id="collection-edit"' in html and 'data-action="edit" aria-expanded="false"' in html
    assert "data-anonymous hidden" in html


def test_an_admin_edits_and_a_session_without_csrf_cannot(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services, "alice")
    admin = make_token(
        services, "root", ("read", "upload", "delete", "admin"), Permission.ADMINISTER
    )
    ident = _collection(client, alice, visibility="private")
    changed = _patch(client, ident, {"password": "admin set", "max_downloads": 7}, admin)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    owner = services.accounts.authenticate("alice", "correct horse battery")
    sign_in(client, services, owner.id, csrf="the-session-csrf")
    url = f"/api/v1/collections/{ident}"
    etag = client.get(url).headers["ETag"]
    forged = client.patch(url, json={"password": None}, headers={"If-Match": etag})
    problem(forged, 403, "forbidden")  # a cross-site request carries no CSRF token
    problem(client.delete(url), 403, "forbidden")
    assert _read(client, ident, alice)["password_protected"] is True
    sent = {"If-Match": etag, "X-CSRF-Token": "the-session-csrf"}
    assert client.patch(url, json={"password": None}, headers=sent).status_code == 200
    assert _read(client, ident, alice)["password_protected"] is False
