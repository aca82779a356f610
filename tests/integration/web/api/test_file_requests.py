"""File requests, on every database: a signed-in user asks for files with
``/api/v1/requests``; anyone with the link uploads with ``POST /u/<code>`` (or tus)
through the one pipeline, into the owner's private collection, and gets a receipt
without a link; the request's limits, types, expiry and password hold."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from pastefile.composition import Services
from pastefile.db.collections import CollectionItem
from pastefile.db.file_requests import FileRequest
from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.db.users import User
from tests.support.api import make_token, problem

JSON = {"Accept": "application/json"}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def make_request(client: FlaskClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"title": "Send me your slides", **fields}
    response = client.post("/api/v1/requests", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def upload_path(made: dict[str, Any]) -> str:
    return urlsplit(made["links"]["upload"]).path


def send(
    client: FlaskClient, path: str, data: bytes = b"slides\n", name: str = "s.txt", **headers: str
):  # type: ignore[no-untyped-def]
    form = {"file": (io.BytesIO(data), name)}
    return client.post(path, data=form, headers={**JSON, **headers})


def owned_files(services: Services, owner_id: int) -> list[File]:
    with services.db.read() as session:
        return list(session.scalars(select(File).where(File.owner_id == owner_id)))


# --- the owner's API ----------------------------------------------------------------------


def test_create_list_get_patch_delete(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    made = make_request(
        client, alice, message="PDF please", max_files=3, max_bytes=1000,
        allowed_types=["application/pdf", "image/*"], expires_in=3600,
    )  # fmt: skip
    assert made["open"] is True and made["received_files"] == 0
    assert made["allowed_types"] == ["application/pdf", "image/*"]
    assert made["collection_id"] and made["links"]["upload"].split("/u/")[1]
    listed = client.get("/api/v1/requests", headers=alice).get_json()
    assert [r["id"] for r in listed] == [made["id"]]
    one = client.get(f"/api/v1/requests/{made['id']}", headers=alice)
    etag = one.headers["ETag"]
    problem(
        client.patch(f"/api/v1/requests/{made['id']}", json={"closed": True}, headers=alice),
        428,
        "precondition_required",
    )
    closed = client.patch(
        f"/api/v1/requests/{made['id']}",
        json={"closed": True, "max_files": None, "title": "New title"},
        headers={**alice, "If-Match": etag},
    )
    assert closed.status_code == 200, closed.get_data(as_text=True)
    got = closed.get_json()
    assert got["open"] is False and got["max_files"] is None and got["title"] == "New title"
    stale = client.patch(
        f"/api/v1/requests/{made['id']}",
        json={"closed": False},
        headers={**alice, "If-Match": etag},
    )
    problem(stale, 412, "precondition_failed")
    problem(send(client, upload_path(made)), 410, "request_closed")
    assert client.delete(f"/api/v1/requests/{made['id']}", headers=alice).status_code == 204
    problem(client.get(f"/api/v1/requests/{made['id']}", headers=alice), 404, "not_found")
    problem(send(client, upload_path(made)), 404, "not_found")


def test_others_cannot_see_or_change_a_request(client: FlaskClient, services: Services) -> None:
    alice, bob = make_token(services, "alice"), make_token(services, "bob")
    made = make_request(client, alice)
    url = f"/api/v1/requests/{made['id']}"
    for who in ({}, bob):
        status = 401 if not who else 404
        assert client.get(url, headers=who).status_code == status
        change = client.patch(
            url, json={"closed": True}, headers={**who, "If-Match": f'"{made["id"]}-v1"'}
        )
        assert change.status_code == status
        assert client.delete(url, headers=who).status_code == status
    assert client.get("/api/v1/requests", headers=bob).get_json() == []
    problem(client.post("/api/v1/requests", json={"title": "x"}), 401, "unauthorized")
    reader = make_token(services, "carol", scopes=("read",))
    problem(
        client.post("/api/v1/requests", json={"title": "x"}, headers=reader),
        403,
        "insufficient_scope",
    )


def test_bad_request_fields_are_refused(
    client: FlaskClient, services: Services, settings: Any
) -> None:
    alice = make_token(services)
    for body in (
        {"title": ""},
        {"title": "x" * 201},
        {"title": "t", "max_files": 0},
        {"title": "t", "max_files": 10**9},
        {"title": "t", "max_bytes": -1},
        {"title": "t", "allowed_types": ["not a type"]},
        {"title": "t", "allowed_types": ["image/*"] * 21},
        {"title": "t", "expires_in": settings.max_expiry_seconds + 1},
        {"title": "t", "password": "p" * 2000},
        {"title": "t", "owner_id": 2},
    ):
        response = client.post("/api/v1/requests", json=body, headers=alice)
        assert response.status_code in (400, 422), (body, response.status_code)
    assert client.get("/api/v1/requests", headers=alice).get_json() == []


# --- uploading through the link -------------------------------------------------------------


def test_an_upload_lands_in_the_owners_collection_with_a_receipt(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    made = make_request(client, alice, max_files=5)
    data = b"quarterly numbers\n"
    response = send(client, upload_path(made), data, "numbers.txt")
    assert response.status_code == 201, response.get_data(as_text=True)
    receipt = response.get_json()
    assert set(receipt) == {"filename", "size", "sha256", "received_at"}  # no id, no link
    assert receipt["sha256"] == hashlib.sha256(data).hexdigest() and receipt["size"] == len(data)
    alice_id = services.accounts.principal_for_token(alice["Authorization"][7:]).user_id  # type: ignore[union-attr]
    [stored] = owned_files(services, alice_id)
    assert stored.visibility == "private" and stored.filename == "numbers.txt"
    with services.db.read() as session:
        items = list(session.scalars(select(CollectionItem.file_id)))
    assert items == [stored.id]
    # The owner sees it (My files, the API); the uploader and everyone else get 404.
    assert client.get(f"/api/v1/files/{stored.public_id}", headers=alice).status_code == 200
    problem(client.get(f"/api/v1/files/{stored.public_id}"), 404, "not_found")
    problem(client.get(f"/i/{stored.public_id}"), 404, "not_found")
    problem(client.get(f"/s/{stored.short_code}"), 404, "not_found")
    counted = client.get(f"/api/v1/requests/{made['id']}", headers=alice).get_json()
    assert (counted["received_files"], counted["received_bytes"]) == (1, len(data))
    # The link tells what is asked, never what others sent; the collection is the owner's.
    asked = client.get(upload_path(made), headers=JSON).get_json()
    assert stored.public_id not in str(asked) and data.decode() not in str(asked)
    assert asked["files_left"] == 4
    problem(client.get(f"/api/v1/collections/{counted['collection_id']}"), 404, "not_found")
    assert client.get(f"/c/{counted['collection_id']}", headers=JSON).status_code == 404
    mine = client.get(f"/api/v1/collections/{counted['collection_id']}", headers=alice).get_json()
    assert [f["id"] for f in mine["files"]] == [stored.public_id]


def test_uploads_count_against_the_owners_quota(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    user = services.accounts.principal_for_token(alice["Authorization"][7:])
    assert user is not None
    with services.db.write() as session:
        owner = session.get(User, user.user_id)
        assert owner is not None
        owner.quota_bytes = 20
    made = make_request(client, alice)
    assert send(client, upload_path(made), b"x" * 15).status_code == 201
    problem(send(client, upload_path(made), b"y" * 10), 507, "quota_exceeded")


def test_limits_on_files_and_bytes(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    made = make_request(client, alice, max_files=2, max_bytes=30)
    path = upload_path(made)
    assert send(client, path, b"a" * 10, "a.txt").status_code == 201
    problem(send(client, path, b"b" * 25, "b.txt"), 413, "request_bytes_exceeded")
    assert send(client, path, b"c" * 20, "c.txt").status_code == 201
    body = problem(send(client, path, b"d", "d.txt"), 409, "request_full")
    assert "2 files" in body["detail"]
    counted = client.get(f"/api/v1/requests/{made['id']}", headers=alice).get_json()
    assert (counted["received_files"], counted["received_bytes"]) == (2, 30)


def test_types_the_request_does_not_take_are_415(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    made = make_request(client, alice, allowed_types=["image/*"])
    problem(send(client, upload_path(made), b"plain words\n", "fake.png"), 415, "unsupported_type")
    assert send(client, upload_path(made), PNG, "dot.png").status_code == 201
    counted = client.get(f"/api/v1/requests/{made['id']}", headers=alice).get_json()
    assert counted["received_files"] == 1


def test_wrong_code_expired_request_and_disabled_owner(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    for path in ("/u/nope", "/u/" + "A" * 22, "/u/../../etc", "/u/%00"):
        assert send(client, path).status_code in (404, 405), path
    made = make_request(client, alice, expires_in=60)
    with services.db.write() as session:
        row = session.scalar(select(FileRequest))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    problem(send(client, upload_path(made)), 410, "request_closed")
    assert client.get(upload_path(made), headers=JSON).status_code == 410


def test_a_request_password(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    made = make_request(client, alice, password="let me in")
    path = upload_path(made)
    problem(send(client, path), 403, "password_required")
    problem(send(client, path, **{"X-File-Password": "wrong"}), 403, "wrong_password")
    assert send(client, path, **{"X-File-Password": "let me in"}).status_code == 201
    assert client.get(path, headers={**JSON, "X-File-Password": "let me in"}).status_code == 200
    # A browser unlocks it with the form; a new password sends it back to the form.
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 403 and b'name="password"' in page.data


def test_a_tus_upload_names_its_request(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    made = make_request(client, alice, max_files=1)
    code = made["links"]["upload"].split("/u/")[1]
    data = b"a large file, in pieces\n" * 100

    def create(length: int, code: str = code) -> Any:
        encoded = base64.b64encode(code.encode()).decode()
        meta = f"filename {base64.b64encode(b'big.txt').decode()},request {encoded}"
        return client.post(
            "/api/v1/uploads",
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(length),
                "Upload-Metadata": meta,
            },
        )

    problem(create(10, "wrongcode"), 404, "not_found")
    created = create(len(data))
    assert created.status_code == 201, created.get_data(as_text=True)
    url = urlsplit(created.headers["Location"]).path
    done = client.patch(
        url,
        data=data,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert done.status_code == 204, done.get_data(as_text=True)
    assert "X-File-Id" not in done.headers and "Location" not in done.headers  # no link
    assert "X-Token" not in done.headers
    assert done.headers["X-Receipt-Sha256"] == hashlib.sha256(data).hexdigest()  # the receipt
    counted = client.get(f"/api/v1/requests/{made['id']}", headers=alice).get_json()
    assert counted["received_files"] == 1
    collection = counted["collection_id"]
    with services.db.read() as session:
        assert len(list(session.scalars(select(CollectionItem)))) == 1
    assert collection
    problem(create(len(data)), 409, "request_full")  # refused at creation: no room left
