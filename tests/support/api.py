"""The /api/v1 from a test: a user with a token, a file posted with it, a problem+json checked."""

from __future__ import annotations

import io

from pastefile.services.accounts import Permission


def make_token(services, name="alice", scopes=("read", "upload", "delete"), roles=Permission.LOGIN):
    user = services.accounts.create_user(name, "correct horse battery", roles)
    principal = services.accounts.session_principal(user)
    _, value = services.accounts.create_token(principal, f"{name}-token", list(scopes))
    return {"Authorization": f"Bearer {value}"}


def post_file(client, headers, data=b"api bytes", name="a.txt", **fields):
    form = {"file": (io.BytesIO(data), name), **{k: str(v) for k, v in fields.items()}}
    return client.post("/api/v1/files", data=form, headers=headers)


def problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    return body
