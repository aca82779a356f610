"""POST / and PUT /<name>: the book's upload contract, on every database."""

from __future__ import annotations

import hashlib
import io
import re

from tests.support.api import make_token, post_file
from tests.support.files import stored_blobs, temp_files
from tests.support.images import image_bytes
from tests.support.uploads import upload

BOOK_FIELDS = {"url_d", "url_i", "url_s", "url_p", "filename", "size", "time", "type", "quoteurl"}
OUR_FIELDS = {"id", "sha256", "bytes", "mimetype"}


def test_multipart_upload_returns_the_book_fields(client, settings):
    data = b"hello pastefile\n" * 2156  # 34496 bytes: the book's '33.69 kB'
    response = upload(client, data, "notes.txt")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) >= BOOK_FIELDS | OUR_FIELDS
    assert body["size"] == "33.69 kB"
    assert body["bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["filename"] == "notes.txt"
    assert body["mimetype"] == "text/plain"
    assert body["type"] == "text"
    assert body["url_i"] == f"http://files.test/i/{body['id']}.txt"
    assert response.headers["Location"] == body["url_p"]
    assert client.get(body["url_i"]).data == data
    assert len(stored_blobs(settings)) == 1
    assert temp_files(settings) == []


def test_curl_style_accept_gets_json(client):
    response = client.post(
        "/", data={"file": (io.BytesIO(b"x" * 10), "a.txt")}, headers={"Accept": "*/*"}
    )
    assert response.mimetype == "application/json"


def test_browser_gets_the_file_card(client):
    response = client.post(
        "/",
        data={"file": (io.BytesIO(image_bytes()), "cat.png")},
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert "cat.png" in html
    assert "[img]http://files.test/i/" in html
    assert re.search(r'<img class="preview" src="http://files.test/i/\w+\.png"', html)


def test_identical_bytes_from_another_uploader_keep_their_own_name(client, services, settings):
    first = upload(client, b"same bytes", "one.txt")
    second = upload(client, b"same bytes", "two.txt")
    assert first.status_code == 201 and second.status_code == 201
    mine, theirs = first.get_json(), second.get_json()
    # A new record on the same blob: the second uploader's name, time, links and token.
    assert theirs["filename"] == "two.txt" and mine["filename"] == "one.txt"
    assert theirs["url_p"] != mine["url_p"] and theirs["url_s"] != mine["url_s"]
    assert theirs["token"] and theirs["token"] != mine["token"]
    assert theirs["time"] >= mine["time"]
    assert len(stored_blobs(settings)) == 1
    assert temp_files(settings) == []
    # Each token manages only its own record.
    gone = client.delete(f"/api/v1/files/{theirs['id']}", headers={"X-Token": theirs["token"]})
    assert gone.status_code == 204
    assert client.get(mine["url_p"].removeprefix("http://files.test")).status_code == 200


def test_an_owner_reuploading_their_own_bytes_gets_their_file_back(client, services):
    alice = make_token(services, "alice")
    first = post_file(client, alice, data=b"mine twice", name="a.txt")
    again = post_file(client, alice, data=b"mine twice", name="b.txt")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]


def test_type_comes_from_content_not_name_or_header(client):
    png = image_bytes("PNG")
    response = client.post(
        "/",
        data={"file": (io.BytesIO(png), "innocent.txt", "text/plain")},
        headers={"Accept": "application/json"},
    )
    body = response.get_json()
    assert body["mimetype"] == "image/png"
    assert body["url_i"].endswith(".png")
    assert body["image_size"] == [64, 48]


def test_put_upload_answers_with_the_url_as_text(client):
    response = client.put("/report.txt", data=b"put me", headers={"Accept": "*/*"})
    assert response.status_code == 201
    assert response.mimetype == "text/plain"
    url = response.get_data(as_text=True).strip()
    assert url.startswith("http://files.test/p/")
    preview = client.get(url, headers={"Accept": "application/json"}).get_json()
    assert preview["filename"] == "report.txt"
    assert client.get(preview["url_i"]).data == b"put me"


def test_upload_with_w_and_h_crop_resizes_before_saving(client):
    response = upload(client, image_bytes("JPEG", (400, 300)), "big.jpg", w="100", h="100")
    body = response.get_json()
    assert response.status_code == 201
    assert body["image_size"] == [100, 100]
    assert body["mimetype"] == "image/jpeg"


def test_unicode_filename_survives(client):
    body = upload(client, b"\xe4\xbd\xa0\xe5\xa5\xbd", "你好 世界.txt").get_json()
    assert body["filename"] == "你好 世界.txt"
