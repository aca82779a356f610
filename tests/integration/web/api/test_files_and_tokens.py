"""/api/v1: the book's REST rules, on every database."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import update

from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.services.accounts import ROLE_ADMIN
from tests.support.api import make_token, post_file, problem


def test_create_returns_201_location_and_the_nested_file(client, services):
    headers = make_token(services)
    response = post_file(client, headers, visibility="unlisted")
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == body["links"]["self"]
    assert urlsplit(body["links"]["self"]).path == f"/api/v1/files/{body['id']}"
    assert body["visibility"] == "unlisted" and body["owner_id"] is not None
    assert set(body["links"]) == {"self", "raw", "download", "preview", "short"}
    assert body["token"] is None and "X-Token" not in response.headers
    assert client.get(urlsplit(body["links"]["raw"]).path).data == b"api bytes"


def test_raw_body_upload_with_filename(client, services):
    headers = make_token(services)
    response = client.post(
        "/api/v1/files?filename=notes.txt&expires_in=60", data=b"raw body", headers=headers
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["filename"] == "notes.txt" and body["expires_at"] is not None
    problem(client.post("/api/v1/files", data=b"x", headers=headers), 400, "missing_file")


def test_anonymous_upload_gets_a_management_token(client):
    response = post_file(client, {})
    assert response.status_code == 201
    token = response.headers["X-Token"]
    assert response.get_json()["token"] == token
    ident = response.get_json()["id"]
    problem(client.delete(f"/api/v1/files/{ident}"), 403, "forbidden")
    assert client.delete(f"/api/v1/files/{ident}", headers={"X-Token": token}).status_code == 204
    problem(client.get(f"/api/v1/files/{ident}"), 410, "gone")
    problem(client.get(f"/i/{ident}"), 410, "gone")


def test_core_upload_also_hands_out_the_management_token(client):
    response = client.post(
        "/", data={"file": (io.BytesIO(b"core"), "c.txt")}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 201
    assert response.headers["X-Token"] == response.get_json()["token"]
    # The same bytes from another anonymous uploader: their own file, and their own token.
    again = client.post(
        "/", data={"file": (io.BytesIO(b"core"), "d.txt")}, headers={"Accept": "application/json"}
    )
    assert again.status_code == 201 and again.headers["X-Token"] != response.headers["X-Token"]
    assert again.get_json()["filename"] == "d.txt"


def test_list_pages_with_link_and_total_count(client, services):
    headers = make_token(services)
    for n in range(5):
        post_file(client, headers, data=f"file {n}".encode(), name=f"f{n}.txt")
    response = client.get("/api/v1/files?per_page=2&page=2", headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "5"
    assert len(response.get_json()) == 2
    links = response.headers["Link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 3)):
        assert f'page={page}&per_page=2>; rel="{rel}"' in links
    last = client.get("/api/v1/files?per_page=2&page=3", headers=headers)
    assert 'rel="next"' not in last.headers["Link"] and len(last.get_json()) == 1


def test_list_filters_sorts_and_searches(client, services):
    headers = make_token(services)
    post_file(client, headers, data=b"alpha", name="Alpha report.txt")
    post_file(client, headers, data=b"beta", name="beta.txt")
    names = [f["filename"] for f in client.get("/api/v1/files?q=REPORT", headers=headers).json]
    assert names == ["Alpha report.txt"]
    sizes = [
        f["size"] for f in client.get("/api/v1/files?sort=size&order=asc", headers=headers).json
    ]
    assert sizes == sorted(sizes)
    assert client.get("/api/v1/files?type=text", headers=headers).headers["X-Total-Count"] == "2"
    assert client.get("/api/v1/files?type=image/png", headers=headers).json == []
    future = (utcnow() + timedelta(days=1)).isoformat()
    after = client.get("/api/v1/files", query_string={"created_after": future}, headers=headers)
    assert after.json == []
    problem(client.get("/api/v1/files?sort=evil", headers=headers), 400, "invalid_input")
    problem(client.get("/api/v1/files?per_page=1000", headers=headers), 400, "invalid_input")


def test_listing_needs_authentication(client):
    response = client.get("/api/v1/files")
    problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problem(client.get("/api/v1/files", headers={"Authorization": "Basic x"}), 401, "unauthorized")
    problem(client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


def test_etag_and_last_modified_answer_304(client, services):
    headers = make_token(services)
    ident = post_file(client, headers).get_json()["id"]
    first = client.get(f"/api/v1/files/{ident}", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"] == f'"{ident}-v1"'
    again = client.get(
        f"/api/v1/files/{ident}", headers={**headers, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    since = client.get(
        f"/api/v1/files/{ident}",
        headers={**headers, "If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert since.status_code == 304


def test_patch_requires_if_match_428_and_412(client, services):
    headers = make_token(services)
    ident = post_file(client, headers).get_json()["id"]
    url = f"/api/v1/files/{ident}"
    problem(
        client.patch(url, json={"filename": "b.txt"}, headers=headers), 428, "precondition_required"
    )
    etag = client.get(url, headers=headers).headers["ETag"]
    changed = client.patch(
        url, json={"filename": "b.txt", "expires_in": 3600}, headers={**headers, "If-Match": etag}
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["filename"] == "b.txt" and changed.json["expires_at"]
    assert changed.headers["ETag"] != etag
    stale = client.patch(url, json={"filename": "c.txt"}, headers={**headers, "If-Match": etag})
    problem(stale, 412, "precondition_failed")
    cleared = client.patch(
        url, json={"expires_in": None}, headers={**headers, "If-Match": changed.headers["ETag"]}
    )
    assert cleared.status_code == 200 and cleared.json["expires_at"] is None
    bad = client.patch(
        url, json={"owner_id": 2}, headers={**headers, "If-Match": cleared.headers["ETag"]}
    )
    problem(bad, 400, "invalid_input")
    assert client.get(url, headers=headers).json["filename"] == "b.txt"


def test_delete_is_204_then_410(client, services):
    headers = make_token(services)
    body = post_file(client, headers).get_json()
    response = client.delete(f"/api/v1/files/{body['id']}", headers=headers)
    assert response.status_code == 204 and response.data == b""
    problem(client.get(f"/api/v1/files/{body['id']}", headers=headers), 410, "gone")
    problem(client.get(urlsplit(body["links"]["short"]).path), 410, "gone")


def test_405_with_allow_and_406_for_unproducible_accept(client, services):
    headers = make_token(services)
    response = client.put("/api/v1/files", data=b"x", headers=headers)
    problem(response, 405, "method_not_allowed")
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    deleted = client.delete("/api/v1/me", headers=headers)
    problem(deleted, 405, "method_not_allowed")
    assert "GET" in deleted.headers["Allow"]
    response = client.get("/api/v1/files", headers={**headers, "Accept": "text/csv"})
    assert response.status_code == 406
    assert client.get("/api/v1/files", headers={**headers, "Accept": "*/*"}).status_code == 200


def test_expired_files_are_410_everywhere_at_once(client, services):
    headers = make_token(services)
    body = post_file(client, headers, expires_in=60).get_json()
    with services.db.write() as session:
        session.execute(
            update(File).where(File.public_id == body["id"]).values(expires_at=utcnow())
        )
    for url in (body["links"]["raw"], body["links"]["download"], body["links"]["preview"]):
        problem(client.get(urlsplit(url).path), 410, "gone")
    problem(client.get(urlsplit(body["links"]["short"]).path), 410, "gone")
    problem(client.get(f"/api/v1/files/{body['id']}", headers=headers), 410, "gone")


def test_max_downloads_turns_410_after_n(client, services):
    body = post_file(client, {}, max_downloads=2).get_json()
    path = urlsplit(body["links"]["download"]).path
    assert client.get(path).status_code == 200
    assert client.get(urlsplit(body["links"]["raw"]).path).status_code == 200
    problem(client.get(path), 410, "gone")
    problem(client.get(f"/api/v1/files/{body['id']}"), 410, "gone")


def test_password_files_by_header_and_form(client, services):
    body = post_file(client, {}, password="s3cret pass").get_json()
    raw = urlsplit(body["links"]["raw"]).path
    problem(client.get(raw), 403, "password_required")
    problem(client.get(raw, headers={"X-File-Password": "nope"}), 403, "wrong_password")
    assert client.get(raw, headers={"X-File-Password": "s3cret pass"}).data == b"api bytes"
    browser = {"Accept": "text/html"}
    page = client.get(f"/p/{body['id']}", headers=browser)
    assert page.status_code == 403 and b'name="password"' in page.data
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    no_csrf = client.post(f"/p/{body['id']}/unlock", data={"password": "s3cret pass"})
    assert no_csrf.status_code == 400
    opened = client.post(
        f"/p/{body['id']}/unlock", data={"password": "s3cret pass", "csrf_token": token}
    )
    assert opened.status_code == 303
    assert client.get(f"/p/{body['id']}", headers=browser).status_code == 200
    assert client.get(raw).status_code == 200  # the session remembers


def test_wrong_passwords_are_rate_limited(client, services):
    body = post_file(client, {}, password="right one").get_json()
    raw = urlsplit(body["links"]["raw"]).path
    for _ in range(5):
        problem(client.get(raw, headers={"X-File-Password": "wrong"}), 403, "wrong_password")
    problem(client.get(raw, headers={"X-File-Password": "right one"}), 429, "too_many_requests")


def test_tokens_crud_and_value_shown_once(client, services):
    headers = make_token(services)
    created = client.post(
        "/api/v1/tokens", json={"name": "ci", "scopes": ["read"]}, headers=headers
    )
    assert created.status_code == 201
    token = created.json
    assert token["token"].startswith("pf_") and created.headers["Location"].endswith(
        f"/api/v1/tokens/{token['id']}"
    )
    listed = client.get("/api/v1/tokens", headers=headers).json
    assert all("token" not in row for row in listed) and len(listed) == 2
    assert client.get(f"/api/v1/tokens/{token['id']}", headers=headers).json["name"] == "ci"
    new = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/api/v1/me", headers=new).status_code == 200
    escalate = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["delete"]}, headers=new)
    problem(escalate, 403, "forbidden")
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=headers).status_code == 204
    problem(client.get("/api/v1/me", headers=new), 401, "unauthorized")
    problem(
        client.post("/api/v1/tokens", json={"name": "x", "scopes": []}, headers=headers),
        400,
        "invalid_input",
    )
    problem(client.post("/api/v1/tokens", data="{", headers=headers), 415, "unsupported_media_type")


def test_admins_list_and_disable_users(client, services):
    admin = make_token(services, "root", ("read", "admin"), ROLE_ADMIN)
    alice = make_token(services, "alice")
    problem(client.get("/api/v1/users", headers=alice), 403, "insufficient_scope")
    users = client.get("/api/v1/users", headers=admin)
    assert users.status_code == 200 and users.headers["X-Total-Count"] == "2"
    alice_id = next(u["id"] for u in users.json if u["username"] == "alice")
    etag = client.get(f"/api/v1/users/{alice_id}", headers=admin).headers["ETag"]
    disabled = client.patch(
        f"/api/v1/users/{alice_id}", json={"disabled": True}, headers={**admin, "If-Match": etag}
    )
    assert disabled.status_code == 200 and disabled.json["disabled"] is True
    problem(client.get("/api/v1/me", headers=alice), 401, "unauthorized")
    problem(client.get("/api/v1/users/999999", headers=admin), 404, "not_found")


def test_me_reports_usage(client, services, settings):
    settings.user_quota_files = 1
    headers = make_token(services)
    post_file(client, headers)
    me = client.get("/api/v1/me", headers=headers).json
    assert me["username"] == "alice" and me["usage"]["files"] == 1
    assert me["usage"]["quota_files"] == 1
    problem(post_file(client, headers, data=b"second"), 507, "quota_exceeded")
