"""Shared caches never keep private, password-protected or download-limited bytes."""

from __future__ import annotations

from tests.support.api import make_token, post_file
from tests.support.images import image_bytes


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.headers.get("Cache-Control", "").split(",")}


def test_public_files_may_be_cached_by_anyone(client):
    body = post_file(client, {}, data=image_bytes(), name="pub.png").get_json()
    for path in (f"/i/{body['id']}", f"/d/{body['id']}", f"/i/{body['id']}?w=20"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "public" in _cache_control(response), path


def test_private_files_and_their_variants_are_never_shared(client, services):
    owner = make_token(services, "carol")
    body = post_file(client, owner, data=image_bytes(), name="p.png", visibility="private")
    ident = body.get_json()["id"]
    for path in (f"/i/{ident}", f"/d/{ident}", f"/i/{ident}?w=20"):
        response = client.get(path, headers=owner)
        assert response.status_code == 200, path
        directives = _cache_control(response)
        assert "public" not in directives, path
        assert {"private", "no-store"} <= directives, path


def test_password_and_download_limited_files_are_never_shared(client):
    protected = post_file(client, {}, data=b"guarded", password="s3cret pass").get_json()
    response = client.get(f"/i/{protected['id']}", headers={"X-File-Password": "s3cret pass"})
    assert response.status_code == 200
    assert {"private", "no-store"} <= _cache_control(response)
    limited = post_file(client, {}, data=b"counted", max_downloads=3).get_json()
    response = client.get(f"/d/{limited['id']}")
    assert response.status_code == 200
    assert "no-store" in _cache_control(response)
    assert "public" not in _cache_control(response)
