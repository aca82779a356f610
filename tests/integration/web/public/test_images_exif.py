"""EXIF summary at upload, PASTEFILE_STRIP_GPS, and the transform abuse policies."""

from __future__ import annotations

import hashlib

import pytest

from pastefile.services.imaging.exif import summarize
from pastefile.services.imaging.params import TransformRequest
from tests.support.files import stored_blobs, temp_files
from tests.support.images import animation, exif_block, header, jpeg_with_exif, photo
from tests.support.uploads import upload


def uploaded(client, data: bytes, name: str = "photo.jpg") -> dict:  # type: ignore[no-untyped-def]
    response = upload(client, data, name)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def gps_of(data: bytes) -> bool:
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        exif = data  # a TIFF file is itself the structure EXIF uses
    else:
        image = header(data)
        exif = image.get("exif-data") if image.get_typeof("exif-data") else None
    return bool(summarize(exif, 1).get("has_gps"))


def pixels_equal(a: bytes, b: bytes) -> bool:
    return bool((header(a) - header(b)).abs().max() == 0)


def test_exif_summary_is_stored_and_shown_on_the_card(client):
    body = uploaded(client, jpeg_with_exif(orientation=6))
    assert body["exif"] == {
        "camera": "Canon EOS R5",
        "taken_at": "2024-05-01T11:59:58",
        "exposure": "1/125 s",
        "aperture": "f/2.8",
        "iso": 100,
        "orientation": 6,
        "has_gps": True,
    }
    html = client.get(f"/p/{body['id']}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Canon EOS R5" in html
    assert "2024-05-01 11:59:58" in html
    assert "1/125 s · f/2.8 · ISO 100" in html
    assert "GPS position embedded in the original" in html


def test_images_without_exif_have_no_summary(client):
    body = uploaded(client, photo("PNG", (64, 48)), "plain.png")
    assert "exif" not in body


def test_gps_is_kept_by_default(client):
    data = jpeg_with_exif()
    body = uploaded(client, data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert gps_of(client.get(f"/i/{body['id']}").data)


class TestStripGps:
    @pytest.fixture
    def settings_overrides(self):
        return {"strip_gps": True}

    def test_jpeg_gps_is_stripped_losslessly(self, client, settings):
        data = jpeg_with_exif()
        assert gps_of(data)
        body = uploaded(client, data)
        stored = client.get(f"/i/{body['id']}").data
        assert stored != data
        assert len(stored) == len(data)
        assert body["sha256"] == hashlib.sha256(stored).hexdigest()
        assert not gps_of(stored)
        assert pixels_equal(stored, data)
        assert body["exif"]["camera"] == "Canon EOS R5"
        assert body["exif"]["has_gps"] is False
        assert len(stored_blobs(settings)) == 1
        assert temp_files(settings) == []

    @pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
    def test_other_containers(self, client, fmt):
        data = photo(fmt, (64, 48), exif=exif_block())
        assert gps_of(data)
        body = uploaded(client, data, f"p.{fmt.lower()}")
        stored = client.get(f"/i/{body['id']}").data
        assert not gps_of(stored)
        assert pixels_equal(stored, data)
        if fmt != "TIFF":  # libvips reads a TIFF's own tags, not an EXIF block
            assert body["exif"]["camera"] == "Canon EOS R5"

    def test_xmp_gps_is_blanked(self, client):
        xmp = (
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
            b'exif:GPSLatitude="48,51.49N" exif:GPSLongitude="2,21.0E">'
            b"<exif:GPSAltitude>35/1</exif:GPSAltitude></rdf:Description></rdf:RDF></x:xmpmeta>"
        )
        data = photo("JPEG", (64, 48), exif=exif_block(), xmp=xmp)
        assert b"48,51.49N" in data
        stored = client.get(f"/i/{uploaded(client, data, 'x.jpg')['id']}").data
        assert b"48,51.49N" not in stored and b"35/1" not in stored
        assert b"exif:GPSLatitude=" in stored
        assert header(stored).width == 64

    def test_files_without_gps_are_untouched(self, client):
        data = jpeg_with_exif(gps=False)
        body = uploaded(client, data)
        assert body["sha256"] == hashlib.sha256(data).hexdigest()

    def test_not_an_image_is_untouched(self, client):
        body = uploaded(client, b"GPS 48N 2E, plain text", "notes.txt")
        assert client.get(f"/i/{body['id']}").data == b"GPS 48N 2E, plain text"


KEYS = ["new-key-0123456789abcdef", "old-key-0123456789abcdef"]


class TestSignedUrls:
    @pytest.fixture
    def settings_overrides(self):
        return {"transform_policy": "signed", "transform_keys": ",".join(KEYS)}

    def test_unsigned_and_wrongly_signed_are_403(self, client, services):
        body = uploaded(client, photo("JPEG", (640, 480)))
        unsigned = client.get(f"/i/{body['id']}?w=100")
        assert unsigned.status_code == 403
        assert unsigned.mimetype == "application/problem+json"
        assert unsigned.get_json()["code"] == "signature_required"
        query = services.images.signed_query(body["id"], TransformRequest(w=100))
        tampered = query.replace("w=100", "w=101")
        assert client.get(f"/i/{body['id']}?{tampered}").get_json()["code"] == "bad_signature"
        other = uploaded(client, photo("JPEG", (300, 200)), "other.jpg")
        assert client.get(f"/i/{other['id']}?{query}").status_code == 403
        assert client.get(f"/i/{body['id']}").status_code == 200  # the original needs no sig

    def test_signed_url_works_in_any_parameter_order(self, client, services):
        body = uploaded(client, photo("JPEG", (640, 480)))
        request = TransformRequest(w=100, h=50, fmt="webp")
        query = services.images.signed_query(body["id"], request)
        sig = query.split("sig=")[1]
        response = client.get(f"/i/{body['id']}.jpg?sig={sig}&fmt=webp&h=50&w=100")
        assert response.status_code == 200
        assert response.mimetype == "image/webp"

    def test_old_keys_still_verify(self, client, services):
        from pastefile.services.imaging.signing import _signature

        body = uploaded(client, photo("JPEG", (640, 480)))
        old = _signature(KEYS[1].encode(), body["id"], TransformRequest(w=80))
        assert client.get(f"/i/{body['id']}?w=80&sig={old}").status_code == 200
        forged = _signature(b"not-a-configured-key", body["id"], TransformRequest(w=80))
        assert client.get(f"/i/{body['id']}?w=80&sig={forged}").status_code == 403

    def test_the_card_links_signed_thumbnails(self, client):
        body = uploaded(client, photo("JPEG", (1600, 1200)))
        html = client.get(f"/p/{body['id']}", headers={"Accept": "text/html"}).get_data(
            as_text=True
        )
        src = html.split('class="preview" src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert "sig=" in src
        assert client.get(src).status_code == 200


class TestSizeAllowlist:
    @pytest.fixture
    def settings_overrides(self):
        return {"transform_policy": "allowlist", "transform_sizes": "300x200,120x"}

    def test_only_listed_sizes_are_served(self, client):
        body = uploaded(client, photo("JPEG", (640, 480)))
        assert client.get(f"/i/{body['id']}?w=300&h=200").status_code == 200
        assert client.get(f"/i/{body['id']}?w=120&fmt=webp").status_code == 200
        refused = client.get(f"/i/{body['id']}?w=301&h=200")
        assert refused.status_code == 403
        assert refused.get_json()["code"] == "size_not_allowed"
        assert client.get(f"/i/{body['id']}?fmt=png").status_code == 403
        assert client.get(f"/i/{body['id']}?w=480&h=480&fit=inside").status_code == 200

    def test_animation_does_not_bypass_the_list(self, client):
        body = uploaded(client, animation("GIF"), "a.gif")
        assert client.get(f"/i/{body['id']}?w=121").status_code == 403
