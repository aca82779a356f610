"""When registration keeps colliding, the client is told to retry (503), and nothing leaks."""

from __future__ import annotations

from tests.support.files import temp_files
from tests.support.uploads import upload


def test_persistent_id_collisions_answer_503_with_retry_after(client, settings, monkeypatch):
    first = upload(client, b"the first file", "first.txt").get_json()
    # Every new record now draws the id that is already taken.
    monkeypatch.setattr("pastefile.services.uploads.new_public_id", lambda: first["id"])
    monkeypatch.setattr("pastefile.services.uploads.time.sleep", lambda _s: None)

    response = upload(client, b"a different file", "second.txt")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["code"] == "busy"
    assert temp_files(settings) == []
    assert client.get(first["url_i"]).data == b"the first file"
