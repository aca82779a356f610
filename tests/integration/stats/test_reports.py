"""The report (HTML + .xlsx) mailed to a real local SMTP server."""

from __future__ import annotations

import email
import io
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from pastefile.cli import main as cli_main
from pastefile.db.models import File
from pastefile.db.stats import FileDailyStats, FileDailyVisitor, StatsReport
from pastefile.jobs.schedule import periodic_jobs
from pastefile.services.accounts import ROLE_ADMIN
from pastefile.stats.counting import today
from pastefile.stats.reports import make_report
from tests.support.cli import cli_env
from tests.support.jobs import drain_jobs
from tests.support.servers import free_port
from tests.support.sessions import sign_in
from tests.support.stats import post_file, recorder, user_headers

USER, PASSWORD = "mailer", "s3cret-mail"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.logins: list[bytes] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        self.arrived.set()
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        )
        if ok:
            self.logins.append(auth_data.login)
        return AuthResult(success=ok)


def _tls_context(tmp: Path):  # type: ignore[no-untyped-def]
    import ssl

    key, cert = tmp / "smtp.key", tmp / "smtp.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Inbox, int]]:
    """aiosmtpd on a free port: STARTTLS required (a throwaway CA), then AUTH."""
    inbox = Inbox()
    context, cert = _tls_context(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts our throwaway cert
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, server_hostname="localhost",
        tls_context=context, require_starttls=True, authenticator=inbox.authenticate,
        auth_required=True,
    )  # fmt: skip
    controller.start()
    yield inbox, port
    controller.stop()


def mail_settings(port: int) -> dict[str, object]:
    return {
        "smtp_host": "localhost",
        "smtp_port": port,
        "smtp_starttls": True,
        "smtp_username": USER,
        "smtp_password": PASSWORD,
        "report_from": "reports@files.test",
    }


def _traffic(app, client, services):  # type: ignore[no-untyped-def]
    _, alice = user_headers(services, "alice")
    busy = post_file(client, alice, b"busy file", "busy.txt")
    quiet = post_file(client, alice, b"quiet file", "quiet.txt")
    for i in range(4):
        client.get(f"/i/{busy}", headers={"User-Agent": f"agent {i % 3}"})
    client.get(f"/d/{busy}", headers={"User-Agent": "agent 0"})
    client.get(f"/p/{quiet}", headers={"User-Agent": "agent 9"})
    recorder(app).flush()
    return busy, quiet


def _attachment(message: Message) -> bytes:
    for part in message.walk():
        if part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError("no attachment")


def _db_numbers(services, public_id):  # type: ignore[no-untyped-def]
    with services.db.read() as session:
        file_id = session.scalar(select(File.id).where(File.public_id == public_id))
        row = session.get(FileDailyStats, (file_id, today()))
        uv = session.scalar(select(func.count()).where(FileDailyVisitor.file_id == file_id))
    return row.views + row.hits + row.downloads, uv


def test_the_mailed_workbook_matches_the_database(app, client, services, settings, smtp):
    inbox, port = smtp
    busy, quiet = _traffic(app, client, services)
    mailing = settings.model_copy(update=mail_settings(port))
    store = app.services.stats_store
    tomorrow = today() + timedelta(days=1)  # so "yesterday" is today's traffic
    made = make_report(
        mailing, services.db, services.blobs, store, "daily", ["ops@files.test"], tomorrow
    )
    assert inbox.arrived.wait(10) and inbox.logins == [USER.encode()]
    message = inbox.messages[0]
    assert message["To"] == "ops@files.test" and "daily report" in message["Subject"]
    html = next(p for p in message.walk() if p.get_content_type() == "text/html")
    body = html.get_payload(decode=True).decode()
    assert 'style="' in body and "<link" not in body
    data = _attachment(message)
    book = load_workbook(io.BytesIO(data), data_only=True)
    assert book.sheetnames == ["pv", "uv", "analysis"]
    for public_id in (busy, quiet):
        pv, uv = _db_numbers(services, public_id)
        pv_row = next(r for r in book["pv"].iter_rows(values_only=True) if r[0] == public_id)
        uv_row = next(r for r in book["uv"].iter_rows(values_only=True) if r[0] == public_id)
        assert (pv_row[2], pv_row[3]) == (pv, pv)  # the day, the total
        assert (uv_row[2], uv_row[3]) == (uv, uv)
    assert [r[0] for r in book["pv"].iter_rows(min_row=2, values_only=True)] == [busy, quiet]
    analysis = list(book["analysis"].iter_rows(min_row=2, values_only=True))
    assert analysis[0][1] == 6 and analysis[0][2] == 4  # site PV and UV
    for name in ("pv", "uv", "analysis"):
        assert book[name].conditional_formatting, name
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
        charts = archive.read("xl/charts/chart1.xml") + archive.read("xl/charts/chart2.xml")
        assert b"<c:lineChart>" in charts and b"<c:barChart>" in charts
        assert b"sparklineGroup" in archive.read("xl/worksheets/sheet1.xml")
    with services.db.read() as session:
        kept = session.get(StatsReport, made.id)
    assert kept is not None and kept.summary["pv"] == 6
    with services.storage.open(kept.sha256) as stored:
        assert stored.read() == data


def test_admins_list_and_download_past_reports(app, client, services, settings):
    made = make_report(
        settings, services.db, services.blobs,
        app.services.stats_store, "weekly", [], today(),
    )  # fmt: skip
    root, _ = user_headers(services, "root", ROLE_ADMIN, ("read", "admin"))
    assert client.get("/admin/reports").status_code == 401
    sign_in(client, services, root.id)
    page = client.get("/admin/reports", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f"/admin/reports/{made.id}.xlsx" in page
    download = client.get(f"/admin/reports/{made.id}.xlsx")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    assert client.get("/admin/reports/99999.xlsx").status_code == 404


def test_the_report_job_is_a_kind_and_a_periodic_one(services, settings, smtp):
    inbox, port = smtp
    assert [p.kind for p in periodic_jobs(settings)].count("report") == 0
    every = settings.model_copy(update={"report_every_seconds": 86400})
    assert [p.kind for p in periodic_jobs(every) if p.kind == "report"] == ["report"]
    services.settings = settings.model_copy(update=mail_settings(port))
    services.jobs.settings = services.settings
    job = services.jobs.submit("report", params={"period": "daily", "to": ["a@files.test"]})
    done = next(j for j in drain_jobs(services) if j.id == job.id)
    assert done.status == "succeeded", done.error
    assert inbox.arrived.wait(10) and inbox.messages[0]["To"] == "a@files.test"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_cli_reports_and_mails(database_url, settings, services, smtp):
    inbox, port = smtp
    env = cli_env(
        settings, **{f"PASTEFILE_{k.upper()}": str(v) for k, v in mail_settings(port).items()}
    )
    result = CliRunner().invoke(
        cli_main,
        ["report", "--period", "weekly", "--to", "x@files.test", "--to", "y@files.test"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "mailed to x@files.test, y@files.test" in result.output
    assert inbox.arrived.wait(10) and inbox.messages[0]["To"] == "x@files.test, y@files.test"
    bad = CliRunner().invoke(cli_main, ["report", "--period", "monthly"], env=env)
    assert bad.exit_code == 2
