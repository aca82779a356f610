"""``POST /api/v1/tokens`` with a username and password and no session: a token for
scripts, under the login budget, refused to disabled and second-factor accounts."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from pastefile.composition import Services
from pastefile.db.users import User
from tests.support.api import problem

PASSWORD = "correct horse battery"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"login_rate_limit": "4/minute"}


@pytest.fixture
def alice(services: Services) -> User:
    return services.accounts.create_user("alice", PASSWORD)


def exchange(client: FlaskClient, password: str = PASSWORD, **extra: object):  # type: ignore[no-untyped-def]
    body = {
        "username": "alice",
        "password": password,
        "name": "backup script",
        "scopes": ["read", "upload"],
    }
    body.update(extra)
    return client.post("/api/v1/tokens", json=body)


def test_a_password_buys_a_working_token_shown_once(
    client: FlaskClient, services: Services, alice: User
) -> None:
    created = exchange(client)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["token"].startswith("pf_") and body["name"] == "backup script"
    assert sorted(body["scopes"]) == ["read", "upload"] and isinstance(body["id"], int)
    bearer = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/api/v1/me", headers=bearer)
    assert me.status_code == 200 and me.get_json()["username"] == "alice"
    listed = client.get("/api/v1/tokens", headers=bearer).get_json()
    assert [t["name"] for t in listed] == ["backup script"] and "token" not in listed[0]
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=bearer).status_code == 204
    problem(client.get("/api/v1/me", headers=bearer), 401, "unauthorized")


def test_a_token_never_grants_more_than_the_account_has(
    client: FlaskClient, services: Services, alice: User
) -> None:
    problem(exchange(client, scopes=["read", "admin"]), 403, "forbidden")


def test_a_wrong_password_or_user_is_one_401(
    client: FlaskClient, services: Services, alice: User
) -> None:
    wrong = problem(exchange(client, "not the password"), 401, "unauthorized")
    nobody = problem(exchange(client, username="mallory"), 401, "unauthorized")
    assert wrong["detail"] == nobody["detail"]  # nothing says which accounts exist


def test_guessing_spends_the_login_budget_shared_with_the_form(
    client: FlaskClient, services: Services, alice: User
) -> None:
    for _ in range(3):
        problem(exchange(client, "guess"), 401, "unauthorized")
    client.post("/login", data={"username": "alice", "password": "guess"})  # the 4th try
    refused = exchange(client)  # even the right password, until the budget refills
    problem(refused, 429, "too_many_requests")
    assert int(refused.headers["Retry-After"]) >= 1
    # Another client has its own budget.
    other = client.application.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert exchange(other).status_code == 201


def test_a_disabled_account_gets_nothing(
    client: FlaskClient, services: Services, alice: User
) -> None:
    services.accounts.update_user(alice.id, disabled=True)
    problem(exchange(client), 403, "forbidden")


def test_an_account_with_a_second_factor_is_refused(
    client: FlaskClient, services: Services, alice: User
) -> None:
    with services.db.write() as session:
        session.execute(update(User).where(User.id == alice.id).values(second_factor="totp"))
    refused = problem(exchange(client), 403, "second_factor_required")
    assert "device" in refused["detail"]
    wrong = problem(exchange(client, "not the password"), 401, "unauthorized")
    assert "second factor" not in wrong["detail"]  # only the right password learns of it


def test_a_bad_bearer_is_not_taken_for_an_exchange(
    client: FlaskClient, services: Services, alice: User
) -> None:
    body = {"username": "alice", "password": PASSWORD, "name": "x", "scopes": ["read"]}
    answer = client.post("/api/v1/tokens", json=body, headers={"Authorization": "Bearer pf_nope"})
    problem(answer, 401, "unauthorized")


def test_the_exchange_takes_exactly_its_fields(
    client: FlaskClient, services: Services, alice: User
) -> None:
    problem(exchange(client, scopes=[]), 400, "invalid_input")
    problem(exchange(client, role="admin"), 400, "invalid_input")
    problem(
        client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read"]}), 400, "invalid_input"
    )
