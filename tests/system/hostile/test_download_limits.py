"""``max_downloads`` holds against every way of asking for the bytes: Range spellings,
variants and conditional requests."""

from __future__ import annotations

import hashlib

import requests

from tests.support.images import image_bytes
from tests.support.production import ProductionServer, put_file

RANGES = ["bytes=-{size}", "bytes=00-", "BYTES=0-", "bytes=\t0-", "bytes=0-0,1-", None]


def test_no_spelling_of_range_gets_the_file_twice(server: ProductionServer) -> None:
    data = b"one download only, " * 500
    ident = put_file(server, "once.txt", data, max_downloads="1")
    full, statuses = 0, []
    for spelling in RANGES * 2:
        headers = {"Range": spelling.format(size=len(data))} if spelling else {}
        answer = requests.get(server.url(f"/i/{ident}"), headers=headers, timeout=10)
        statuses.append(answer.status_code)
        full += answer.content == data
    assert full == 1, statuses
    assert statuses.count(410) >= len(statuses) - 2, statuses


def test_a_converted_copy_is_a_download(server: ProductionServer) -> None:
    ident = put_file(server, "once.png", image_bytes("PNG", (64, 48)), max_downloads="1")
    converted = requests.get(server.url(f"/i/{ident}"), params={"fmt": "webp"}, timeout=10)
    assert converted.status_code == 200
    assert converted.headers["Content-Type"] == "image/webp"
    assert requests.get(server.url(f"/i/{ident}"), timeout=10).status_code == 410


def test_a_304_does_not_use_the_download_up(server: ProductionServer) -> None:
    data = b"cached elsewhere already"
    ident = put_file(server, "cached.txt", data, max_downloads="1")
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    for _ in range(3):
        answer = requests.get(
            server.url(f"/i/{ident}"), headers={"If-None-Match": etag}, timeout=10
        )
        assert answer.status_code == 304
    assert requests.get(server.url(f"/i/{ident}"), timeout=10).content == data
    assert requests.get(server.url(f"/i/{ident}"), timeout=10).status_code == 410
