"""What counts as a download: a GET whose response carries the file's first byte,
of the file or of a variant made from it. However a Range is spelt, the whole file
is never free; a 304, a HEAD or a range that starts later uses nothing up."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.images import image_bytes

BODY = b"0123456789" * 100


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def _limited(client: FlaskClient, data: bytes = BODY, name: str = "n.txt", times: int = 1) -> str:
    response = client.put(f"/{name}?max_downloads={times}", data=data)
    assert response.status_code == 201
    return response.headers["Location"].rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    "spelling", [f"bytes=-{len(BODY)}", "bytes=00-", "BYTES=0-", "bytes=\t0-", "bytes=0-0"]
)
def test_every_spelling_of_a_range_from_the_start_is_a_download(
    client: FlaskClient, spelling: str
) -> None:
    ident = _limited(client)
    first = client.get(f"/i/{ident}", headers={"Range": spelling})
    assert first.status_code in (200, 206)
    assert first.data[:1] == b"0"
    assert client.get(f"/i/{ident}").status_code == 410


def test_a_range_that_starts_later_is_not_a_download(client: FlaskClient) -> None:
    ident = _limited(client)
    rest = client.get(f"/i/{ident}", headers={"Range": "bytes=500-"})
    assert rest.status_code == 206 and rest.data == BODY[500:]
    assert client.get(f"/d/{ident}").status_code == 200
    assert client.get(f"/d/{ident}").status_code == 410


def test_a_variant_is_a_download_of_its_source(client: FlaskClient) -> None:
    ident = _limited(client, image_bytes("PNG", (40, 30)), "p.png")
    assert client.get(f"/i/{ident}?fmt=webp").status_code == 200
    assert client.get(f"/i/{ident}?fmt=png").status_code == 410
    assert client.get(f"/i/{ident}").status_code == 410


def test_not_modified_and_head_use_nothing_up(client: FlaskClient) -> None:
    ident = _limited(client)
    etag = client.head(f"/i/{ident}").headers["ETag"]
    for _ in range(3):
        assert client.get(f"/i/{ident}", headers={"If-None-Match": etag}).status_code == 304
    assert client.get(f"/i/{ident}").status_code == 200
    assert client.get(f"/i/{ident}").status_code == 410
