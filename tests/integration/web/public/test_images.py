"""GET /i/<id>?w=&h=&fit=&fmt=&q=: transforms, correctness and the variant cache."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from sqlalchemy import func, select

from pastefile.db.models import Variant
from pastefile.services.imaging.engines.vips import VipsEngine
from tests.support.files import stored_blobs, temp_files
from tests.support.images import (
    animation,
    display_p3_green,
    frames_of,
    half_transparent,
    header,
    image_bytes,
    jpeg_with_exif,
    photo,
    pixel,
)
from tests.support.uploads import upload


class CountingEngine(VipsEngine):
    """The real engine, counting renders and slowed so concurrent requests overlap."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.renders = 0
        self.delay = delay
        self._lock = threading.Lock()

    def render(self, source, spec, limits):  # type: ignore[no-untyped-def]
        with self._lock:
            self.renders += 1
        time.sleep(self.delay)
        return super().render(source, spec, limits)


def uploaded(client, data: bytes, name: str = "photo.jpg") -> dict:  # type: ignore[no-untyped-def]
    response = upload(client, data, name)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def variant_count(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Variant)) or 0)


def test_no_parameters_serve_the_original_exactly(client):
    data = photo("JPEG", (640, 480))
    body = uploaded(client, data)
    response = client.get(f"/i/{body['id']}.jpg")
    assert response.data == data
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'


def test_cover_gives_the_exact_size_in_the_source_format(client, settings):
    body = uploaded(client, photo("JPEG", (640, 480)))
    response = client.get(f"/i/{body['id']}?w=300&h=200")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    image = header(response.data)
    assert (image.width, image.height) == (300, 200)
    assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert temp_files(settings) == []


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("w=300&h=300&fit=contain", (300, 300)),
        ("w=300&h=300&fit=inside", (300, 225)),
        ("w=300&h=100&fit=fill", (300, 100)),
        ("w=160", (160, 120)),
        ("h=60", (80, 60)),
    ],
)
def test_fits_and_single_sides(client, query, size):
    body = uploaded(client, photo("PNG", (640, 480)), "p.png")
    response = client.get(f"/i/{body['id']}?{query}")
    assert response.status_code == 200
    image = header(response.data)
    assert (image.width, image.height) == size


@pytest.mark.parametrize(("fmt", "mimetype"), [("webp", "image/webp"), ("avif", "image/avif")])
def test_format_conversion(client, fmt, mimetype):
    body = uploaded(client, photo("JPEG", (400, 300)))
    response = client.get(f"/i/{body['id']}?w=100&fmt={fmt}&q=60")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert header(response.data).width == 100


def test_exif_orientation_is_applied_and_metadata_stripped(client):
    # Orientation 6: stored landscape, displayed portrait (rotated 90° clockwise).
    body = uploaded(client, jpeg_with_exif((80, 60), orientation=6))
    assert body["image_size"] == [60, 80]
    response = client.get(f"/i/{body['id']}?w=30")
    image = header(response.data)
    assert (image.width, image.height) == (30, 40)
    # The red top-left quarter is now the top-right one.
    assert pixel(response.data, 25, 5)[0] > 200
    assert pixel(response.data, 5, 5)[2] > 200
    fields = image.get_fields()
    assert not [f for f in fields if f.startswith("exif") or f in ("xmp-data", "orientation")]


def test_transparency_survives_png_and_webp_and_is_white_in_jpeg(client):
    body = uploaded(client, half_transparent(), "alpha.png")
    for fmt in ("png", "webp"):
        data = client.get(f"/i/{body['id']}?w=50&fmt={fmt}").data
        assert header(data).bands == 4
        assert pixel(data, 40, 10)[3] == 0
        assert pixel(data, 5, 10)[3] == 255
    jpeg = client.get(f"/i/{body['id']}?w=50&fmt=jpeg").data
    assert header(jpeg).bands == 3
    assert min(pixel(jpeg, 45, 10)) > 245
    assert pixel(jpeg, 5, 10)[0] > 240


def test_contain_pads_with_transparency_or_white(client):
    body = uploaded(client, photo("JPEG", (400, 200)))
    png = client.get(f"/i/{body['id']}?w=100&h=100&fit=contain&fmt=png").data
    assert pixel(png, 50, 5)[3] == 0
    jpeg = client.get(f"/i/{body['id']}?w=100&h=100&fit=contain").data
    assert min(pixel(jpeg, 50, 5)) > 245


def test_colour_profiles_are_converted_to_srgb(client):
    body = uploaded(client, display_p3_green(), "p3.jpg")
    data = client.get(f"/i/{body['id']}?w=32&fmt=png").data
    red, green, blue = pixel(data, 16, 16)[:3]
    assert green > 245 and red < 20 and blue < 20
    assert not header(data).get_typeof("icc-profile-data")


def test_animation_gives_a_first_frame_still_by_default(client):
    body = uploaded(client, animation("GIF"), "a.gif")
    response = client.get(f"/i/{body['id']}?w=60&h=60")
    assert response.status_code == 200
    assert frames_of(response.data) == 1
    assert (header(response.data).width, header(response.data).height) == (60, 60)


class TestAnimationKept:
    @pytest.fixture
    def settings_overrides(self):
        return {"max_animation_frames": 10}

    @pytest.mark.parametrize("source", ["GIF", "WEBP"])
    def test_animation_is_kept_when_configured(self, client, source):
        body = uploaded(client, animation(source), f"a.{source.lower()}")
        response = client.get(f"/i/{body['id']}?w=60&h=60&fmt=webp")
        assert response.status_code == 200
        assert frames_of(response.data) == 5
        assert response.headers["X-Image-Size"] == "60x60"

    def test_too_many_frames_fall_back_to_a_still(self, client):
        body = uploaded(client, animation("GIF", frames=12), "long.gif")
        response = client.get(f"/i/{body['id']}?w=60")
        assert response.status_code == 200
        assert frames_of(response.data) == 1


def test_second_request_is_served_from_storage_without_decoding(client, services, settings):
    engine = CountingEngine()
    services.images.engine = engine
    body = uploaded(client, photo("JPEG", (640, 480)))
    first = client.get(f"/i/{body['id']}?w=300&h=200")
    second = client.get(f"/i/{body['id']}?h=200&w=300&fit=cover&fmt=jpg")
    assert engine.renders == 1
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    etag = first.headers["ETag"]
    not_modified = client.get(f"/i/{body['id']}?w=300&h=200", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert engine.renders == 1
    assert variant_count(services) == 1
    assert len(stored_blobs(settings)) == 2


def test_concurrent_identical_requests_encode_once(app, services, settings):
    engine = CountingEngine(delay=0.3)
    services.images.engine = engine
    body = uploaded(app.test_client(), photo("JPEG", (640, 480)))
    barrier = threading.Barrier(6)
    results: list[tuple[int, bytes]] = []

    def fetch() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.get(f"/i/{body['id']}?w=120&h=120")
        results.append((response.status_code, response.data))

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert engine.renders == 1
    assert [status for status, _ in results] == [200] * 6
    assert len({data for _, data in results}) == 1
    assert variant_count(services) == 1
    assert temp_files(settings) == []


class TestVariantCap:
    @pytest.fixture
    def settings_overrides(self):
        return {"max_variants_per_file": 2}

    def test_least_recently_used_variant_is_evicted(self, client, services, settings):
        body = uploaded(client, photo("JPEG", (640, 480)))
        first = client.get(f"/i/{body['id']}?w=100").data
        client.get(f"/i/{body['id']}?w=110")
        client.get(f"/i/{body['id']}?w=120")
        assert variant_count(services) == 2
        kept = {p.name for p in stored_blobs(settings)}
        assert hashlib.sha256(first).hexdigest() not in kept
        assert len(kept) == 3  # the original and two variants


def test_deleting_the_source_deletes_its_variants(client, services, settings):
    body = uploaded(client, photo("JPEG", (640, 480)))
    client.get(f"/i/{body['id']}?w=100")
    client.get(f"/i/{body['id']}?w=200&fmt=webp")
    assert variant_count(services) == 2
    services.files.delete(body["id"])
    assert variant_count(services) == 0
    assert stored_blobs(settings) == []


def test_variant_bytes_also_uploaded_as_a_file_survive_the_source(client, services, settings):
    body = uploaded(client, photo("JPEG", (640, 480)))
    variant = client.get(f"/i/{body['id']}?w=100").data
    copy = uploaded(client, variant, "copy.jpg")
    services.files.delete(body["id"])
    assert client.get(f"/i/{copy['id']}").data == variant
    services.files.delete(copy["id"])
    assert stored_blobs(settings) == []


class TestCacheOff:
    @pytest.fixture
    def settings_overrides(self):
        return {"variant_cache": False}

    def test_nothing_is_stored(self, client, services, settings):
        body = uploaded(client, photo("JPEG", (640, 480)))
        response = client.get(f"/i/{body['id']}?w=100&h=100")
        assert response.status_code == 200
        assert header(response.data).width == 100
        assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()}"'
        assert variant_count(services) == 0
        assert len(stored_blobs(settings)) == 1


def test_lying_extension_is_handled_by_the_real_type(client):
    body = uploaded(client, photo("JPEG", (200, 100)), "actually-a-jpeg.png")
    assert body["mimetype"] == "image/jpeg"
    response = client.get(f"/i/{body['id']}.png?w=50")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    text = uploaded(client, b"just some text, not a picture\n", "fake.png")
    refused = client.get(f"/i/{text['id']}.png?w=50")
    assert refused.status_code == 415
    assert refused.get_json()["code"] == "not_an_image"


def test_book_resize_routes_still_create_new_files(client):
    body = uploaded(client, photo("JPEG", (400, 300)))
    made = client.get(f"/r/{body['id']}?w=120&h=80", headers={"Accept": "application/json"})
    assert made.status_code == 201
    resized = made.get_json()
    assert resized["id"] != body["id"]
    assert resized["image_size"] == [120, 80]
    assert header(client.get(f"/i/{resized['id']}").data).width == 120


def test_preview_page_uses_a_pipeline_thumbnail(client):
    big = uploaded(client, photo("JPEG", (1600, 1200)))
    html = client.get(f"/p/{big['id']}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'src="http://files.test/i/{big["id"]}.jpg?w=480&amp;h=480&amp;fit=inside"' in html
    # w descriptors with the real widths, ending with the original: never 1x/2x.
    assert "w=960&amp;h=960&amp;fit=inside 960w" in html
    assert f'http://files.test/i/{big["id"]}.jpg 1600w"' in html and " 2x" not in html
    thumb = client.get(f"/i/{big['id']}.jpg?w=480&h=480&fit=inside")
    assert (header(thumb.data).width, header(thumb.data).height) == (480, 360)
    small = uploaded(client, image_bytes("PNG"), "small.png")
    html = client.get(f"/p/{small['id']}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'src="http://files.test/i/{small["id"]}.png"' in html
