"""Numbers beyond any column's range are refused like any other unknown value:
a clear 4xx, never a 500, and never after a change was already made."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.services.accounts import Permission
from tests.support.api import make_token, post_file, problem
from tests.support.sessions import sign_in

HUGE = "99999999999999999999999"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_a_huge_job_id_is_not_found(client: FlaskClient, services: Services) -> None:
    operator = make_token(services, "operator", ("read", "upload"), Permission.OPERATOR | 1)
    problem(client.get(f"/api/v1/jobs/{HUGE}", headers=operator), 404, "not_found")
    problem(client.post(f"/api/v1/jobs/{HUGE}/cancel", headers=operator), 404, "not_found")
    problem(client.post(f"/api/v1/jobs/{HUGE}/retry", headers=operator), 404, "not_found")


def test_a_huge_version_in_if_match_is_a_failed_precondition(
    client: FlaskClient, services: Services
) -> None:
    alice = make_token(services)
    ident = post_file(client, alice).get_json()["id"]
    stale = {**alice, "If-Match": f'"{ident}-v{HUGE}"'}
    response = client.patch(f"/api/v1/files/{ident}", json={"filename": "b.txt"}, headers=stale)
    problem(response, 412, "precondition_failed")


def test_a_stray_query_argument_does_not_break_the_page_after_a_delete(
    client: FlaskClient, services: Services
) -> None:
    user = services.accounts.create_user("alice", "a long password")
    principal = services.accounts.session_principal(user)
    _, value = services.accounts.create_token(principal, "t", ["read", "upload", "delete"])
    ident = post_file(client, {"Authorization": f"Bearer {value}"}).get_json()["id"]
    sign_in(client, services, user.id, csrf="token")
    response = client.post(
        "/me/files/delete?endpoint=x&q=a", data={"ids": ident, "csrf_token": "token"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/me/files?q=a")
    assert client.get(f"/p/{ident}", headers={"Accept": "application/json"}).status_code == 410
