"""An upload from a URL takes the same options as any upload, or is refused with 400:
the fetched file is as private, protected, expiring and limited as asked."""

from __future__ import annotations

from http.server import ThreadingHTTPServer

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.jobs.service import JobQuery
from tests.support.api import make_token, problem
from tests.support.jobs import JOB_SETTINGS, finished, origin_url, wait_for


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(JOB_SETTINGS)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_the_fetched_file_keeps_the_options_asked_for(
    client: FlaskClient, services: Services, runner: ThreadRunner, origin: ThreadingHTTPServer
) -> None:
    alice = make_token(services, scopes=("read", "upload"))
    asked = {
        "url": origin_url(origin, "/ok"),
        "visibility": "private",
        "password": "open sesame",
        "expires_in": 3600,
        "max_downloads": 2,
    }
    response = client.post("/api/v1/files", json=asked, headers=alice)
    assert response.status_code == 202
    shown = response.get_json()
    assert shown["params"]["options"]["password_hash"] == "set", "no hash leaves the server"
    assert "open sesame" not in response.get_data(as_text=True)
    job = wait_for(lambda: finished(services, shown["id"]))
    assert job.status == "succeeded", job.error
    file = services.files.get(job.result["file"])
    assert file.visibility == "private" and file.max_downloads == 2
    assert file.password_hash is not None and file.expires_at is not None
    stranger = client.get(f"/p/{file.public_id}", headers={"Accept": "application/json"})
    assert stranger.status_code == 404, "a private fetched file is private"


@pytest.mark.parametrize(
    ("extra", "detail"),
    [
        ({"visibility": "secret"}, "visibility"),
        ({"expires_in": "soon"}, "expires_in"),
        ({"max_downloads": 0}, "max_downloads"),
        ({"password": 1234}, "password"),
        ({"colour": "blue"}, "unknown fields"),
    ],
)
def test_options_that_cannot_apply_are_refused(
    client: FlaskClient, services: Services, extra: dict[str, object], detail: str
) -> None:
    alice = make_token(services, scopes=("read", "upload"))
    body = {"url": "http://127.0.0.2:9/x", **extra}
    response = client.post("/api/v1/files", json=body, headers=alice)
    problem(response, 400, "invalid_input")
    assert detail in response.get_json()["detail"]
    _, total = services.jobs.search(JobQuery())
    assert total == 0, "nothing was started"
