"""Jobs over the API and the console: who sees what, cancel, retry, fetch by URL."""

from __future__ import annotations

from http.server import ThreadingHTTPServer

import pytest
from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.services.accounts import Permission, Principal
from tests.support.jobs import JOB_SETTINGS, finished, origin_url, wait_for


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(JOB_SETTINGS)


# --- the API ------------------------------------------------------------------------


def _user(services: Services, name: str, roles: int = Permission.LOGIN) -> tuple[int, str]:
    user = services.accounts.create_user(name, "a long enough password", roles)
    owner = Principal(user.id, name, roles, frozenset({"read", "upload", "delete"}))
    _, token = services.accounts.create_token(owner, "jobs", ["read", "upload"])
    return user.id, token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_users_see_their_own_jobs_and_operators_see_all(
    client: FlaskClient, services: Services
) -> None:
    alice, alice_token = _user(services, "alice")
    _, bob_token = _user(services, "bob")
    _, op_token = _user(services, "opal", Permission.LOGIN | Permission.OPERATOR)
    mine = services.jobs.submit("expire_sweep", owner_id=alice)
    services.jobs.submit("gc")
    assert client.get("/api/v1/jobs").status_code == 401
    listed = client.get("/api/v1/jobs", headers=_auth(alice_token))
    assert [j["id"] for j in listed.get_json()] == [mine.id]
    assert listed.headers["X-Total-Count"] == "1"
    assert "traceback" not in listed.get_json()[0]
    assert client.get(f"/api/v1/jobs/{mine.id}", headers=_auth(bob_token)).status_code == 404
    everything = client.get("/api/v1/jobs", headers=_auth(op_token)).get_json()
    assert len(everything) == 2 and "traceback" in everything[0]
    only_gc = client.get("/api/v1/jobs?kind=gc&status=queued", headers=_auth(op_token))
    assert [j["kind"] for j in only_gc.get_json()] == ["gc"]
    assert client.get("/api/v1/jobs?status=bogus", headers=_auth(op_token)).status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cancel_and_retry_over_the_api(client: FlaskClient, services: Services) -> None:
    user, token = _user(services, "carol")
    job = services.jobs.submit("expire_sweep", owner_id=user)  # no runner: stays queued
    cancelled = client.post(f"/api/v1/jobs/{job.id}/cancel", headers=_auth(token))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/jobs/{job.id}/cancel", headers=_auth(token))
    assert again.status_code == 409
    retried = client.post(f"/api/v1/jobs/{job.id}/retry", headers=_auth(token))
    assert retried.status_code == 202 and retried.get_json()["status"] == "queued"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_post_files_with_a_url_answers_202_with_the_job(
    client: FlaskClient, services: Services, runner: ThreadRunner, origin: ThreadingHTTPServer
) -> None:
    user, token = _user(services, "dave")
    response = client.post(
        "/api/v1/files", json={"url": origin_url(origin, "/ok")}, headers=_auth(token)
    )
    assert response.status_code == 202
    body = response.get_json()
    assert (
        body["kind"] == "fetch_url" and response.headers["Location"] == f"/api/v1/jobs/{body['id']}"
    )
    done = wait_for(lambda: finished(services, body["id"]))
    assert done.status == "succeeded" and done.owner_id == user
    shown = client.get(f"/api/v1/jobs/{body['id']}", headers=_auth(token)).get_json()
    assert shown["file"] == done.result["file"]
    files = client.get(f"/api/v1/jobs?file={shown['file']}", headers=_auth(token)).get_json()
    assert [j["id"] for j in files] == [body["id"]]
    bad = client.post("/api/v1/files", json={"url": "ftp://x"}, headers=_auth(token))
    assert bad.status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_console_page_renders(client: FlaskClient) -> None:
    page = client.get("/jobs", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert b"jobs.js" in page.data and b"job-table" in page.data
