"""The language switch sends the visitor back to a page of this site, and nowhere else."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from pastefile.web.i18n import COOKIE


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.mark.parametrize(
    "next_",
    ["/%09/evil.example", "/%0a/x", "/%0d%0aSet-Cookie:%20x=1", "//evil.example", "/%5cevil"],
)
def test_a_hostile_next_goes_home(client: FlaskClient, next_: str) -> None:
    response = client.get(f"/lang/en?next={next_}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_a_page_of_this_site_is_kept(client: FlaskClient) -> None:
    response = client.get("/lang/zh?next=/help%3Fx%3D1")
    assert response.status_code == 303
    assert response.headers["Location"] == "/help?x=1"
    assert response.headers["Set-Cookie"].startswith(f"{COOKIE}=zh;")
