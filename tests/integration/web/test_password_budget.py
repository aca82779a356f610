"""Wrong file passwords are limited per client and file, on every route that reads
the file, in one atomic step: concurrent guesses cannot all be checked, and a new
token does not buy a fresh budget."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pastefile.composition import Services
from tests.support.api import make_token, post_file, problem


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def _protected(client: FlaskClient, services: Services) -> tuple[str, str]:
    body = post_file(client, make_token(services), password="right one").get_json()
    return body["id"], urlsplit(body["links"]["raw"]).path


def test_the_api_counts_wrong_passwords_too(client: FlaskClient, services: Services) -> None:
    ident, _ = _protected(client, services)
    guess = {"X-File-Password": "wrong"}
    for _ in range(5):
        problem(client.get(f"/api/v1/files/{ident}", headers=guess), 403, "wrong_password")
    refused = client.get(f"/api/v1/files/{ident}", headers=guess)
    problem(refused, 429, "too_many_requests")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    fresh = {**make_token(services, "mallory"), **guess}
    problem(client.get(f"/api/v1/files/{ident}", headers=fresh), 429, "too_many_requests")


def test_a_right_password_costs_nothing(client: FlaskClient, services: Services) -> None:
    _, raw = _protected(client, services)
    for _ in range(12):
        assert client.get(raw, headers={"X-File-Password": "right one"}).status_code == 200
    problem(client.get(raw, headers={"X-File-Password": "wrong"}), 403, "wrong_password")


def test_concurrent_guesses_are_not_all_checked(
    app: Flask, client: FlaskClient, services: Services
) -> None:
    _, raw = _protected(client, services)
    start = threading.Barrier(30)
    statuses: list[int] = []

    def guess(n: int) -> None:
        own = app.test_client()
        start.wait()
        statuses.append(own.get(raw, headers={"X-File-Password": f"guess {n}"}).status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(403) == 5, statuses
    assert statuses.count(429) == 25
