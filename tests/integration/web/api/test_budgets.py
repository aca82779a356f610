"""Every route belongs to a rate-limit budget: the job API shares the REST API's,
and uploads through the public routes have their own per client."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from tests.support.api import make_token, problem


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"api_rate_limit": "4/minute", "upload_rate_limit": "3/minute"}


def test_the_job_api_spends_the_api_budget(client: FlaskClient, services: Services) -> None:
    alice = make_token(services)
    first = client.get("/api/v1/jobs", headers=alice)
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "4"
    assert client.get("/api/v1/me", headers=alice).status_code == 200  # one budget
    for _ in range(2):
        client.get("/api/v1/jobs", headers=alice)
    limited = client.get("/api/v1/jobs", headers=alice)
    problem(limited, 429, "too_many_requests")
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_uploads_have_a_budget_per_client(client: FlaskClient) -> None:
    for n in range(3):
        assert client.put(f"/n{n}.txt", data=f"upload {n}\n".encode()).status_code == 201
    limited = client.put("/n3.txt", data=b"one too many\n")
    problem(limited, 429, "too_many_requests")
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200, "pages are free"
    other = client.put(
        "/n4.txt", data=b"another client\n", environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert other.status_code == 201
