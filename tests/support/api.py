"""The /api/v1 from a test: a user with a token, a file posted with it, a problem+json checked."""

from __future__ import annotations

import io
import re

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


def unlock_in_session(client, page, password):
    """Give ``page``'s (``/p/<id>`` or ``/c/<id>``) password in its form, as a browser
    does: the client's session then holds the unlock."""
    browser = {"Accept": "text/html"}
    form = client.get(page, headers=browser)
    assert form.status_code == 403
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.get_data(as_text=True))
    assert csrf is not None
    done = client.post(f"{page}/unlock", data={"password": password, "csrf_token": csrf.group(1)})
    assert done.status_code == 303
    assert client.get(page, headers=browser).status_code == 200
