"""Every name a client gives is cleaned by the one function uploads use: at upload,
and on rename. Nothing it keeps can break a header, a path or the card's display."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from tests.support.api import make_token, post_file


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def _rename(client: FlaskClient, headers: dict[str, str], ident: str, name: str) -> str:
    etag = client.get(f"/api/v1/files/{ident}", headers=headers).headers["ETag"]
    response = client.patch(
        f"/api/v1/files/{ident}", json={"filename": name}, headers={**headers, "If-Match": etag}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["filename"])


@pytest.mark.parametrize(
    ("hostile", "kept"),
    [
        ("a\r\nSet-Cookie: pwn=1", "aSet-Cookie: pwn=1"),
        ("../../etc/passwd", "passwd"),
        ("nul\x00byte.txt", "nulbyte.txt"),
        ("a\u202egnp.exe", "agnp.exe"),
        ("\u2066isolate\u2069.txt", "isolate.txt"),
        ("...", "file.txt"),
    ],
)
def test_a_rename_is_cleaned_like_an_upload(
    client: FlaskClient, services: Services, hostile: str, kept: str
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice, data=b"plain text\n").get_json()["id"]
    assert _rename(client, alice, ident, hostile) == kept
    for route in (f"/i/{ident}", f"/d/{ident}"):
        served = client.get(route)
        assert served.status_code == 200
        assert "pwn" not in served.headers.get("Set-Cookie", "")
        assert "\r" not in served.headers.get("Content-Disposition", "")


def test_bidi_controls_never_reach_the_stored_name(client: FlaskClient) -> None:
    response = client.put("/" + quote("a\u202egnp.exe"), data=b"not a program\n")
    assert response.status_code == 201
    ident = response.headers["Location"].rsplit("/", 1)[-1]
    assert client.get(f"/p/{ident}").get_json()["filename"] == "agnp.exe"
