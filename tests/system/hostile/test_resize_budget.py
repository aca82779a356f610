"""Each client has a budget of new resized copies, shared by the server's workers.

A module of its own, so that its server has made no other copy, whatever order the tests
run in."""

from __future__ import annotations

import requests

from tests.support.images import image_bytes
from tests.support.production import ProductionServer, put_file

SERVER_SETTINGS = {"PASTEFILE_RESIZE_RATE_LIMIT": "8/minute"}


def _problem(answer: requests.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, object] = answer.json()
    return body


def test_each_client_has_a_budget_of_new_copies(server: ProductionServer) -> None:
    source = put_file(server, "budget.png", image_bytes("PNG", (120, 90)))
    answers = [
        requests.get(server.url(f"/r/{source}"), params={"w": str(20 + i), "h": "20"}, timeout=30)
        for i in range(12)
    ]
    statuses = [a.status_code for a in answers]
    # The budget is 8, shared by both workers: this module's server makes no other copy.
    assert statuses == [201] * 8 + [429] * 4, statuses
    refused = answers[-1]
    assert _problem(refused, 429)["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
