"""GET /i, /d, /p and /s: what a browser or curl sees when it fetches a file."""

from __future__ import annotations

import hashlib
import html
import itertools
import re
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from pastefile.db.models import File
from pastefile.services.humanize import format_size
from pastefile.services.ids import BASE62
from tests.support.images import image_bytes
from tests.support.uploads import curl_upload, upload

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
DATA = bytes(range(256)) * 40  # 10240 bytes, every byte value


def _path(url: str) -> str:
    return urlsplit(url).path


def _uploaded(client, data: bytes = DATA, name: str = "blob.bin") -> dict:
    response = upload(client, data, name)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return response.get_json()


# --- /i/<id>: the raw bytes -------------------------------------------------------


def test_raw_serves_the_exact_bytes_with_and_without_extension(client):
    body = _uploaded(client)
    with_ext = client.get(_path(body["url_i"]))
    bare = client.get(f"/i/{body['id']}")
    assert with_ext.status_code == bare.status_code == 200
    assert with_ext.data == bare.data == DATA
    assert with_ext.headers["Content-Length"] == str(len(DATA))


@pytest.mark.parametrize("how", ["multipart", "put"])
def test_a_multi_megabyte_file_round_trips_byte_identical(client, how):
    # Far bigger than the form-field memory limit (64 KiB) and the 1 MiB parse buffer.
    data = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32 + 7)
    if how == "multipart":
        body = _uploaded(client, data, "big.bin")
    else:
        page = client.put("/big.bin", data=data, headers={"Accept": "*/*"})
        assert page.status_code == 201, page.get_data(as_text=True)
        body = client.get(_path(page.get_data(as_text=True).strip())).get_json()
    assert body["bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert client.get(f"/i/{body['id']}").data == data
    middle = client.get(f"/i/{body['id']}", headers={"Range": "bytes=1048570-1048585"})
    assert middle.data == data[1048570:1048586]


def test_range_request_gets_206_with_the_right_slice(client):
    body = _uploaded(client)
    response = client.get(f"/i/{body['id']}", headers={"Range": "bytes=100-299"})
    assert response.status_code == 206
    assert response.data == DATA[100:300]
    assert response.headers["Content-Range"] == f"bytes 100-299/{len(DATA)}"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_suffix_range_gets_the_tail(client):
    body = _uploaded(client)
    response = client.get(f"/i/{body['id']}", headers={"Range": "bytes=-10"})
    assert response.status_code == 206
    assert response.data == DATA[-10:]


def test_unsatisfiable_range_gets_416(client):
    body = _uploaded(client)
    response = client.get(f"/i/{body['id']}", headers={"Range": f"bytes={len(DATA) + 5}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(DATA)}"


def test_etag_is_the_content_sha256_and_if_none_match_gets_304(client):
    body = _uploaded(client)
    first = client.get(f"/i/{body['id']}")
    assert first.headers["ETag"] == f'"{hashlib.sha256(DATA).hexdigest()}"'
    again = client.get(f"/i/{body['id']}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    other = client.get(f"/i/{body['id']}", headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200
    assert other.data == DATA


def test_last_modified_is_the_upload_time_and_if_modified_since_gets_304(client):
    body = _uploaded(client)
    first = client.get(f"/i/{body['id']}")
    last_modified = parsedate_to_datetime(first.headers["Last-Modified"])
    assert abs(last_modified - datetime.fromisoformat(body["time"])) <= timedelta(seconds=1)
    same = client.get(
        f"/i/{body['id']}", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert same.status_code == 304
    earlier = format_datetime(last_modified - timedelta(days=1), usegmt=True)
    older_copy = client.get(f"/i/{body['id']}", headers={"If-Modified-Since": earlier})
    assert older_copy.status_code == 200
    assert older_copy.data == DATA


def test_raw_of_a_plain_file_is_inline(client):
    body = _uploaded(client, b"just some text\n", "notes.txt")
    response = client.get(_path(body["url_i"]))
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("inline")


def test_raw_image_is_inline_and_embeddable_cross_origin(client):
    png = image_bytes()
    body = _uploaded(client, png, "cat.png")
    response = client.get(_path(body["url_i"]))
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.data == png


ACTIVE_CONTENT = {
    "html": (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "text/html"),
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>',
        "image/svg+xml",
    ),
    "xml": (b'<?xml version="1.0"?>\n<root><a>1</a></root>\n', "text/xml"),
    "js": (b"#!/usr/bin/env node\nconsole.log(document.cookie)\n", "application/javascript"),
}


@pytest.mark.parametrize("kind", sorted(ACTIVE_CONTENT))
@pytest.mark.parametrize("route", ["i", "i-ext"])
def test_active_content_is_never_served_inline(client, kind, route):
    data, mimetype = ACTIVE_CONTENT[kind]
    body = _uploaded(client, data, f"page.{kind}")
    assert body["mimetype"] == mimetype
    url = _path(body["url_i"]) if route == "i-ext" else f"/i/{body['id']}"
    response = client.get(url, headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Security-Policy"].split(";")[0].strip() == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data == data


def test_client_cannot_smuggle_html_as_an_image_name(client):
    data = ACTIVE_CONTENT["html"][0]
    body = _uploaded(client, data, "cute-cat.png")
    assert body["mimetype"] == "text/html"
    assert not body["url_i"].endswith(".png")
    response = client.get(_path(body["url_i"]), headers=BROWSER)
    assert response.mimetype != "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_text_extension_chooses_among_text_types_and_never_makes_html(client):
    # Markdown with a <script> line reads as HTML to libmagic; its name says Markdown.
    markdown = _uploaded(client, b"# Notes\n\n<script>alert(1)</script>\n\n- one\n", "notes.md")
    assert markdown["mimetype"] == "text/markdown"
    assert markdown["url_i"].endswith(".md")
    response = client.get(_path(markdown["url_i"]), headers=BROWSER)
    assert response.mimetype == "text/markdown"  # never text/html, whatever the bytes
    assert response.headers["Content-Security-Policy"].split(";")[0].strip() == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    python = _uploaded(client, b"print('hi')\n" * 3, "hello.py")
    assert python["mimetype"] == "text/x-python" and python["url_i"].endswith(".py")
    # A name never makes text active, nor turns non-text into text.
    assert _uploaded(client, b"# just notes\n", "notes.html")["mimetype"] == "text/plain"
    png = _uploaded(client, image_bytes(), "picture.md")
    assert png["mimetype"] == "image/png"


# --- nosniff everywhere ------------------------------------------------------------


def test_nosniff_is_sent_on_every_kind_of_response(client):
    body = _uploaded(client)
    responses = [
        client.get("/"),
        client.get(f"/i/{body['id']}"),
        client.get(f"/i/{body['id']}", headers={"Range": "bytes=0-1"}),
        client.get(f"/i/{body['id']}", headers={"If-None-Match": f'"{body["sha256"]}"'}),
        client.get(f"/d/{body['id']}"),
        client.get(f"/p/{body['id']}"),
        client.get(f"/p/{body['id']}", headers=BROWSER),
        client.get(_path(body["url_s"])),
        client.get("/i/doesNotExist0"),
        client.get("/p/doesNotExist0", headers=BROWSER),
        client.post("/", data={}, headers={"Accept": "application/json"}),
        client.delete("/"),
    ]
    statuses = {r.status_code for r in responses}
    assert {200, 206, 304, 302, 404, 400, 405} <= statuses
    for response in responses:
        assert response.headers.get("X-Content-Type-Options") == "nosniff", response.status


# --- /d/<id>: downloads -------------------------------------------------------------


def test_download_is_an_attachment_under_the_original_name(client):
    body = _uploaded(client, b"quarterly numbers\n", "report-2024.txt")
    response = client.get(_path(body["url_d"]))
    assert response.status_code == 200
    assert response.data == b"quarterly numbers\n"
    assert response.headers["Content-Disposition"] == "attachment; filename=report-2024.txt"


def test_download_of_a_unicode_name_uses_rfc5987_filename_star(client):
    name = "résumé 你好.txt"
    body = _uploaded(client, b"bonjour\n", name)
    disposition = client.get(_path(body["url_d"])).headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    ascii_part = re.search(r'filename="?([^";]*)"?;', disposition)
    assert ascii_part is not None
    assert ascii_part.group(1).isascii()


def test_download_of_an_image_is_still_an_attachment(client):
    png = image_bytes()
    body = _uploaded(client, png, "holiday.png")
    response = client.get(_path(body["url_d"]))
    assert response.headers["Content-Disposition"] == "attachment; filename=holiday.png"
    assert response.data == png


def test_download_supports_range_for_resuming(client):
    body = _uploaded(client)
    response = client.get(_path(body["url_d"]), headers={"Range": "bytes=10240-"})
    assert response.status_code == 416
    response = client.get(_path(body["url_d"]), headers={"Range": "bytes=5000-"})
    assert response.status_code == 206
    assert response.data == DATA[5000:]


# --- /p/<id>: the file card ------------------------------------------------------------


def test_card_shows_everything_a_user_needs_for_an_image(client):
    png = image_bytes(size=(64, 48))
    body = _uploaded(client, png, "cat.png")
    page = client.get(_path(body["url_p"]), headers=BROWSER)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "cat.png" in text
    assert f"<dd>{format_size(len(png))}</dd>" in text  # the UI's one size format
    assert "image/png" in text
    assert body["time"] in text
    for link in ("url_d", "url_i", "url_s"):
        assert f'href="{body[link]}"' in text
    assert re.search(rf'<img [^>]*src="{re.escape(body["url_i"])}"', text)
    snippets = _snippets(text)
    assert snippets["URL"] == body["url_i"]
    assert snippets["Markdown"] == f"![cat.png]({body['url_i']})"
    assert snippets["HTML"] == f'<img src="{body["url_i"]}" alt="cat.png">'
    assert snippets["BBCode"] == f"[img]{body['url_i']}[/img]"


def test_card_of_a_non_image_links_instead_of_embedding(client):
    body = _uploaded(client, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "paper.pdf")
    text = client.get(_path(body["url_p"]), headers=BROWSER).get_data(as_text=True)
    assert _images_of(text, body["id"]) == []
    assert "paper.pdf" in text
    assert body["mimetype"] in text
    snippets = _snippets(text)
    assert snippets["URL"] == body["url_i"]
    assert snippets["Markdown"] == f"[paper.pdf]({body['url_i']})"
    assert snippets["HTML"] == f'<a href="{body["url_i"]}">paper.pdf</a>'
    assert snippets["BBCode"] == f"[url={body['url_i']}]paper.pdf[/url]"


def test_card_of_an_svg_does_not_embed_it(client):
    data, _ = ACTIVE_CONTENT["svg"]
    body = _uploaded(client, data, "logo.svg")
    text = client.get(_path(body["url_p"]), headers=BROWSER).get_data(as_text=True)
    assert _images_of(text, body["id"]) == []
    assert "[img]" not in text


@pytest.mark.parametrize(
    "hostile",
    [
        '"><img src=x onerror=alert(1)>.png',
        "<script>alert(1)</script>.png",
        "<b onmouseover=alert(1)>x</b>.png",
    ],
)
def test_card_escapes_a_hostile_filename(client, hostile):
    body = curl_upload(client, image_bytes(), hostile).get_json()
    shown = body["filename"]
    assert "/" not in shown
    text = client.get(_path(body["url_p"]), headers=BROWSER).get_data(as_text=True)
    page = _Page.parse(text)
    # The only scripts are the UI's own files (the copy buttons); none came from the name.
    scripts = [dict(attrs) for tag, attrs in page.elements if tag == "script"]
    assert all((s.get("src") or "").startswith("/static/") for s in scripts)
    assert "b" not in page.tags
    assert not [name for _, attrs in page.elements for name, _ in attrs if name.startswith("on")]
    # The preview is the file's only <img>, the name only its alt text; no injected one.
    images = [dict(attrs) for tag, attrs in page.elements if tag == "img"]
    assert [img for img in images if img.get("src") == "x"] == []
    (preview,) = [img for img in images if img.get("src") == body["url_i"]]
    assert preview["alt"] == shown
    assert shown in page.text
    assert _snippets(text)["Markdown"] == f"![{shown}]({body['url_i']})"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text = ""

    @property
    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text += data

    @classmethod
    def parse(cls, text: str) -> _Page:
        page = cls()
        page.feed(text)
        page.close()
        return page


def test_card_for_non_browsers_is_json(client):
    body = _uploaded(client, b"abc", "a.txt")
    response = client.get(_path(body["url_p"]), headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    card = response.get_json()
    book_fields = {"url_d", "url_i", "url_s", "url_p", "filename", "size", "time", "type"}
    assert set(card) >= book_fields | {"id", "sha256", "bytes", "mimetype"}
    assert card == {key: body[key] for key in card}


def _images_of(page: str, public_id: str) -> list[str]:
    """The <img> tags on a page that show this file."""
    return [tag for tag in re.findall(r"<img\b[^>]*>", page) if public_id in tag]


def _snippets(page: str) -> dict[str, str]:
    labels = re.findall(r'<label for="(snippet-\w+-\d+)">([^<]+)</label>', page)
    values = dict(
        re.findall(r'<input id="(snippet-\w+-\d+)" class="snippet" readonly value="([^"]*)"', page)
    )
    return {label: html.unescape(values[key]) for key, label in labels}


# --- /s/<code>: short links ----------------------------------------------------------


def test_short_link_redirects_to_the_card(client):
    body = _uploaded(client)
    response = client.get(_path(body["url_s"]))
    assert response.status_code in (301, 302, 303, 307, 308)
    assert _path(response.headers["Location"]) == f"/p/{body['id']}"
    followed = client.get(_path(body["url_s"]), follow_redirects=True, headers=BROWSER)
    assert followed.status_code == 200
    assert "blob.bin" in followed.get_data(as_text=True)


def _base62_value(code: str) -> int:
    value = 0
    for char in code:
        value = value * 62 + BASE62.index(char)
    return value


def test_short_codes_and_ids_are_random_not_sequential(client):
    bodies = [_uploaded(client, f"file number {n}\n".encode(), f"{n}.txt") for n in range(6)]
    codes = [_path(b["url_s"]).removeprefix("/s/") for b in bodies]
    ids = [b["id"] for b in bodies]
    for code in codes:
        assert len(code) >= 6
        assert set(code) <= set(BASE62)
    for ident in ids:
        assert len(ident) >= 6
        assert set(ident) <= set(BASE62)
    assert len(set(codes)) == len(set(ids)) == 6
    for a, b in itertools.combinations(codes, 2):
        assert abs(_base62_value(a) - _base62_value(b)) > 62**3, (a, b)
    for a, b in itertools.combinations(ids, 2):
        assert abs(_base62_value(a) - _base62_value(b)) > 62**3, (a, b)


def test_public_ids_are_not_row_ids(client, services):
    bodies = [_uploaded(client, f"row {n}\n".encode(), "r.txt") for n in range(3)]
    with services.db.read() as session:
        rows = {f.public_id: f for f in session.scalars(select(File))}
    for body in bodies:
        row = rows[body["id"]]
        assert str(row.id) not in (body["id"], _path(body["url_s"]).removeprefix("/s/"))
        for route in ("i", "d", "p", "s"):
            assert client.get(f"/{route}/{row.id}").status_code == 404
