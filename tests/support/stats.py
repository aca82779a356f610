"""The stats tests' pieces: the app's recorder, a user with a token, a file posted with it."""

from __future__ import annotations

import io

from pastefile.services.accounts import Permission


def recorder(app):  # type: ignore[no-untyped-def]
    return app.services.stats_recorder


def user_headers(services, name, roles=Permission.LOGIN, scopes=("read", "upload")):  # type: ignore[no-untyped-def]
    user = services.accounts.create_user(name, "correct horse battery", roles)
    principal = services.accounts.session_principal(user)
    _, value = services.accounts.create_token(principal, f"{name}-token", list(scopes))
    return user, {"Authorization": f"Bearer {value}"}


def post_file(client, headers, data=b"stats bytes", name="s.txt"):  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/files", data={"file": (io.BytesIO(data), name)}, headers=headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["id"]
