"""Editing a file after creation, on every database: expiry, password, download limit
and visibility through ``PATCH /api/v1/files/{id}`` (If-Match), by the owner or the
management token's holder only; bad values change nothing; a new or removed password
ends every earlier unlock, in a browser session and for the API's old password."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.services.policy import MAX_PASSWORD
from tests.support.api import make_token, post_file, problem
from tests.support.api import unlock_in_session as unlock_file

BROWSER = {"Accept": "text/html"}


def patch(client: FlaskClient, ident: str, body: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    etag = client.get(f"/api/v1/files/{ident}", headers=headers).headers.get("ETag", '"x-v1"')
    return client.patch(f"/api/v1/files/{ident}", json=body, headers={**headers, "If-Match": etag})


def stored(services: Services, ident: str):  # type: ignore[no-untyped-def]
    return services.files.lookups.by_public_id(ident)


def unlock_in_session(client: FlaskClient, ident: str, password: str) -> None:
    unlock_file(client, f"/p/{ident}", password)


# --- what the owner changes -------------------------------------------------------------------


def test_the_owner_sets_and_removes_expiry_limit_password_and_visibility(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice).get_json()["id"]
    body = {
        "expires_in": 3600,
        "max_downloads": 3,
        "password": "new pass 1",
        "visibility": "unlisted",
    }
    changed = patch(client, ident, body, alice)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    got = changed.get_json()
    expires = datetime.fromisoformat(got["expires_at"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert (got["max_downloads"], got["password_protected"], got["visibility"]) == (
        3, True, "unlisted",
    )  # fmt: skip
    raw = urlsplit(got["links"]["raw"]).path
    problem(client.get(raw), 403, "password_required")
    assert client.get(raw, headers={"X-File-Password": "new pass 1"}).data == b"api bytes"
    cleared = patch(
        client, ident, {"expires_in": None, "max_downloads": None, "password": None}, alice
    ).get_json()
    assert cleared["expires_at"] is None and cleared["max_downloads"] is None
    assert cleared["password_protected"] is False and cleared["visibility"] == "unlisted"
    assert client.get(raw).data == b"api bytes"  # no password any more


def test_fields_left_out_stay_as_they_were(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, password="keep me 1", max_downloads=5).get_json()["id"]
    got = patch(client, ident, {"filename": "renamed.txt"}, alice).get_json()
    assert got["password_protected"] is True and got["max_downloads"] == 5
    assert got["filename"] == "renamed.txt"


def test_the_management_token_edits_an_anonymous_file(
    client: FlaskClient, services: Services
) -> None:
    created = post_file(client, {}, password="anon pass 1")
    ident, token = created.get_json()["id"], created.headers["X-Token"]
    holder = {"X-Token": token}  # the token proves more than the password: no password asked
    got = patch(client, ident, {"max_downloads": 2, "password": None}, holder)
    assert got.status_code == 200, got.get_data(as_text=True)
    assert got.get_json()["password_protected"] is False
    problem(patch(client, ident, {"visibility": "private"}, holder), 400, "invalid_input")


def test_a_limit_at_or_below_the_downloads_so_far_is_refused(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    body = post_file(client, alice, max_downloads=5).get_json()
    raw = urlsplit(body["links"]["raw"]).path
    for _ in range(2):
        assert client.get(raw).status_code == 200
    problem(patch(client, body["id"], {"max_downloads": 2}, alice), 400, "invalid_input")
    assert stored(services, body["id"]).max_downloads == 5  # the file is not used up by an edit
    assert patch(client, body["id"], {"max_downloads": 3}, alice).get_json()["max_downloads"] == 3
    assert client.get(raw).status_code == 200
    problem(client.get(raw), 410, "gone")


# --- a password change ends earlier unlocks ---------------------------------------------------


def test_a_new_password_locks_out_a_session_that_had_unlocked_the_file(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, password="first pass").get_json()["id"]
    unlock_in_session(client, ident, "first pass")
    assert client.get(f"/i/{ident}").status_code == 200
    assert patch(client, ident, {"password": "second pass"}, alice).status_code == 200
    page = client.get(f"/p/{ident}", headers=BROWSER)
    assert page.status_code == 403 and b'name="password"' in page.data
    problem(client.get(f"/i/{ident}"), 403, "password_required")
    unlock_in_session(client, ident, "second pass")  # the new one opens it again


def test_the_same_password_set_again_still_ends_earlier_unlocks(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, password="same pass").get_json()["id"]
    unlock_in_session(client, ident, "same pass")
    patch(client, ident, {"password": "same pass"}, alice)
    assert client.get(f"/p/{ident}", headers=BROWSER).status_code == 403


def test_a_removed_then_restored_password_does_not_revive_old_unlocks(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, password="old pass 1").get_json()["id"]
    unlock_in_session(client, ident, "old pass 1")
    patch(client, ident, {"password": None}, alice)
    assert client.get(f"/p/{ident}", headers=BROWSER).status_code == 200  # open to all now
    patch(client, ident, {"password": "old pass 1"}, alice)
    assert client.get(f"/p/{ident}", headers=BROWSER).status_code == 403


def test_the_api_with_the_old_password_gets_403(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, password="old pass 2").get_json()["id"]
    old, new = {"X-File-Password": "old pass 2"}, {"X-File-Password": "new pass 2"}
    assert client.get(f"/api/v1/files/{ident}", headers=old).status_code == 200
    patch(client, ident, {"password": "new pass 2"}, alice)
    problem(client.get(f"/api/v1/files/{ident}", headers=old), 403, "wrong_password")
    problem(client.get(f"/i/{ident}", headers=old), 403, "wrong_password")
    assert client.get(f"/i/{ident}", headers=new).data == b"api bytes"


# --- hostile ---------------------------------------------------------------------------------


def test_strangers_and_wrong_tokens_cannot_edit(client: FlaskClient, services: Services) -> None:
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    private = post_file(client, alice, visibility="private").get_json()["id"]
    public = post_file(client, alice, data=b"public bytes").get_json()["id"]
    anonymous = post_file(client, {}, data=b"anonymous bytes").get_json()["id"]
    etag = {"If-Match": f'"{private}-v1"'}
    change = {"password": None, "max_downloads": None, "visibility": "public"}
    for who in ({}, bob, {"X-Token": "pf_not-the-token"}):
        response = client.patch(f"/api/v1/files/{private}", json=change, headers={**who, **etag})
        problem(response, 404, "not_found")  # it does not exist for them
    for ident in (public, anonymous):
        for who in ({}, bob, {"X-Token": "pf_not-the-token"}):
            problem(patch(client, ident, {"password": "taken over"}, who), 403, "forbidden")
        assert stored(services, ident).password_hash is None
    assert stored(services, private).visibility == "private"


def test_bad_values_are_refused_and_change_nothing(
    client: FlaskClient, services: Services, settings: Any
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, max_downloads=4).get_json()["id"]
    before = client.get(f"/api/v1/files/{ident}", headers=alice).get_json()
    too_long = settings.max_expiry_seconds + 1
    bad = [
        {"max_downloads": -1},
        {"max_downloads": 0},
        {"max_downloads": 10**12},
        {"expires_in": -60},
        {"expires_in": 0},
        {"expires_in": too_long},
        {"expires_in": 10**30},
        {"password": "x" * (MAX_PASSWORD + 1)},
        {"password": ""},
        {"visibility": "everyone"},
        {"filename": "ok.txt", "password": "p" * 100_000},
    ]
    for body in bad:
        response = patch(client, ident, body, alice)
        assert response.status_code in (400, 422), (body, response.status_code)
        assert response.mimetype == "application/problem+json"
    after = client.get(f"/api/v1/files/{ident}", headers=alice).get_json()
    assert after == before


def test_a_stale_if_match_is_412_and_changes_nothing(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice).get_json()["id"]
    etag = client.get(f"/api/v1/files/{ident}", headers=alice).headers["ETag"]
    first = {**alice, "If-Match": etag}
    assert (
        client.patch(f"/api/v1/files/{ident}", json={"max_downloads": 9}, headers=first).status_code
        == 200
    )
    stale = client.patch(f"/api/v1/files/{ident}", json={"password": "late"}, headers=first)
    problem(stale, 412, "precondition_failed")
    assert stored(services, ident).password_hash is None


def test_the_card_offers_the_edit_form_only_to_who_may_edit(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, password="card pass").get_json()["id"]
    unlock_in_session(client, ident, "card pass")
    page = client.get(f"/p/{ident}", headers=BROWSER).get_data(as_text=True)
    assert 'class="edit-form"' not in page  # a visitor who knows the password is not the owner
    anonymous = post_file(client, {}, data=b"anon card").get_json()["id"]
    page = client.get(f"/p/{anonymous}", headers=BROWSER).get_data(as_text=True)
    form = page.split('class="edit-form"', 1)[1]  # there for the token's holder, buttons hidden
    for field in ("filename", "visibility", "expires_in", "max_downloads", "password"):
        assert f'name="{field}"' in form
    assert re.search(r'data-action="edit" data-anonymous hidden', page)
