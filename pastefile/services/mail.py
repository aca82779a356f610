"""The one SMTP sender: the stats report and the download notifications both mail here,
with the ``PASTEFILE_SMTP_*`` settings (STARTTLS, then AUTH when a user is set)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from pastefile.config import Settings


@dataclass(frozen=True)
class Attachment:
    data: bytes
    mimetype: str
    filename: str


def send_mail(
    settings: Settings,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Build and send one message; raises ``OSError``/``smtplib.SMTPException`` on failure."""
    message = EmailMessage()
    message["From"] = settings.report_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, subtype = item.mimetype.split("/", 1)
        message.add_attachment(
            item.data, maintype=maintype, subtype=subtype, filename=item.filename
        )
    host, port = settings.smtp_host or "localhost", settings.smtp_port
    with smtplib.SMTP(host, port, timeout=settings.smtp_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
