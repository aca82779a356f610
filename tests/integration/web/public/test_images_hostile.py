"""Hostile images and hostile parameters: refused fast, in bounded memory, leaving nothing."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from tests.support.files import temp_files
from tests.support.images import (
    gif_js_polyglot,
    header,
    huge_ifd_tiff,
    nested_tiff,
    photo,
    png_bomb,
    png_html_polyglot,
)
from tests.support.uploads import upload

MIB = 1024 * 1024


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def peak_growth_mib(action) -> float:  # type: ignore[no-untyped-def]
    """How far the process's peak RSS rose above its current RSS during ``action``."""
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS")
    action()
    return (_status_kib("VmHWM") - before) / 1024


def stored(client, data: bytes, name: str) -> str:  # type: ignore[no-untyped-def]
    response = upload(client, data, name)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def assert_still_serving(client) -> None:  # type: ignore[no-untyped-def]
    file_id = stored(client, photo("JPEG", (64, 48)), "ok.jpg")
    assert client.get(f"/i/{file_id}?w=32").status_code == 200


BOMBS = {
    "png-60000x60000": (png_bomb, "bomb.png"),
    "tiff-nested-chain": (nested_tiff, "nested.tiff"),
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_decompression_bombs_are_refused_fast_in_bounded_memory(client, settings, case):
    build, name = BOMBS[case]
    data = build()
    assert len(data) < 200 * 1024
    file_id = stored(client, data, name)
    results = {}

    def transform() -> None:
        started = time.perf_counter()
        results["response"] = client.get(f"/i/{file_id}?w=100&h=100")
        results["seconds"] = time.perf_counter() - started

    growth = peak_growth_mib(transform)
    response = results["response"]
    assert response.status_code == 422
    assert response.get_json()["code"] == "image_too_large"
    assert results["seconds"] < 1.0
    assert growth < 64, f"peak memory rose by {growth:.0f} MiB"
    assert temp_files(settings) == []
    assert_still_serving(client)


def test_a_bomb_with_upload_resize_is_refused_and_nothing_is_kept(client, settings):
    response = upload(client, png_bomb(), "bomb.png", w="100", h="100")
    assert response.status_code == 422
    assert response.get_json()["code"] == "image_too_large"
    assert temp_files(settings) == []


class TestConfigurablePixelLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"max_image_pixels": 10_000}

    def test_the_limit_comes_from_settings(self, client):
        file_id = stored(client, photo("JPEG", (200, 100)), "a.jpg")
        refused = client.get(f"/i/{file_id}?w=50")
        assert refused.status_code == 422
        assert refused.get_json()["code"] == "image_too_large"
        small = stored(client, photo("JPEG", (100, 100)), "b.jpg")
        assert client.get(f"/i/{small}?w=50").status_code == 200


def _truncated(fmt: str) -> bytes:
    data = photo(fmt, (320, 240))
    return data[: len(data) // 2]


def _corrupt_jpeg() -> bytes:
    data = bytearray(photo("JPEG", (320, 240)))
    data[20:400] = b"\xff" * 380  # the quantisation and Huffman tables
    return bytes(data)


BROKEN = {
    "truncated-jpeg": (lambda: _truncated("JPEG"), "t.jpg"),
    "truncated-png": (lambda: _truncated("PNG"), "t.png"),
    "truncated-webp": (lambda: _truncated("WEBP"), "t.webp"),
    "corrupt-jpeg-tables": (_corrupt_jpeg, "c.jpg"),
    "tiff-65535-entry-ifd": (huge_ifd_tiff, "h.tiff"),
    "polyglot-gif-javascript": (gif_js_polyglot, "p.gif"),
    "polyglot-png-html": (png_html_polyglot, "p.png"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_and_polyglot_images_give_422(client, settings, case):
    build, name = BROKEN[case]
    file_id = stored(client, build(), name)
    response = client.get(f"/i/{file_id}?w=100&h=100")
    assert response.status_code == 422
    assert response.get_json()["code"] == "corrupt_image"
    resized = upload(client, build(), name, w="50", h="50")
    assert resized.status_code == 422
    assert temp_files(settings) == []
    assert_still_serving(client)


def test_polyglot_is_never_served_as_html(client):
    file_id = stored(client, gif_js_polyglot(), "evil.html")
    response = client.get(f"/i/{file_id}")
    assert response.mimetype == "image/gif"
    assert "sandbox" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("w=0", "invalid_dimensions"),
        ("h=0", "invalid_dimensions"),
        ("w=-5", "invalid_dimensions"),
        ("h=-1", "invalid_dimensions"),
        ("w=100000", "invalid_dimensions"),
        ("w=100&h=100000", "invalid_dimensions"),
        ("w=abc", "invalid_dimensions"),
        ("w=1e3", "invalid_dimensions"),
        ("w=", "invalid_dimensions"),
        ("w=10&fmt=bmp", "invalid_transform"),
        ("w=10&fmt=", "invalid_transform"),
        ("w=10&fit=stretch", "invalid_transform"),
        ("w=10&q=0", "invalid_transform"),
        ("w=10&q=101", "invalid_transform"),
        ("w=10&q=-3", "invalid_transform"),
    ],
)
def test_bad_parameters_give_400(client, query, code):
    file_id = stored(client, photo("JPEG", (64, 48)), "a.jpg")
    response = client.get(f"/i/{file_id}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code


def test_max_dimension_is_allowed(client):
    file_id = stored(client, photo("JPEG", (64, 48)), "a.jpg")
    assert client.get(f"/i/{file_id}?w=8192&h=1").status_code == 200


def test_upload_of_a_bomb_without_resize_is_stored_but_never_decoded(client):
    start = time.perf_counter()
    response = client.post(
        "/",
        data={"file": (io.BytesIO(png_bomb()), "bomb.png")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201
    assert response.get_json()["image_size"] == [60000, 60000]
    assert time.perf_counter() - start < 1.0
    html = client.get(f"/p/{response.get_json()['id']}", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert "?w=" not in html  # no thumbnail is offered for an image over the limit


def test_header_of_variants_is_clean(client):
    file_id = stored(client, photo("JPEG", (64, 48)), "a.jpg")
    data = client.get(f"/i/{file_id}?w=32&fmt=png").data
    assert header(data).width == 32
