"""Webhooks through the API, delivered to a real local receiver: registration (SSRF,
schemes, sizes), Standard Webhooks signatures checked independently, the file events,
retries with backoff, disabling after failures, and other users kept out."""

from __future__ import annotations

import io
import time
from datetime import timedelta
from urllib.parse import urlsplit

import orjson
import pytest
from sqlalchemy import select, update

from pastefile.db.notifications import DownloadHistory, WebhookDelivery, WebhookEndpoint
from pastefile.db.types import utcnow
from pastefile.services.accounts import ROLE_ADMIN, SCOPES
from tests.support.api import make_token, post_file, problem
from tests.support.jobs import JOB_SETTINGS, drain_jobs
from tests.support.webhooks import receiver, signature_ok


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {**JOB_SETTINGS, "webhook_max_failures": 3, "webhook_max_attempts": 3}


def register(client, headers, url, events=("file.uploaded",), **extra):
    body = {"url": url, "events": list(events), **extra}
    return client.post("/api/v1/webhooks", json=body, headers=headers)


def drain_until(services, check, timeout=10.0):
    """Run queued jobs (waiting out short retry backoffs) until ``check()`` holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the jobs never got there"
        drain_jobs(services)
        time.sleep(0.02)


def test_upload_download_delete_are_signed_deliveries(client, services) -> None:
    alice = make_token(services)
    events = ("file.uploaded", "file.downloaded", "file.deleted")
    with receiver() as hook:
        made = register(client, alice, hook.url, events)
        assert made.status_code == 201, made.get_data(as_text=True)
        secret = made.get_json()["secret"]
        file_id = post_file(client, alice).get_json()["id"]
        assert client.get(f"/i/{file_id}").status_code == 200
        assert client.delete(f"/api/v1/files/{file_id}", headers=alice).status_code == 204
        drain_until(services, lambda: len(hook.got) >= 3)
        kinds = []
        for got in hook.got:
            assert signature_ok(secret, got.headers, got.body)
            assert not signature_ok("whsec_" + "A" * 44, got.headers, got.body)
            payload = orjson.loads(got.body)
            assert payload["data"]["id"] == file_id
            kinds.append(payload["type"])
        assert sorted(kinds) == sorted(events)
        log = client.get(f"/api/v1/webhooks/{made.get_json()['id']}/deliveries", headers=alice)
        assert {d["status"] for d in log.get_json()} == {"delivered"}
        assert all(d["response_code"] == 204 and d["attempts"] == 1 for d in log.get_json())


def test_expiry_is_an_event(client, services) -> None:
    alice = make_token(services)
    with receiver() as hook:
        register(client, alice, hook.url, ["file.expired"])
        file_id = post_file(client, alice, expires_in=1).get_json()["id"]
        time.sleep(1.1)
        assert services.access.sweep() == 1
        drain_until(services, lambda: hook.got)
        assert orjson.loads(hook.got[0].body)["data"]["id"] == file_id


def test_failures_retry_with_backoff_then_succeed(client, services) -> None:
    alice = make_token(services)
    with receiver() as hook:
        hook.answers = [500, 503]
        hook_id = register(client, alice, hook.url).get_json()["id"]
        post_file(client, alice)
        drain_until(services, lambda: len(hook.got) == 3)
        assert len({got.headers["webhook-id"] for got in hook.got}) == 1  # one message
        gaps = [b.at - a.at for a, b in zip(hook.got, hook.got[1:], strict=False)]
        base = JOB_SETTINGS["job_retry_base_seconds"]
        assert gaps[0] >= base / 2 and gaps[1] >= base  # 2**attempt, half of it jittered
        drain_until(services, lambda: _log(client, alice, hook_id)[0]["status"] == "delivered")
        entry = _log(client, alice, hook_id)[0]
        assert entry["attempts"] == 3 and entry["response_code"] == 204
        assert (
            client.get(f"/api/v1/webhooks/{hook_id}", headers=alice).get_json()[
                "consecutive_failures"
            ]
            == 0
        )


def _log(client, headers, hook_id):
    return client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=headers).get_json()


def test_an_endpoint_that_keeps_failing_is_disabled_and_can_be_re_enabled(client, services) -> None:
    alice = make_token(services)
    with receiver() as hook:
        hook.then = 500
        hook_id = register(client, alice, hook.url).get_json()["id"]
        post_file(client, alice, data=b"one")
        drain_until(services, lambda: len(hook.got) == 3)
        drain_jobs(services)
        shown = client.get(f"/api/v1/webhooks/{hook_id}", headers=alice).get_json()
        assert shown["enabled"] is False and "3 failed" in shown["disabled_reason"]
        assert _log(client, alice, hook_id)[0]["status"] == "failed"
        post_file(client, alice, data=b"two")  # nobody listens now: no delivery at all
        drain_jobs(services)
        assert len(hook.got) == 3 and len(_log(client, alice, hook_id)) == 1
        hook.then = 200
        again = client.patch(f"/api/v1/webhooks/{hook_id}", json={"enabled": True}, headers=alice)
        assert again.get_json()["enabled"] is True
        assert again.get_json()["consecutive_failures"] == 0
        assert client.post(f"/api/v1/webhooks/{hook_id}/ping", headers=alice).status_code == 202
        drain_until(services, lambda: len(hook.got) == 4)
        assert orjson.loads(hook.got[-1].body)["type"] == "webhook.ping"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/x",
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://127.0.0.2/x",
        "http://user:pw@127.0.0.2/x",
        "http://127.0.0.2/a\r\nX-Injected: 1",
        "http://127.0.0.2/a b",
        "http://0x7f000001/",
        "http://[::ffff:127.0.0.1]/",
        "hTtP://[\\",  # an IPv6 literal never closed
    ],
)
def test_private_addresses_and_other_schemes_are_refused(client, services, url) -> None:
    alice = make_token(services)
    response = register(client, alice, url)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert client.get("/api/v1/webhooks", headers=alice).get_json() == []


def test_an_oversized_url_is_refused(client, services) -> None:
    alice = make_token(services)
    problem(register(client, alice, "http://127.0.0.2/" + "a" * 2100), 400, "invalid_input")
    problem(register(client, alice, "http://127.0.0.2/", ["file.nope"]), 400, "invalid_input")


def test_dns_that_changes_after_registration_is_refused_at_delivery(client, services) -> None:
    alice = make_token(services)
    with receiver() as hook:
        hook_id = register(client, alice, hook.url).get_json()["id"]
        services.fetcher.resolve = lambda host, port: ["127.0.0.1"]  # the rebinding
        post_file(client, alice)
        drain_jobs(services)
        assert hook.got == []
        entry = _log(client, alice, hook_id)[0]
        assert entry["status"] == "failed" and "127.0.0.1" in entry["error"]


def test_secrets_are_shown_once_and_other_users_see_nothing(client, services) -> None:
    alice, bob = make_token(services), make_token(services, "bob")
    with receiver() as hook:
        made = register(client, alice, hook.url).get_json()
        hook_id = made["id"]
        assert made["secret"].startswith("whsec_")
        for shown in (
            client.get(f"/api/v1/webhooks/{hook_id}", headers=alice).get_json(),
            *client.get("/api/v1/webhooks", headers=alice).get_json(),
            client.patch(
                f"/api/v1/webhooks/{hook_id}", json={"description": "x"}, headers=alice
            ).get_json(),
        ):
            assert "secret" not in shown and made["secret"] not in orjson.dumps(shown).decode()
        assert client.get("/api/v1/webhooks", headers=bob).get_json() == []
        for method, path in (
            ("get", f"/api/v1/webhooks/{hook_id}"),
            ("patch", f"/api/v1/webhooks/{hook_id}"),
            ("delete", f"/api/v1/webhooks/{hook_id}"),
            ("get", f"/api/v1/webhooks/{hook_id}/deliveries"),
            ("post", f"/api/v1/webhooks/{hook_id}/ping"),
        ):
            kwargs = {"json": {"enabled": False}} if method == "patch" else {}
            problem(getattr(client, method)(path, headers=bob, **kwargs), 404, "not_found")
        # bob's uploads never reach alice's endpoint
        post_file(client, bob)
        drain_jobs(services)
        assert hook.got == []
        assert client.get(f"/api/v1/webhooks/{hook_id}", headers=alice).status_code == 200
        with services.db.read() as session:
            stored = session.get(WebhookEndpoint, hook_id)
        assert made["secret"] not in stored.secret_enc  # encrypted at rest


def test_site_wide_endpoints_are_for_administrators_and_hear_everyone(client, services) -> None:
    alice = make_token(services)
    root = make_token(services, "root", scopes=SCOPES, roles=ROLE_ADMIN)
    with receiver() as hook:
        problem(register(client, alice, hook.url, site_wide=True), 403, "forbidden")
        made = register(client, root, hook.url, site_wide=True)
        assert made.status_code == 201 and made.get_json()["site_wide"] is True
        file_id = post_file(client, alice).get_json()["id"]
        drain_until(services, lambda: hook.got)
        assert orjson.loads(hook.got[0].body)["data"]["id"] == file_id
        assert client.get("/api/v1/webhooks", headers=alice).get_json() == []


def test_a_download_of_a_file_nobody_listens_to_costs_no_query(client, services) -> None:
    alice = make_token(services)
    file_id = post_file(client, alice).get_json()["id"]
    client.get(f"/i/{file_id}")  # warms the caches
    statements: list[str] = []
    from sqlalchemy import event

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(services.db.engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/i/{file_id}").status_code == 200
    finally:
        event.remove(services.db.engine, "before_cursor_execute", count)
    assert not [s for s in statements if "webhook" in s or "download_alerts" in s], statements


class OneCountry:
    """A GeoIP reader that knows one address (maxminddb's answer shape)."""

    def get(self, address: str) -> dict[str, object] | None:
        return {"country": {"iso_code": "GB"}} if address == "81.2.69.142" else None


def test_history_counts_downloads_per_day_and_country(client, services) -> None:
    alice, bob = make_token(services), make_token(services, "bob")
    file_id = post_file(client, alice).get_json()["id"]
    services.notifier.history.geoip.path = "GeoLite2-Country.mmdb"
    services.notifier.history.geoip._reader = OneCountry()
    for _ in range(3):
        client.get(f"/d/{file_id}")
    client.get(f"/d/{file_id}", environ_base={"REMOTE_ADDR": "81.2.69.142"})
    client.get(f"/d/{file_id}", headers={"Range": "bytes=5-"})  # not a download
    services.notifier.history.flush()
    body = client.get(f"/api/v1/files/{file_id}/downloads", headers=alice).get_json()
    today = utcnow().date().isoformat()
    assert body["total"] == 4
    assert body["days"] == [
        {"day": today, "country": None, "count": 3},
        {"day": today, "country": "GB", "count": 1},
    ]
    problem(client.get(f"/api/v1/files/{file_id}/downloads", headers=bob), 403, "forbidden")
    with services.db.read() as session:
        rows = session.execute(select(DownloadHistory)).scalars().all()
    assert len(rows) == 2  # aggregated rows, and no address anywhere in them
    assert not any("81.2" in repr(vars(row)) or "127.0" in repr(vars(row)) for row in rows)


def test_gc_forgets_old_finished_deliveries(client, services) -> None:
    alice = make_token(services)
    with receiver() as hook:
        hook_id = register(client, alice, hook.url).get_json()["id"]
        post_file(client, alice, data=b"old")
        drain_until(services, lambda: hook.got)
        drain_jobs(services)
    old = utcnow() - timedelta(days=31)
    with services.db.write() as session:
        session.execute(update(WebhookDelivery).values(updated_at=old))
    services.jobs.submit("gc")
    gc = next(job for job in drain_jobs(services) if job.kind == "gc")
    assert gc.result["pruned_deliveries"] == 1
    assert _log(client, alice, hook_id) == []


def test_a_collection_zip_and_a_request_upload_are_events(client, services) -> None:
    alice = make_token(services)
    with receiver() as hook:
        register(client, alice, hook.url, ["collection.downloaded", "request.received"])
        file_id = post_file(client, alice).get_json()["id"]
        made = client.post("/api/v1/collections", json={"files": [file_id]}, headers=alice)
        collection = made.get_json()["id"]
        assert client.get(f"/c/{collection}.zip").status_code == 200
        asked = client.post("/api/v1/requests", json={"title": "scans"}, headers=alice)
        upload = urlsplit(asked.get_json()["links"]["upload"]).path
        sent = client.post(
            upload,
            data={"file": (io.BytesIO(b"a scan\n"), "scan.txt")},
            headers={"Accept": "application/json"},
        )
        assert sent.status_code == 201, sent.get_data(as_text=True)
        drain_until(services, lambda: len(hook.got) >= 2)
        payloads = {p["type"]: p["data"] for p in (orjson.loads(g.body) for g in hook.got)}
        assert payloads["collection.downloaded"]["id"] == collection
        received = payloads["request.received"]
        assert received["id"] == asked.get_json()["id"]
        assert received["file"]["filename"] == "scan.txt" and received["file"]["size"] == 7
