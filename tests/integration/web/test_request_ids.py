"""Operations basics: request ids through responses and logs, and the slow-query log."""

from __future__ import annotations

import logging
import re
import threading

import pytest

from pastefile.logging_setup import FORMAT
from tests.support.uploads import upload

GENERATED = re.compile(r"[0-9a-f]{32}")


def _formatted(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    """This thread's lines: servers other tests left running log from their own threads."""
    formatter = logging.Formatter(FORMAT)
    here = threading.get_ident()
    return [formatter.format(r) for r in caplog.records if r.name == logger and r.thread == here]


# --- X-Request-Id ---------------------------------------------------------------------------


@pytest.mark.parametrize("rid", ["abc123", "trace-7f3e.span:42_x", "x" * 64])
def test_a_valid_request_id_is_honoured_and_returned(client, rid):
    response = client.get("/", headers={"X-Request-Id": rid})
    assert response.headers["X-Request-Id"] == rid


def test_a_request_id_is_generated_when_none_is_sent(client):
    first = client.get("/").headers["X-Request-Id"]
    second = client.get("/").headers["X-Request-Id"]
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


INVALID_IDS = ["x" * 65, "has space", "line\nbreak", "trailing-newline\n", "", "ümlaut", "<b>"]


@pytest.mark.parametrize("rid", INVALID_IDS, ids=repr)
def test_an_invalid_request_id_is_replaced(client, rid):
    # environ_overrides: the test client refuses to build a header with a newline itself.
    response = client.get("/", environ_overrides={"HTTP_X_REQUEST_ID": rid})
    assert response.status_code == 200
    assert GENERATED.fullmatch(response.headers["X-Request-Id"])


def test_request_id_is_returned_on_errors_too(client):
    response = client.get("/p/AAAAAAAAAAAA", headers={"X-Request-Id": "lost-file-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "lost-file-1"


def test_the_access_log_line_carries_the_request_id(client, logs):
    upload(client, b"logged upload", "log.txt")
    logs.clear()
    client.get("/p/AAAAAAAAAAAA?x=1", headers={"X-Request-Id": "follow-me-42"})
    lines = _formatted(logs, "pastefile.access")
    assert len(lines) == 1
    assert "rid=follow-me-42" in lines[0]
    assert '"GET /p/AAAAAAAAAAAA?x=1" 404' in lines[0]
    assert re.search(r" pid=\d+ thread=\S+ ", lines[0])


def test_an_invalid_request_id_never_reaches_the_log(client, logs):
    client.get("/", environ_overrides={"HTTP_X_REQUEST_ID": "forged\nINFO fake line"})
    (line,) = _formatted(logs, "pastefile.access")
    assert "forged" not in line
    assert "\n" not in line


def test_the_error_log_line_carries_the_request_id(client, services, logs, monkeypatch):
    def crash() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services.db, "read", crash)
    response = client.get("/p/AAAAAAAAAAAA", headers={"X-Request-Id": "boom-1"})
    assert response.status_code == 500
    assert response.get_json()["code"] == "internal_error"
    assert "disk on fire" not in response.get_data(as_text=True)
    errors = [r for r in logs.records if r.name == "pastefile.error"]
    assert [r.request_id for r in errors] == ["boom-1"]  # type: ignore[attr-defined]
    assert errors[0].exc_info is not None
