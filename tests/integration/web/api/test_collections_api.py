"""/api/v1/collections and the public /c/ routes, on every database: create, read through
the gate, change with If-Match, add and remove files, the zip with Range and If-Range,
and hostile input (others' files, private and protected members, bad ranges, odd ids)."""

from __future__ import annotations

import io
import zipfile

import pytest
from flask.testing import FlaskClient

from tests.support.api import make_token, post_file, problem


@pytest.fixture
def alice(services):  # type: ignore[no-untyped-def]
    return make_token(services, "alice")


def _files(client: FlaskClient, headers: dict[str, str], *contents: tuple[str, bytes], **fields):  # type: ignore[no-untyped-def]
    ids = []
    for name, data in contents:
        response = post_file(client, headers, data, name, **fields)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        ids.append(response.get_json()["id"])
    return ids


def _create(client: FlaskClient, headers: dict[str, str], **body):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/collections", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def test_create_read_list_and_zip(client: FlaskClient, alice: dict[str, str]) -> None:
    ids = _files(client, alice, ("a.txt", b"alpha " * 100), ("b.txt", b"beta"), ("a.txt", b"gamma"))
    created = _create(client, alice, title="Holiday", files=ids).get_json()
    assert [f["id"] for f in created["files"]] == ids and created["token"] is None
    ident = created["id"]
    got = client.get(f"/api/v1/collections/{ident}")
    assert got.status_code == 200 and got.headers["ETag"] == f'"{ident}-v{created_version(got)}"'
    assert (
        client.get(
            f"/api/v1/collections/{ident}", headers={"If-None-Match": got.headers["ETag"]}
        ).status_code
        == 304
    )
    listed = client.get("/api/v1/collections", headers=alice)
    assert [c["id"] for c in listed.get_json()] == [ident] and listed.headers[
        "X-Total-Count"
    ] == "1"
    short = client.get("/s/" + created["links"]["short"].rsplit("/", 1)[1])
    assert short.status_code == 302 and short.headers["Location"].endswith(f"/c/{ident}")

    whole = client.get(f"/c/{ident}.zip")
    assert whole.status_code == 200 and whole.mimetype == "application/zip"
    assert int(whole.headers["Content-Length"]) == len(whole.data) == created["zip_size"]
    assert whole.headers["Accept-Ranges"] == "bytes" and not whole.headers["ETag"].startswith("W/")
    with zipfile.ZipFile(io.BytesIO(whole.data)) as archive:
        assert archive.namelist() == ["a.txt", "b.txt", "a (2).txt"]
        assert archive.read("a (2).txt") == b"gamma"
    part = client.get(
        f"/c/{ident}.zip", headers={"Range": "bytes=100-", "If-Range": whole.headers["ETag"]}
    )
    assert part.status_code == 206 and part.data == whole.data[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{len(whole.data) - 1}/{len(whole.data)}"
    stale = client.get(f"/c/{ident}.zip", headers={"Range": "bytes=100-", "If-Range": '"zother"'})
    assert stale.status_code == 200 and stale.data == whole.data
    suffix = client.get(f"/c/{ident}.zip", headers={"Range": "bytes=-30"})
    assert suffix.status_code == 206 and suffix.data == whole.data[-30:]
    bad = client.get(f"/c/{ident}.zip", headers={"Range": f"bytes={len(whole.data)}-"})
    problem(bad, 416, "requested_range_not_satisfiable")
    assert bad.headers["Content-Range"] == f"bytes */{len(whole.data)}"


def created_version(response) -> int:  # type: ignore[no-untyped-def]
    return int(response.headers["ETag"].strip('"').rsplit("-v", 1)[1])


def test_patch_needs_if_match_and_changes(client: FlaskClient, alice: dict[str, str]) -> None:
    ids = _files(client, alice, ("1.txt", b"one"), ("2.txt", b"two"))
    made = _create(client, alice, title="t", files=ids)
    url = f"/api/v1/collections/{made.get_json()['id']}"
    problem(client.patch(url, json={"title": "x"}, headers=alice), 428, "precondition_required")
    changed = client.patch(
        url,
        json={"title": "New", "order": [ids[1]]},
        headers={**alice, "If-Match": made.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (
        changed.get_json()["title"] == "New"
        and [f["id"] for f in changed.get_json()["files"]] == ids[::-1]
    )
    stale = client.patch(
        url, json={"title": "y"}, headers={**alice, "If-Match": made.headers["ETag"]}
    )
    problem(stale, 412, "precondition_failed")
    removed = client.delete(f"{url}/files", json={"files": [ids[0]]}, headers=alice)
    assert [f["id"] for f in removed.get_json()["files"]] == [ids[1]]
    added = client.post(f"{url}/files", json={"files": [ids[0]]}, headers=alice)
    assert [f["id"] for f in added.get_json()["files"]] == [ids[1], ids[0]]
    assert client.delete(url, headers=alice).status_code == 204
    problem(client.get(url), 404, "not_found")
    assert client.get(f"/api/v1/files/{ids[0]}").status_code == 200  # the files stay


def test_members_rules_hold_in_page_api_and_zip(client: FlaskClient, services, alice) -> None:  # type: ignore[no-untyped-def]
    (public,) = _files(client, alice, ("public.txt", b"for everyone"))
    (private,) = _files(client, alice, ("private.txt", b"SECRET-PRIVATE"), visibility="private")
    (locked,) = _files(client, alice, ("locked.txt", b"SECRET-LOCKED"), password="pw-file")
    (expired,) = _files(client, alice, ("soon.txt", b"SECRET-EXPIRED"), max_downloads=1)
    assert client.get(f"/d/{expired}").status_code == 200  # used up now
    ident = _create(client, alice, files=[public, private, locked, expired]).get_json()["id"]
    seen = client.get(
        f"/api/v1/collections/{ident}", headers={"X-File-Password": "pw-file"}
    ).get_json()
    assert [f["id"] for f in seen["files"]] == [public]
    whole = client.get(f"/c/{ident}.zip", headers={"X-File-Password": "pw-file"}).data
    assert b"SECRET" not in whole
    with zipfile.ZipFile(io.BytesIO(whole)) as archive:
        assert archive.namelist() == ["public.txt"]
    page = client.get(f"/c/{ident}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "public.txt" in page and "private.txt" not in page and "locked.txt" not in page
    owner = client.get(f"/c/{ident}.zip", headers=alice)
    with zipfile.ZipFile(io.BytesIO(owner.data)) as archive:
        assert set(archive.namelist()) == {"public.txt", "private.txt", "locked.txt"}
    assert owner.headers["ETag"] != client.get(f"/c/{ident}.zip").headers["ETag"]


def test_others_files_and_collections_are_refused(client: FlaskClient, services, alice) -> None:  # type: ignore[no-untyped-def]
    mallory = make_token(services, "mallory")
    (hers,) = _files(client, alice, ("hers.txt", b"alice's"))
    problem(
        client.post("/api/v1/collections", json={"files": [hers]}, headers=mallory),
        403,
        "forbidden",
    )
    theirs = _create(client, mallory).get_json()["id"]
    problem(
        client.post(f"/api/v1/collections/{theirs}/files", json={"files": [hers]}, headers=mallory),
        403,
        "forbidden",
    )
    mine = _create(client, alice, files=[hers]).get_json()["id"]
    (own,) = _files(client, mallory, ("own.txt", b"mallory's"))
    problem(
        client.post(f"/api/v1/collections/{mine}/files", json={"files": [own]}, headers=mallory),
        403,
        "forbidden",
    )
    problem(client.delete(f"/api/v1/collections/{mine}", headers=mallory), 403, "forbidden")
    hidden = _create(client, alice, visibility="private").get_json()["id"]
    problem(client.get(f"/api/v1/collections/{hidden}", headers=mallory), 404, "not_found")
    problem(client.get(f"/c/{hidden}.zip"), 404, "not_found")


def test_password_and_limits_of_the_collection(client: FlaskClient, alice) -> None:  # type: ignore[no-untyped-def]
    (f,) = _files(client, alice, ("x.txt", b"xx"))
    ident = _create(client, alice, files=[f], password="coll-pw", max_downloads=1).get_json()["id"]
    problem(client.get(f"/c/{ident}.zip"), 403, "password_required")
    problem(
        client.get(f"/c/{ident}.zip", headers={"X-File-Password": "nope"}), 403, "wrong_password"
    )
    ok = client.get(f"/c/{ident}.zip", headers={"X-File-Password": "coll-pw"})
    assert ok.status_code == 200
    resumed = client.get(
        f"/c/{ident}.zip", headers={"X-File-Password": "coll-pw", "Range": "bytes=10-"}
    )
    assert resumed.status_code == 410  # the one download was used, resuming or not
    page = client.get(f"/c/{ident}", headers={"Accept": "text/html"})
    assert page.status_code == 410


@pytest.mark.parametrize(
    "path",
    [
        "/c/" + "A" * 5000,
        "/c/%00",
        "/c/..%2f..%2fetc",
        "/c/abc.zip.zip",
        "/api/v1/collections/" + "9" * 40,
        "/s/" + "Z" * 8,
    ],
)
def test_odd_ids_are_404(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_anonymous_collection_with_the_uploads_token(client: FlaskClient) -> None:
    first = post_file(client, {}, b"anon one", "one.txt")
    token = first.get_json()["token"]
    created = client.post(
        "/api/v1/collections", json={"files": [first.get_json()["id"]]}, headers={"X-Token": token}
    )
    assert created.status_code == 201 and created.get_json()["token"] is None
    ident = created.get_json()["id"]
    problem(client.delete(f"/api/v1/collections/{ident}"), 403, "forbidden")
    assert (
        client.delete(f"/api/v1/collections/{ident}", headers={"X-Token": token}).status_code == 204
    )


def _tus_metadata(**values: str) -> str:
    import base64

    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def test_multipart_and_tus_upload_into_a_collection(client: FlaskClient, services, alice) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import urlsplit

    made = client.post("/api/v1/collections", json={"title": "inbox"})
    ident, token = made.get_json()["id"], made.get_json()["token"]
    mine = {"X-Token": token}
    first = post_file(client, mine, b"multipart bytes", "m.txt", collection=ident)
    assert first.status_code == 201 and first.get_json()["token"] is None
    tus = {"Tus-Resumable": "1.0.0", **mine}
    created = client.post(
        "/api/v1/uploads",
        headers={
            **tus,
            "Upload-Length": "9",
            "Upload-Metadata": _tus_metadata(filename="t.txt", collection=ident),
        },
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    path = urlsplit(created.headers["Location"]).path
    done = client.patch(
        path,
        data=b"tus bytes",
        content_type="application/offset+octet-stream",
        headers={**tus, "Upload-Offset": "0"},
    )
    assert done.status_code == 204, done.get_data(as_text=True)
    listed = client.get(f"/api/v1/collections/{ident}").get_json()
    assert [f["filename"] for f in listed["files"]] == ["m.txt", "t.txt"]
    # Without the collection's token (or as someone else): refused before any byte is kept.
    problem(post_file(client, {}, b"intruder", "i.txt", collection=ident), 403, "forbidden")
    problem(post_file(client, alice, b"intruder", "i.txt", collection=ident), 403, "forbidden")
    refused = client.post(
        "/api/v1/uploads",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "3",
            "Upload-Metadata": _tus_metadata(collection=ident),
        },
    )
    problem(refused, 403, "forbidden")
    assert len(client.get(f"/api/v1/collections/{ident}").get_json()["files"]) == 2


def test_a_broken_and_resumed_zip_download_counts_once(client: FlaskClient, alice) -> None:  # type: ignore[no-untyped-def]
    ids = _files(client, alice, ("c.txt", b"count me " * 50))
    ident = _create(client, alice, files=ids).get_json()["id"]
    first = client.get(f"/c/{ident}.zip", headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    rest = client.get(
        f"/c/{ident}.zip", headers={"Range": "bytes=100-", "If-Range": first.headers["ETag"]}
    )
    assert rest.status_code == 206 and len(first.data + rest.data) == int(
        rest.headers["Content-Range"].rsplit("/", 1)[1]
    )
    assert client.head(f"/c/{ident}.zip").status_code == 200
    assert client.get(f"/api/v1/collections/{ident}").get_json()["downloads"] == 1
