"""Resizes cost the server CPU and disk: their results meet the size limit, enlarging is
capped (each client's budget of new copies: test_resize_budget.py)."""

from __future__ import annotations

import requests

from tests.support.images import image_bytes
from tests.support.production import ProductionServer, put_file

SERVER_SETTINGS = {"PASTEFILE_MAX_UPLOAD_SIZE": "1MiB", "PASTEFILE_RESIZE_RATE_LIMIT": "8/minute"}
HUGE = {"w": "8192", "h": "6103"}


def _problem(answer: requests.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, object] = answer.json()
    return body


def test_enlarging_to_a_huge_size_is_refused_on_upload_and_on_copy(
    server: ProductionServer,
) -> None:
    noisy = image_bytes("PNG", (300, 200))
    source = put_file(server, "noisy.png", noisy)
    before = server.stored_objects()
    for answer in (
        requests.put(server.url("/big.png"), data=noisy, params=HUGE, timeout=60),
        requests.get(server.url(f"/r/{source}"), params=HUGE, timeout=60),
    ):
        assert _problem(answer, 400)["code"] == "invalid_dimensions"
    assert server.stored_objects() == before


def test_a_copy_larger_than_the_upload_limit_is_refused_and_not_kept(
    server: ProductionServer,
) -> None:
    source = put_file(server, "photo.png", image_bytes("PNG", (400, 400)))
    before = server.stored_objects()
    # 1400 x 1400 is under the enlargement cap, but its noisy PNG is ~6 MB: past 1 MiB.
    answer = requests.get(server.url(f"/r/{source}"), params={"w": "1400", "h": "1400"}, timeout=60)
    assert _problem(answer, 413)["code"] == "too_large"
    assert server.stored_objects() == before
