"""Resizes have a cost limit of their own: enlarging is held to a tighter pixel
budget than shrinking, and each client has a budget of ``/r/`` copies."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from tests.support.api import problem
from tests.support.images import image_bytes

JSON = {"Accept": "application/json"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"resize_rate_limit": "3/minute", "max_upscale_pixels": 1_000_000}


def _source(client: FlaskClient) -> str:
    made = client.put("/small.png", data=image_bytes("PNG", (200, 150)))
    assert made.status_code == 201
    return made.headers["Location"].rsplit("/", 1)[-1]


def test_enlarging_past_the_budget_is_refused(client: FlaskClient, services: Services) -> None:
    source = _source(client)
    problem(client.get(f"/r/{source}?w=1600&h=1200", headers=JSON), 400, "invalid_dimensions")
    enlarged = client.put("/again.png?w=1600&h=1200", data=image_bytes("PNG", (200, 150)))
    problem(enlarged, 400, "invalid_dimensions")
    assert client.get(f"/r/{source}?w=800&h=600", headers=JSON).status_code == 201


def test_shrinking_a_large_image_is_held_only_to_the_pixel_limit(client: FlaskClient) -> None:
    made = client.put("/large.png?w=1200&h=1000", data=image_bytes("PNG", (1400, 1100)))
    assert made.status_code == 201


def test_each_client_has_a_budget_of_resized_copies(client: FlaskClient) -> None:
    source = _source(client)
    for width in (40, 41, 42):
        assert client.get(f"/r/{source}?w={width}&h=30", headers=JSON).status_code == 201
    refused = client.get(f"/r/{source}?w=43&h=30", headers=JSON)
    problem(refused, 429, "too_many_requests")
    assert 0 < int(refused.headers["Retry-After"]) <= 60, "says when to come back"
    other = client.get(
        f"/r/{source}?w=44&h=30", headers=JSON, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 201, "another client has a budget of its own"


@pytest.mark.parametrize(
    "settings_overrides", [{"transform_rate_limit": "2/minute", "variant_cache": True}]
)
def test_each_client_has_a_budget_of_new_variants(client: FlaskClient) -> None:
    source = _source(client)
    assert client.get(f"/i/{source}?w=50").status_code == 200
    assert client.get(f"/i/{source}?w=60").status_code == 200
    refused = client.get(f"/i/{source}?w=70", headers=JSON)
    problem(refused, 429, "too_many_requests")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.get(f"/i/{source}?w=50").status_code == 200, "a cached variant is free"
