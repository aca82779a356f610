"""Rules the first API pass left open, on every database:

- ``/r/`` of a restricted file (private, unlisted, password, expiring, limited)
  makes a copy with the same owner and rules, and only for whoever may manage
  the source; everyone else gets 403 and nothing is stored;
- ``PATCH /api/v1/users/{id}`` needs If-Match like files (428, 412);
- a user at quota who re-uploads content that dedups to their own file gets
  that file back instead of 507.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from pastefile.db.models import File
from pastefile.services.accounts import ROLE_ADMIN
from tests.support.api import make_token, post_file, problem
from tests.support.images import image_bytes

JSON = {"Accept": "application/json"}


def file_count(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(File)) or 0)


def resize(client, ident: str, headers=None):  # type: ignore[no-untyped-def]
    return client.get(f"/r/{ident}?w=16&h=16", headers={**JSON, **(headers or {})})


def copy_of(client, response, headers):  # type: ignore[no-untyped-def]
    assert response.status_code == 201, response.get_data(as_text=True)
    ident = urlsplit(response.get_json()["url_p"]).path.rsplit("/", 1)[1]
    found = client.get(f"/api/v1/files/{ident}", headers=headers)
    assert found.status_code == 200, found.get_data(as_text=True)
    return found.get_json()


# --- /r/ ------------------------------------------------------------------------------------


def test_resize_of_an_unlisted_file_stays_the_owners_and_unlisted(client, services):
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    source = post_file(
        client, alice, data=image_bytes(), name="p.png", visibility="unlisted"
    ).get_json()
    before = file_count(services)
    for stranger in ({}, bob):  # they may view it by link, not copy it
        problem(resize(client, source["id"], stranger), 403, "forbidden")
    assert file_count(services) == before
    copy = copy_of(client, resize(client, source["id"], alice), alice)
    assert copy["owner_id"] == source["owner_id"] and copy["visibility"] == "unlisted"
    assert copy["image"] == {"width": 16, "height": 16}
    assert [f["id"] for f in client.get("/api/v1/files", headers=bob).get_json()] == []


def test_resize_of_a_private_file_is_the_owners_and_private(client, services):
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    source = post_file(
        client, alice, data=image_bytes(), name="p.png", visibility="private"
    ).get_json()
    problem(resize(client, source["id"], bob), 404, "not_found")  # it does not exist for bob
    copy = copy_of(client, resize(client, source["id"], alice), alice)
    assert copy["visibility"] == "private" and copy["owner_id"] == source["owner_id"]
    problem(client.get(f"/api/v1/files/{copy['id']}", headers=bob), 404, "not_found")


def test_resize_of_an_anonymous_password_file_needs_its_token_and_keeps_the_rules(client, services):
    created = post_file(
        client, {}, data=image_bytes(), name="p.png", password="pw-1234", expires_in=3600
    )
    source, token = created.get_json(), created.headers["X-Token"]
    with_password = {"X-File-Password": "pw-1234"}
    problem(resize(client, source["id"]), 403, "password_required")
    before = file_count(services)
    problem(resize(client, source["id"], with_password), 403, "forbidden")
    assert file_count(services) == before
    manager = {**with_password, "X-Token": token}
    copy = copy_of(client, resize(client, source["id"], manager), with_password)
    assert copy["owner_id"] is None and copy["password_protected"] is True
    assert copy["expires_at"] == source["expires_at"]
    problem(client.get(urlsplit(copy["links"]["raw"]).path), 403, "password_required")
    # The copy is managed by the same token as its source.
    assert client.delete(f"/api/v1/files/{copy['id']}", headers=manager).status_code == 204


def test_resize_of_a_plain_public_file_is_still_the_books_anonymous_copy(client, services):
    alice = make_token(services, "alice")
    source = post_file(client, alice, data=image_bytes(), name="p.png").get_json()
    first = resize(client, source["id"])
    assert first.status_code == 201
    copy = copy_of(client, first, {})
    assert copy["owner_id"] is None and copy["visibility"] == "public"
    again = resize(client, source["id"])  # the book's dedup of identical anonymous results
    assert again.status_code == 200 and again.get_json()["url_p"] == first.get_json()["url_p"]


# --- PATCH /api/v1/users/{id} ------------------------------------------------------------


def test_user_patch_needs_if_match_like_files(client, services):
    admin = make_token(services, "root", ("read", "admin"), ROLE_ADMIN)
    make_token(services, "alice")
    users = client.get("/api/v1/users", headers=admin).get_json()
    alice_id = next(u["id"] for u in users if u["username"] == "alice")
    url = f"/api/v1/users/{alice_id}"
    read = client.get(url, headers=admin)
    etag = read.headers["ETag"]
    assert client.get(url, headers={**admin, "If-None-Match": etag}).status_code == 304
    problem(client.patch(url, json={"disabled": True}, headers=admin), 428, "precondition_required")
    for wrong in ('"nonsense"', f'"u{alice_id + 1}-{"0" * 20}"', f'"u{alice_id}-{"0" * 20}"'):
        stale = client.patch(url, json={"disabled": True}, headers={**admin, "If-Match": wrong})
        problem(stale, 412, "precondition_failed")
    assert client.get(url, headers=admin).get_json()["disabled"] is False  # nothing changed
    changed = client.patch(url, json={"disabled": True}, headers={**admin, "If-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["disabled"] is True
    assert changed.headers["ETag"] != etag
    lost_update = client.patch(url, json={"roles": 3}, headers={**admin, "If-Match": etag})
    problem(lost_update, 412, "precondition_failed")
    assert client.get(url, headers=admin).get_json()["roles"] == 1
    missing = client.patch(
        "/api/v1/users/999999", json={"disabled": True}, headers={**admin, "If-Match": etag}
    )
    problem(missing, 404, "not_found")


# --- quotas and dedup ---------------------------------------------------------------------


def test_at_quota_an_identical_reupload_returns_the_existing_file(client, services, settings):
    settings.user_quota_files = 1
    settings.user_quota_bytes = 20
    alice = make_token(services, "alice")
    first = post_file(client, alice, data=b"sixteen bytes!!!")
    assert first.status_code == 201
    again = post_file(client, alice, data=b"sixteen bytes!!!")
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    problem(post_file(client, alice, data=b"other"), 507, "quota_exceeded")
    # Only link-sharing files dedup: a private copy would be a new file, so it is refused.
    private = post_file(client, alice, data=b"sixteen bytes!!!", visibility="private")
    problem(private, 507, "quota_exceeded")
    # Another user's identical file never counts as one's own.
    bob = make_token(services, "bob")
    assert post_file(client, bob, data=b"sixteen bytes!!!").status_code == 201
    assert file_count(services) == 2
