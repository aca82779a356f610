"""w/h are strict whole numbers, and no request may ask for a huge output."""

from __future__ import annotations

import pytest

from tests.support.images import image_bytes
from tests.support.uploads import upload


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_image_pixels": 10_000}


@pytest.mark.parametrize("bad", ["+5", " 10", "1_0", "\u0661\u0660", "10\n", "0x10", "1e2"])
def test_only_plain_digits_are_dimensions(client, bad):
    response = upload(client, image_bytes(), "a.png", w=bad, h="10")
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_dimensions"
    ident = upload(client, image_bytes(), "b.png").get_json()["id"]
    assert client.get(f"/r/{ident}", query_string={"w": bad, "h": "10"}).status_code == 400
    assert client.get(f"/i/{ident}", query_string={"w": bad}).status_code == 400


def test_outputs_above_the_pixel_limit_are_refused(client, services):
    body = upload(client, image_bytes(size=(20, 20)), "tiny.png").get_json()
    ident = body["id"]
    files_before = _count_files(services)
    for path in (f"/r/{ident}?w=200&h=200", f"/i/{ident}?w=200&h=200&fit=fill"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 400, path
        assert "10000 pixels" in response.get_json()["detail"]
    assert _count_files(services) == files_before
    assert client.get(f"/r/{ident}?w=100&h=100").status_code in (200, 201)
    assert client.get(f"/i/{ident}?w=100&h=100").status_code == 200


def _count_files(services) -> int:
    from sqlalchemy import func, select

    from pastefile.db.models import File

    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(File)) or 0)
