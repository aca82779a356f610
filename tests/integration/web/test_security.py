"""Owners, visibility, token scopes, revocation, moderation, CSRF: over HTTP, on each database."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

from pastefile.services.accounts import ROLE_ADMIN
from tests.support.api import make_token, post_file, problem
from tests.support.files import stored_blobs


def _path(url: str) -> str:
    return urlsplit(url).path


def test_identical_bytes_never_return_another_owners_links(client, services, settings):
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    mine = post_file(client, alice, data=b"same content").get_json()
    theirs = post_file(client, bob, data=b"same content")
    assert theirs.status_code == 201  # created for bob, not "found alice's"
    body = theirs.get_json()
    assert body["id"] != mine["id"] and body["links"]["short"] != mine["links"]["short"]
    assert body["owner_id"] != mine["owner_id"]
    anon = post_file(client, {}, data=b"same content").get_json()
    assert anon["id"] not in (mine["id"], body["id"])
    # Storage dedup stays global and invisible: one copy of the bytes.
    assert len(stored_blobs(settings)) == 1
    # Bob's listing holds only bob's file.
    assert [f["id"] for f in client.get("/api/v1/files", headers=bob).json] == [body["id"]]


def test_a_can_never_reach_bs_private_file_on_any_route(client, services):
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    private = post_file(client, bob, data=b"bob's secret", visibility="private").get_json()
    ident, links = private["id"], private["links"]
    code = _path(links["short"]).rsplit("/", 1)[1]
    for headers in ({}, alice):
        for path in (
            _path(links["raw"]),
            f"/i/{ident}",
            _path(links["download"]),
            _path(links["preview"]),
            f"/s/{code}",
            f"/r/{ident}?w=10&h=10",
            f"/api/v1/files/{ident}",
        ):
            response = client.get(path, headers={**headers, "Accept": "application/json"})
            problem(response, 404, "not_found")
        patch = client.patch(
            f"/api/v1/files/{ident}",
            json={"visibility": "public"},
            headers={**headers, "If-Match": f'"{ident}-v1"'},
        )
        problem(patch, 404, "not_found")
        problem(client.delete(f"/api/v1/files/{ident}", headers=headers), 404, "not_found")
    listed = client.get("/api/v1/files", headers=alice)
    assert listed.json == [] and listed.headers["X-Total-Count"] == "0"
    searched = client.get("/api/v1/files?q=secret", headers=alice)
    assert searched.json == []
    # Bob still has it, untouched.
    assert client.get(_path(links["raw"]), headers=bob).data == b"bob's secret"


def test_unlisted_files_are_reachable_by_link_but_not_changeable(client, services):
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    body = post_file(client, bob, data=b"unlisted", visibility="unlisted").get_json()
    assert client.get(_path(body["links"]["raw"])).data == b"unlisted"
    problem(client.delete(f"/api/v1/files/{body['id']}", headers=alice), 403, "forbidden")
    patch = client.patch(
        f"/api/v1/files/{body['id']}",
        json={"filename": "mine.txt"},
        headers={**alice, "If-Match": f'"{body["id"]}-v1"'},
    )
    problem(patch, 403, "forbidden")
    assert client.get("/api/v1/files", headers=alice).json == []


def test_token_without_delete_scope_cannot_delete(client, services):
    full = make_token(services, "alice")
    user_id = client.get("/api/v1/me", headers=full).json["id"]
    principal = services.accounts.session_principal(services.accounts.get_user(user_id))
    _, value = services.accounts.create_token(principal, "no-delete", ["read", "upload"])
    weak = {"Authorization": f"Bearer {value}"}
    ident = post_file(client, weak).get_json()["id"]
    problem(client.delete(f"/api/v1/files/{ident}", headers=weak), 403, "insufficient_scope")
    assert client.get(f"/api/v1/files/{ident}", headers=weak).status_code == 200
    assert client.delete(f"/api/v1/files/{ident}", headers=full).status_code == 204


def test_revoked_token_fails_on_the_very_next_request(client, services):
    headers = make_token(services)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token_id = client.get("/api/v1/tokens", headers=headers).json[0]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 204
    problem(client.get("/api/v1/me", headers=headers), 401, "unauthorized")
    problem(post_file(client, headers), 401, "unauthorized")


def test_moderation_removal_blocks_reuploads_with_451(client, services, settings):
    admin = make_token(services, "root", ("read", "upload", "delete", "admin"), ROLE_ADMIN)
    alice = make_token(services, "alice")
    body = post_file(client, {}, data=b"abusive content").get_json()
    copy = post_file(client, alice, data=b"abusive content").get_json()
    problem(
        client.post(f"/api/v1/files/{body['id']}/removal", json={"reason": "x"}, headers=alice),
        403,
        "insufficient_scope",
    )
    removed = client.post(
        f"/api/v1/files/{body['id']}/removal", json={"reason": "abuse report #7"}, headers=admin
    )
    assert removed.status_code == 200 and removed.json["removed"] == 2
    for ident in (body["id"], copy["id"]):
        problem(client.get(f"/i/{ident}"), 451, "unavailable_for_legal_reasons")
    problem(post_file(client, {}, data=b"abusive content"), 451, "unavailable_for_legal_reasons")
    problem(post_file(client, alice, data=b"abusive content"), 451, "unavailable_for_legal_reasons")
    core = client.post(
        "/",
        data={"file": (io.BytesIO(b"abusive content"), "a.txt")},
        headers={"Accept": "application/json"},
    )
    problem(core, 451, "unavailable_for_legal_reasons")
    problem(client.put("/again.txt", data=b"abusive content"), 451, "unavailable_for_legal_reasons")
    assert stored_blobs(settings) == []


def test_session_uploads_need_csrf_to_be_owned(client, services):
    services.accounts.create_user("alice", "correct horse battery")
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    login = client.post(
        "/login",
        data={"username": "alice", "password": "correct horse battery", "csrf_token": token},
    )
    assert login.status_code == 303
    index = client.get("/").get_data(as_text=True)
    token = index.split('name="csrf_token" value="')[1].split('"')[0]
    owned = client.post(
        "/",
        data={"file": (io.BytesIO(b"mine"), "m.txt"), "csrf_token": token, "visibility": "private"},
        headers={"Accept": "application/json"},
    )
    assert owned.status_code == 201 and "token" not in owned.get_json()
    forged = client.post(
        "/",
        data={"file": (io.BytesIO(b"forged"), "f.txt")},
        headers={"Accept": "application/json"},
    )
    # Without the token the session is ignored: an anonymous upload, nothing gained.
    assert forged.status_code == 201 and forged.get_json()["token"]
