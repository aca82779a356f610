"""The OAuth 2.0 device authorization grant (RFC 8628) end to end: the client's
endpoints (pastefile/web/oauth.py) and the approval page (pastefile/web/ui/device.py),
a signed-in browser on one side and a client without cookies on the other."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from pastefile.composition import Services
from pastefile.db.device_auth import DeviceAuthorization
from pastefile.db.types import utcnow
from pastefile.db.users import User
from pastefile.services.accounts import hash_token
from tests.support.sessions import sign_in

CSRF = "device-page-csrf"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"login_rate_limit": "6/minute"}


@pytest.fixture
def alice(services: Services) -> User:
    return services.accounts.create_user("alice", "correct horse battery")


@pytest.fixture
def browser(app: Flask, services: Services, alice: User) -> FlaskClient:
    """Alice's signed-in browser (its own cookie jar)."""
    signed_in = app.test_client()
    sign_in(signed_in, services, alice.id, CSRF)
    return signed_in


def start(client: FlaskClient, scope: str = "read upload", **extra: str) -> dict[str, object]:
    form = {"client_id": "pf", "scope": scope, "device_name": "laptop", **extra}
    response = client.post("/oauth/device_authorization", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return dict(response.get_json())


def poll(client: FlaskClient, device_code: object, **extra: str):  # type: ignore[no-untyped-def]
    form = {"grant_type": GRANT, "device_code": str(device_code), "client_id": "pf", **extra}
    return client.post("/oauth/token", data=form)


def oauth_error(response, error: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"


def waited(services: Services) -> None:
    """As if the client had waited its interval since its last poll."""
    with services.db.write() as session:
        session.execute(update(DeviceAuthorization).values(last_polled_at=None))


def decide(browser: FlaskClient, code: object, decision: str, csrf: str = CSRF):  # type: ignore[no-untyped-def]
    form = {"user_code": str(code), "decision": decision, "csrf_token": csrf}
    return browser.post("/device", data=form, headers={"Accept": "text/html"})


def test_approved_device_gets_a_working_revocable_token_once(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client)
    assert USER_CODE.match(str(grant["user_code"]))
    assert grant["verification_uri"] == "http://files.test/device"
    assert grant["verification_uri_complete"] == (
        f"http://files.test/device?user_code={grant['user_code']}"
    )
    assert grant["expires_in"] == 600 and grant["interval"] == 5
    oauth_error(poll(client, grant["device_code"]), "authorization_pending")

    complete = urlsplit(str(grant["verification_uri_complete"]))
    page = browser.get(f"{complete.path}?{complete.query}", headers={"Accept": "text/html"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "pastefile command-line client" in html and "laptop" in html
    assert "<code>read</code>" in html and "<code>upload</code>" in html
    assert "<code>delete</code>" not in html and 'value="approve"' in html
    assert "Approved" in decide(browser, grant["user_code"], "approve").get_data(as_text=True)

    waited(services)
    issued = poll(client, grant["device_code"])
    assert issued.status_code == 200, issued.get_data(as_text=True)
    body = issued.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read upload"
    assert issued.headers["Cache-Control"] == "no-store"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/v1/me", headers=bearer).get_json()["username"] == "alice"
    listed = client.get("/api/v1/tokens", headers=bearer).get_json()
    assert [t["name"] for t in listed] == ["pf on laptop (device login)"]
    assert "pf on laptop (device login)" in browser.get("/account/tokens").get_data(as_text=True)

    waited(services)
    oauth_error(poll(client, grant["device_code"]), "invalid_grant")  # a device code works once
    assert client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=bearer).status_code == 204
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_codes_are_stored_only_as_hashes(client: FlaskClient, services: Services) -> None:
    grant = start(client)
    with services.db.read() as session:
        row = session.scalars(select(DeviceAuthorization)).one()
    assert row.device_code_hash == hash_token(str(grant["device_code"]))
    assert row.user_code_hash == hash_token(str(grant["user_code"]).replace("-", ""))


def test_denied_device_gets_nothing(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client)
    assert "Denied" in decide(browser, grant["user_code"], "deny").get_data(as_text=True)
    oauth_error(poll(client, grant["device_code"]), "access_denied")
    again = decide(browser, grant["user_code"], "approve")  # no changing one's mind
    assert "no device is waiting" in again.get_data(as_text=True)
    waited(services)
    oauth_error(poll(client, grant["device_code"]), "access_denied")


def test_an_expired_code_is_refused_on_both_sides(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client)
    with services.db.write() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(DeviceAuthorization).values(expires_at=past))
    oauth_error(poll(client, grant["device_code"]), "expired_token")
    page = browser.get(f"/device?user_code={grant['user_code']}").get_data(as_text=True)
    assert "no device is waiting" in page and 'value="approve"' not in page


def test_polling_too_fast_is_told_to_slow_down(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client)
    oauth_error(poll(client, grant["device_code"]), "authorization_pending")
    oauth_error(poll(client, grant["device_code"]), "slow_down")
    with services.db.read() as session:
        assert session.scalars(select(DeviceAuthorization)).one().interval == 10
    decide(browser, grant["user_code"], "approve")
    oauth_error(poll(client, grant["device_code"]), "slow_down")  # approved, still too fast
    waited(services)
    assert poll(client, grant["device_code"]).status_code == 200


def test_the_approval_page_needs_a_signed_in_person_and_the_csrf_token(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client)
    anonymous = client.get(f"/device?user_code={grant['user_code']}")
    html = anonymous.get_data(as_text=True)
    assert anonymous.status_code == 200 and 'value="approve"' not in html
    assert "/login?next=/device?user_code%3D" in html
    forged = decide(browser, grant["user_code"], "approve", csrf="forged")
    assert forged.status_code == 400
    oauth_error(poll(client, grant["device_code"]), "authorization_pending")


def test_logging_in_from_the_page_comes_back_to_it(
    app: Flask, client: FlaskClient, services: Services, alice: User
) -> None:
    grant = start(client)
    person = app.test_client()
    target = f"/device?user_code={grant['user_code']}"
    form = person.get(f"/login?next={target}").get_data(as_text=True)
    assert f'name="next" value="{target}"' in form.replace("&amp;", "&")
    with person.session_transaction() as session:
        csrf = session["csrf"]
    answer = person.post(
        "/login",
        data={
            "username": "alice",
            "password": "correct horse battery",
            "csrf_token": csrf,
            "next": target,
        },
    )
    assert answer.status_code == 303 and answer.headers["Location"] == target
    off_site = person.post("/login", data={"next": "//evil.example", "csrf_token": csrf})
    assert "evil" not in off_site.headers.get("Location", "")


def test_guessing_user_codes_is_rate_limited(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client)
    for guess in ("BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "FFFF-FFFF", "GGGG-GGGG", "HHHH-HHHH"):
        page = browser.get(f"/device?user_code={guess}", headers={"Accept": "text/html"})
        assert "no device is waiting" in page.get_data(as_text=True)
    refused = browser.get(
        f"/device?user_code={grant['user_code']}", headers={"Accept": "text/html"}
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    refused = decide(browser, grant["user_code"], "approve")
    assert refused.status_code == 429
    oauth_error(poll(client, grant["device_code"]), "authorization_pending")


def test_a_code_is_typed_loosely(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client)
    typed = str(grant["user_code"]).lower().replace("-", " ")
    page = browser.get("/device", query_string={"user_code": typed}).get_data(as_text=True)
    assert 'value="approve"' in page and str(grant["user_code"]) in page


def test_a_device_never_gets_more_than_the_approver_has(
    client: FlaskClient, browser: FlaskClient, services: Services
) -> None:
    grant = start(client, scope="read admin")
    page = decide(browser, grant["user_code"], "approve").get_data(as_text=True)
    assert "scopes your account does not have" in page
    oauth_error(poll(client, grant["device_code"]), "authorization_pending")


def test_an_account_disabled_after_approval_gets_no_token(
    client: FlaskClient, browser: FlaskClient, services: Services, alice: User
) -> None:
    grant = start(client)
    decide(browser, grant["user_code"], "approve")
    services.accounts.update_user(alice.id, disabled=True)
    oauth_error(poll(client, grant["device_code"]), "access_denied")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_id": "evil"}, "invalid_client"),
        ({"client_id": "pf", "scope": "read everything"}, "invalid_scope"),
        ({}, "invalid_client"),
    ],
)
def test_a_bad_device_authorization_request_is_an_oauth_error(
    client: FlaskClient, services: Services, form: dict[str, str], error: str
) -> None:
    oauth_error(client.post("/oauth/device_authorization", data=form), error)


def test_bad_token_requests_are_oauth_errors(client: FlaskClient, services: Services) -> None:
    grant = start(client)
    oauth_error(poll(client, "not-a-code"), "invalid_grant")
    oauth_error(poll(client, grant["device_code"], client_id="evil"), "invalid_client")
    oauth_error(poll(client, grant["device_code"], grant_type="password"), "unsupported_grant_type")
    oauth_error(client.post("/oauth/token", data={"client_id": "pf"}), "invalid_request")
    oauth_error(client.post("/oauth/token", json={"grant_type": GRANT}), "invalid_request")


def test_the_server_advertises_its_endpoints(client: FlaskClient, services: Services) -> None:
    meta = client.get("/.well-known/oauth-authorization-server").get_json()
    assert meta["issuer"] == "http://files.test"
    assert meta["device_authorization_endpoint"] == "http://files.test/oauth/device_authorization"
    assert meta["token_endpoint"] == "http://files.test/oauth/token"
    assert meta["grant_types_supported"] == [GRANT]


def test_the_api_document_has_the_flow_and_the_exchange(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["paths"]["/oauth/device_authorization"]["post"]["operationId"] == (
        "startDeviceAuthorization"
    )
    assert doc["paths"]["/oauth/token"]["post"]["operationId"] == "pollDeviceToken"
    body = doc["paths"]["/api/v1/tokens"]["post"]["requestBody"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/TokenExchange"} in body["schema"]["oneOf"]
