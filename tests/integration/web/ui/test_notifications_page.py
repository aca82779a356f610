"""The account's Webhooks and Notifications sections, and the card's owner panel:
registering shows the secret once, the delivery log and re-enable, the "Email me"
toggle, the download history; everything behind the session's CSRF token."""

from __future__ import annotations

import io
import re

import pytest

from tests.support.jobs import JOB_SETTINGS, drain_jobs
from tests.support.sessions import sign_in
from tests.support.webhooks import receiver

BASE = "http://files.test"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(JOB_SETTINGS)


def _csrf(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found, "no CSRF token on the page"
    return found.group(1)


def _signed_in(client, services, name="alice"):  # type: ignore[no-untyped-def]
    user = services.accounts.create_user(name, "correct horse battery")
    sign_in(client, services, user.id)
    return user


def post(client, path, token, **form):  # type: ignore[no-untyped-def]
    data = {"csrf_token": token, **form}
    return client.post(path, data=data, headers={"Origin": BASE})


def test_register_see_the_secret_once_and_the_log(client, services) -> None:
    user = _signed_in(client, services)
    page = client.get("/account/notifications")
    assert page.status_code == 200 and "Webhooks" in page.get_data(as_text=True)
    token = _csrf(page)
    with receiver() as hook:
        made = post(client, "/account/webhooks", token, url=hook.url, events="file.uploaded")
        assert made.status_code == 303
        shown = client.get("/account/notifications").get_data(as_text=True)
        secret = re.search(r'value="(whsec_[^"]+)"', shown)
        assert secret is not None
        again = client.get("/account/notifications").get_data(as_text=True)
        assert secret.group(1) not in again  # shown once
        hook_id = services.notifier.webhooks.endpoints(services.accounts.session_principal(user))[
            0
        ].id
        assert post(client, f"/account/webhooks/{hook_id}/ping", token).status_code == 303
        drain_jobs(services)
        log = client.get("/account/notifications").get_data(as_text=True)
        assert "webhook.ping" in log and "delivered" in log
    refused = post(
        client, "/account/webhooks", token, url="http://127.0.0.1/x", events="file.uploaded"
    )
    assert refused.status_code == 303
    assert "127.0.0.1" in client.get("/account/notifications").get_data(as_text=True)
    without = client.post("/account/webhooks", data={"url": "http://127.0.0.2/"})
    assert without.status_code in (400, 403)  # no CSRF token: refused


def test_the_card_offers_email_me_and_shows_history_to_the_owner(client, services) -> None:
    _signed_in(client, services)
    token = _csrf(client.get("/account/notifications"))
    post(client, "/account/notifications/address", token, email="alice@example.test")
    form = {"file": (io.BytesIO(b"card bytes"), "c.txt"), "csrf_token": token}
    up = client.post("/", data=form, headers={"Accept": "application/json", "Origin": BASE})
    file_id = up.get_json()["url_p"].rsplit("/", 1)[-1]
    card = client.get(f"/p/{file_id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Email me when it is downloaded" in card and "No downloads yet." in card
    on = post(client, f"/account/alerts/file/{file_id}", token, on="1")
    assert on.status_code == 303
    client.get(f"/d/{file_id}")
    services.notifier.history.flush()
    card = client.get(f"/p/{file_id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Stop emailing me about downloads" in card and "Download history" in card
    assert "<td>1</td>" in card
    other = client.application.test_client()
    _signed_in(other, services, "bob")
    theirs = other.get(f"/p/{file_id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Download history" not in theirs
    drain_jobs(services)


def test_another_users_endpoint_and_file_are_out_of_reach(client, services) -> None:
    alice = services.accounts.create_user("alice", "correct horse battery")
    who = services.accounts.session_principal(alice)
    services.fetcher.policy = services.fetcher.policy.__class__(allowed_networks=("127.0.0.2/32",))
    hook, _secret = services.notifier.webhooks.create(
        who, "http://127.0.0.2:9/x", ["file.uploaded"]
    )
    _signed_in(client, services, "bob")
    token = _csrf(client.get("/account/notifications"))
    for action in ("delete", "disable", "ping"):
        assert post(client, f"/account/webhooks/{hook.id}/{action}", token).status_code == 303
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "no such webhook" in page and "127.0.0.2:9" not in page
    assert services.notifier.webhooks.get(who, hook.id).enabled is True
    assert services.notifier.webhooks.deliveries(who, hook.id) == []
