"""A collection's zip from a live production server: a download broken off half way
and resumed (with Range + If-Range, and with ``curl -C -``) is byte-identical to a
full one, opens with Python's zipfile and passes Debian's ``unzip -t``."""

from __future__ import annotations

import hashlib
import random
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.production import ProductionServer, production_server

NAMES = ["photo.jpg", "Résumé 履歴書.txt", "photo.jpg", "data.bin"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionServer]:
    with production_server(tmp_path_factory.mktemp("zip")) as running:
        yield running


@pytest.fixture(scope="module")
def collection(server: ProductionServer) -> tuple[str, dict[str, bytes]]:
    rng = random.Random(17)
    contents = [
        rng.randbytes(3_000_000),
        "ünïcödé text\n".encode() * 1000,
        rng.randbytes(50),
        rng.randbytes(2_000_000),
    ]
    made = requests.post(server.url("/api/v1/collections"), json={"title": "Trip 2026"}, timeout=30)
    assert made.status_code == 201, made.text
    ident, token = made.json()["id"], made.json()["token"]
    for name, data in zip(NAMES, contents, strict=True):
        # An anonymous upload into the collection, proven by the collection's token.
        answer = requests.post(
            server.url("/api/v1/files"),
            files={"file": (name, data)},
            data={"collection": ident},
            headers={"X-Token": token},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["token"] is None  # the collection's token manages it
    expected = {
        "photo.jpg": contents[0],
        "Résumé 履歴書.txt": contents[1],
        "photo (2).jpg": contents[2],
        "data.bin": contents[3],
    }
    return ident, expected


def _check(path: Path, expected: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert {n: archive.read(n) for n in archive.namelist()} == expected
    unzip = shutil.which("unzip")
    assert unzip, "apt-get install unzip"
    tested = subprocess.run([unzip, "-t", str(path)], capture_output=True, text=True, check=False)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout


def test_broken_download_resumed_with_range_is_identical(
    server, collection, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ident, expected = collection
    url = server.url(f"/c/{ident}.zip")
    full = requests.get(url, timeout=60)
    assert full.status_code == 200 and int(full.headers["Content-Length"]) == len(full.content)
    etag = full.headers["ETag"]
    for cut in (1, 2_999_999, 3_100_123, len(full.content) - 10):
        with requests.get(url, stream=True, timeout=60) as broken:
            head = b""
            for chunk in broken.iter_content(65536):
                head += chunk
                if len(head) >= cut:
                    break  # the connection drops here
        head = head[:cut]
        rest = requests.get(url, headers={"Range": f"bytes={cut}-", "If-Range": etag}, timeout=60)
        assert rest.status_code == 206, rest.text
        assert (
            rest.headers["Content-Range"]
            == f"bytes {cut}-{len(full.content) - 1}/{len(full.content)}"
        )
        assert hashlib.sha256(head + rest.content).digest() == hashlib.sha256(full.content).digest()
    path = tmp_path / "trip.zip"
    path.write_bytes(full.content)
    _check(path, expected)


def test_curl_resumes_a_partial_file(server, collection, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ident, expected = collection
    url = server.url(f"/c/{ident}.zip")
    full = requests.get(url, timeout=60).content
    path = tmp_path / "partial.zip"
    path.write_bytes(full[:4_321_000])  # what a broken download left on disk
    curl = shutil.which("curl")
    assert curl
    done = subprocess.run(
        [curl, "-sS", "-f", "-C", "-", "-o", str(path), url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == full
    _check(path, expected)


def test_bad_ranges_and_zip_headers(server, collection) -> None:  # type: ignore[no-untyped-def]
    ident, _ = collection
    url = server.url(f"/c/{ident}.zip")
    head = requests.head(url, timeout=30)
    length = int(head.headers["Content-Length"])
    assert head.headers["Accept-Ranges"] == "bytes" and head.headers["ETag"].startswith('"z')
    assert "attachment" in head.headers["Content-Disposition"]
    bad = requests.get(url, headers={"Range": f"bytes={length + 5}-"}, timeout=30)
    assert bad.status_code == 416 and bad.headers["Content-Type"] == "application/problem+json"
    assert bad.headers["Content-Range"] == f"bytes */{length}"
    many = requests.get(url, headers={"Range": "bytes=0-1,5-6"}, timeout=30)
    assert many.status_code == 200 and len(many.content) == length  # several ranges: the whole zip
    junk = requests.get(url, headers={"Range": "bytes=zz"}, timeout=30)
    assert junk.status_code == 200
    page = requests.get(server.url(f"/c/{ident}"), headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and "Trip 2026" in page.text and "photo (2).jpg" not in page.text
