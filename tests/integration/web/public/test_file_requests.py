"""``/u/<code>`` under the server's own rules: a request takes uploads even where anonymous
uploads are off (its owner asked for them), and every pipeline rule still holds: the size
limit, the per-client upload budget (429 with Retry-After), the blocklist."""

from __future__ import annotations

import hashlib
import io

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.db.moderation import BlockedHash
from pastefile.services.accounts import ROLE_USER
from pastefile.services.file_requests import RequestFields
from tests.support.api import problem

JSON = {"Accept": "application/json"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {
        "allow_anonymous_uploads": False,
        "max_upload_size": 1000,
        "upload_rate_limit": "4/minute",
    }


def _link(services: Services) -> str:
    user = services.accounts.create_user("asker", "a long password", ROLE_USER)
    made = services.requests.create(
        services.accounts.session_principal(user), RequestFields(title="t")
    )
    return f"/u/{made.code}"


def _send(client: FlaskClient, path: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(path, data={"file": (io.BytesIO(data), "f.bin")}, headers=JSON)


def test_the_pipeline_rules_hold_for_request_uploads(
    client: FlaskClient, services: Services
) -> None:
    path = _link(services)
    problem(
        client.post("/", data={"file": (io.BytesIO(b"x"), "x.txt")}, headers=JSON),
        401,
        "anonymous_uploads_disabled",
    )
    assert _send(client, path, b"fits\n").status_code == 201  # the owner asked for it
    problem(_send(client, path, b"x" * 1001), 413, "too_large")
    blocked = b"removed content\n"
    with services.db.write() as session:
        session.add(BlockedHash(sha256=hashlib.sha256(blocked).hexdigest(), reason="abuse"))
    problem(_send(client, path, blocked), 451, "unavailable_for_legal_reasons")
    refused = _send(client, path, b"one more\n")  # the fifth try this minute (POST / counted)
    problem(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) >= 1
