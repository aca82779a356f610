"""Account pages (register, login, logout, tokens) with CSRF, and the CLI commands."""

from __future__ import annotations

import re

from click.testing import CliRunner

from pastefile.cli import main

BROWSER = {"Accept": "text/html"}


def _csrf(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the form has no CSRF token"
    return match.group(1)


def _register(client, username="alice", password="correct horse battery"):
    token = _csrf(client.get("/register"))
    return client.post(
        "/register", data={"username": username, "password": password, "csrf_token": token}
    )


def test_register_login_logout_with_csrf(client, services):
    page = client.get("/register")
    assert page.status_code == 200 and b'<label for="username">' in page.data
    forged = client.post("/register", data={"username": "eve", "password": "long enough pw"})
    assert forged.status_code == 400
    assert _register(client).status_code == 303
    assert b"alice" in client.get("/account/tokens").data
    logout_token = _csrf(client.get("/account/tokens"))
    assert client.post("/logout").status_code == 400  # no CSRF token, still logged in
    assert client.post("/logout", data={"csrf_token": logout_token}).status_code == 303
    assert client.get("/account/tokens", headers=BROWSER).status_code == 401
    token = _csrf(client.get("/login"))
    wrong = client.post(
        "/login", data={"username": "alice", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 200 and b"wrong username or password" in wrong.data
    right = client.post(
        "/login",
        data={"username": "alice", "password": "correct horse battery", "csrf_token": token},
    )
    assert right.status_code == 303
    assert right.headers["Location"].endswith("/me/files")  # signing in lands on My files


def test_token_pages_show_the_value_once_and_revoke(client, services):
    _register(client)
    page = client.get("/account/tokens")
    created = client.post(
        "/account/tokens",
        data={"name": "laptop", "scopes": ["read", "upload"], "csrf_token": _csrf(page)},
    )
    assert created.status_code == 303  # post/redirect/get: a reload cannot make a second one
    shown = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Created the token laptop." in shown
    value = re.search(r'value="(pf_[^"]+)"', shown).group(1)
    headers = {"Authorization": f"Bearer {value}"}
    assert client.get("/api/v1/me", headers=headers).json["scopes"] == ["read", "upload"]
    again = client.get("/account/tokens").get_data(as_text=True)
    assert value not in again and "laptop" in again
    token_id = client.get("/api/v1/tokens", headers=headers).json[0]["id"]
    revoked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": _csrf(page)})
    assert revoked.status_code == 303
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_registration_can_be_closed(client, settings):
    settings.open_registration = False
    assert client.get("/register", headers=BROWSER).status_code == 403


def test_disabled_users_lose_their_session_at_once(client, services):
    _register(client)
    user = services.accounts.authenticate("alice", "correct horse battery")
    services.accounts.update_user(user.id, disabled=True)
    assert client.get("/account/tokens", headers=BROWSER).status_code == 401


def test_login_attempts_are_rate_limited(client, settings):
    token = _csrf(client.get("/login"))
    statuses = [
        client.post(
            "/login", data={"username": "x", "password": "y", "csrf_token": token}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429


def test_anonymous_uploads_can_be_switched_off(client, settings):
    settings.allow_anonymous_uploads = False
    response = client.put("/x.txt", data=b"nope", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["code"] == "anonymous_uploads_disabled"


def test_create_user_admin_command(settings, services, monkeypatch):
    for name, value in settings.model_dump(mode="json").items():
        if value is not None and not isinstance(value, list):
            monkeypatch.setenv(f"PASTEFILE_{name.upper()}", str(value))
    monkeypatch.setenv("APP_ENV", "testing")
    runner = CliRunner()
    result = runner.invoke(main, ["create-user", "root", "--admin", "--password", "s3cret-admin"])
    assert result.exit_code == 0, result.output
    assert "created admin root" in result.output
    user = services.accounts.authenticate("root", "s3cret-admin")
    assert user.roles == 0xFF
    again = runner.invoke(main, ["create-user", "root", "--password", "s3cret-admin"])
    assert again.exit_code != 0 and "taken" in again.output
    swept = runner.invoke(main, ["sweep"])
    assert swept.exit_code == 0 and "swept 0" in swept.output
