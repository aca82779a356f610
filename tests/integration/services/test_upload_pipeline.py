"""Every write takes the one upload pipeline, and its rules see the bytes that
are stored: a resized or GPS-stripped copy, not what the client sent."""

from __future__ import annotations

import io
import os

import pytest
from flask.testing import FlaskClient
from PIL import Image

from pastefile.composition import Services
from pastefile.db.models import Blob, File
from pastefile.services.accounts import ROLE_ADMIN, Principal
from tests.support.images import image_bytes, jpeg_with_exif


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the pipeline's rules do not depend on the database


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_upload_size": 400 * 1024, "strip_gps": True}


def _noise_png(side: int = 256) -> bytes:
    """Random pixels: a PNG that barely compresses, and grows when scaled up."""
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _admin(services: Services) -> Principal:
    user = services.accounts.create_user("moderator", "a long password", ROLE_ADMIN)
    return services.accounts.session_principal(user)


def _stored(services: Services) -> tuple[int, int]:
    with services.db.read() as session:
        return session.query(File).count(), session.query(Blob).count()


def test_a_resize_on_upload_is_held_to_the_size_limit(
    client: FlaskClient, services: Services
) -> None:
    noise = _noise_png()
    assert len(noise) < 400 * 1024, "the upload itself is within the limit"
    before = _stored(services)
    response = client.put("/noise.png?w=1600&h=1600", data=noise)
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_large"
    assert _stored(services) == before, "nothing was stored"


def test_a_resized_copy_is_held_to_the_size_limit(client: FlaskClient, services: Services) -> None:
    source = client.put("/noise.png", data=_noise_png())
    assert source.status_code == 201
    public_id = source.headers["Location"].rsplit("/", 1)[-1]
    before = _stored(services)
    response = client.get(f"/r/{public_id}?w=1600&h=1600", headers={"Accept": "application/json"})
    assert response.status_code == 413
    assert _stored(services) == before


def test_removed_content_stays_removed_when_sent_again_with_its_gps(
    client: FlaskClient, services: Services
) -> None:
    original = jpeg_with_exif(gps=True)
    first = client.put("/photo.jpg", data=original)
    assert first.status_code == 201
    public_id = first.headers["Location"].rsplit("/", 1)[-1]
    stored_sha = services.files.get(public_id).sha256
    services.access.remove_for_abuse(public_id, _admin(services), "abuse")
    again = client.put("/photo.jpg", data=original)
    assert again.status_code == 451
    assert again.get_json()["code"] == "unavailable_for_legal_reasons"
    with services.db.read() as session:
        assert session.query(File).filter(File.sha256 == stored_sha).count() == 0


def test_a_removed_copy_stays_removed_when_made_again_by_resizing_on_upload(
    client: FlaskClient, services: Services
) -> None:
    source = image_bytes("PNG", (200, 150))
    made = client.put("/src.png", data=source)
    assert made.status_code == 201, made.get_data(as_text=True)
    source_id = made.headers["Location"].rsplit("/", 1)[-1]
    copy = client.get(f"/r/{source_id}?w=60&h=45", headers={"Accept": "application/json"})
    assert copy.status_code == 201
    copy_id = copy.get_json()["url_p"].rsplit("/", 1)[-1]
    services.access.remove_for_abuse(copy_id, _admin(services), "abuse")
    again = client.put("/src2.png?w=60&h=45", data=source)
    assert again.status_code == 451
