""" "Email me when it is downloaded", mailed to a real aiosmtpd server: one mail at the
first download, later ones in a digest at most once an hour (the digest job is run with
a given 'now', so no test sleeps an hour), and only for what is yours."""

from __future__ import annotations

import email
import io
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from pastefile.db.types import utcnow
from tests.support.api import make_token, post_file, problem
from tests.support.jobs import JOB_SETTINGS, drain_jobs
from tests.support.servers import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def settings_overrides(inbox: tuple[Inbox, int]) -> dict[str, object]:
    return {
        **JOB_SETTINGS,
        "smtp_host": "127.0.0.1",
        "smtp_port": inbox[1],
        "smtp_starttls": False,
        "report_from": "files@files.test",
    }


def digest(services, now) -> None:  # type: ignore[no-untyped-def]
    services.jobs.submit("download_digest", params={"now": now.isoformat()})
    drain_jobs(services)


def test_first_download_mails_at_once_then_an_hourly_digest(client, services, inbox) -> None:
    box, _port = inbox
    alice = make_token(services)
    file_id = post_file(client, alice, name="report.txt").get_json()["id"]
    path = f"/api/v1/notifications/alerts/file/{file_id}"
    problem(client.put(path, headers=alice), 400, "invalid_input")  # no address yet
    client.patch("/api/v1/notifications", json={"email": "alice@example.test"}, headers=alice)
    assert client.put(path, headers=alice).status_code == 200
    client.get(f"/d/{file_id}")
    drain_jobs(services)
    assert len(box.messages) == 1
    first = box.messages[0]
    assert first["To"] == "alice@example.test" and "report.txt" in first["Subject"]
    for _ in range(3):
        client.get(f"/d/{file_id}")
    drain_jobs(services)
    assert len(box.messages) == 1  # later downloads wait for the digest
    now = utcnow()
    digest(services, now + timedelta(minutes=30))
    assert len(box.messages) == 1  # less than an hour since the first mail
    digest(services, now + timedelta(minutes=61))
    assert len(box.messages) == 2
    assert "3 more downloads" in box.messages[1].get_payload()
    digest(services, now + timedelta(minutes=200))
    assert len(box.messages) == 2  # nothing new: no mail
    client.get(f"/d/{file_id}")
    digest(services, now + timedelta(minutes=90))
    assert len(box.messages) == 2  # an hour since the digest has not passed
    digest(services, now + timedelta(minutes=122))
    assert len(box.messages) == 3 and "1 more download " in box.messages[2].get_payload()
    alerts = client.get("/api/v1/notifications", headers=alice).get_json()["alerts"]
    assert alerts[0]["subject_id"] == file_id and alerts[0]["pending"] == 0


def test_nobody_subscribes_to_what_is_not_theirs(client, services, inbox) -> None:
    alice, bob = make_token(services), make_token(services, "bob")
    file_id = post_file(client, alice).get_json()["id"]
    client.patch("/api/v1/notifications", json={"email": "bob@example.test"}, headers=bob)
    problem(
        client.put(f"/api/v1/notifications/alerts/file/{file_id}", headers=bob), 404, "not_found"
    )
    problem(
        client.put("/api/v1/notifications/alerts/file/nosuchfile", headers=bob), 404, "not_found"
    )
    for kind in ("collection", "request"):  # unknown ones look like others' ones
        problem(
            client.put(f"/api/v1/notifications/alerts/{kind}/abc", headers=bob), 404, "not_found"
        )
    assert client.get("/api/v1/notifications/alerts/file/x", headers=bob).status_code == 405
    problem(
        client.patch("/api/v1/notifications", json={"email": "not an address"}, headers=bob),
        400,
        "invalid_input",
    )
    client.get(f"/d/{file_id}")
    drain_jobs(services)
    assert inbox[0].messages == []


def test_a_collection_zip_and_a_request_upload_mail_their_owner(client, services, inbox) -> None:
    box, _port = inbox
    alice, mallory = make_token(services), make_token(services, "mallory")
    client.patch("/api/v1/notifications", json={"email": "alice@example.test"}, headers=alice)
    file_id = post_file(client, alice).get_json()["id"]
    made = client.post(
        "/api/v1/collections", json={"title": "Holiday", "files": [file_id]}, headers=alice
    )
    collection = made.get_json()["id"]
    path = f"/api/v1/notifications/alerts/collection/{collection}"
    problem(client.put(path, headers=mallory), 404, "not_found")  # not hers to watch
    assert client.put(path, headers=alice).status_code == 200
    assert client.get(f"/c/{collection}.zip").status_code == 200
    asked = client.post("/api/v1/requests", json={"title": "Slides"}, headers=alice).get_json()
    watch = f"/api/v1/notifications/alerts/request/{asked['id']}"
    assert client.put(watch, headers=alice).status_code == 200
    upload = urlsplit(asked["links"]["upload"]).path
    sent = client.post(upload, data={"file": (io.BytesIO(b"deck\n"), "deck.txt")})
    assert sent.status_code == 201, sent.get_data(as_text=True)
    drain_jobs(services)
    subjects = sorted(str(m["Subject"]) for m in box.messages)
    assert len(subjects) == 2, subjects
    assert any("Holiday" in s for s in subjects) and any("Slides" in s for s in subjects)
