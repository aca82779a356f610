""" "Email me when it is downloaded": one mail at the first download, then a digest.

A subscription is stored by (subject type, subject id), so files, collections and file
requests share it. Who owns a subject is asked of the owner lookups registered for its
type (``Owners``); nobody can subscribe to what is not theirs. Mail goes through the one
SMTP sender (``services/mail.py``), from jobs, never from a request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.notifications import DownloadAlert, NotificationAddress
from pastefile.db.types import utcnow
from pastefile.errors import InvalidInput, NotFound
from pastefile.services import mail
from pastefile.services.accounts import Principal
from pastefile.services.notifications.events import SUBJECT_TYPES

log = logging.getLogger(__name__)

# Who owns a subject, and what to call it in a mail: None when there is no such subject.
OwnerLookup = Callable[[str], tuple[int | None, str] | None]
Submit = Callable[[str, dict[str, Any], int], object]
Forget = Callable[[int | None], None]
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,63}$")


class DownloadAlerts:
    def __init__(self, settings: Settings, db: Database, submit: Submit, forget: Forget) -> None:
        self.settings = settings
        self.db = db
        self.submit = submit
        self.forget = forget
        self.owners: dict[str, OwnerLookup] = {}

    def register_owner_lookup(self, subject_type: str, lookup: OwnerLookup) -> None:
        """How to find who owns a subject of this type (files here; collections, requests)."""
        if subject_type not in SUBJECT_TYPES:
            raise ValueError(f"unknown subject type {subject_type!r}")
        self.owners[subject_type] = lookup

    # --- settings -----------------------------------------------------------------

    def address(self, user_id: int) -> str | None:
        with self.db.read() as session:
            row = session.get(NotificationAddress, user_id)
        return row.email if row else None

    def set_address(self, user_id: int, email: str | None) -> None:
        with self.db.write() as session:
            row = session.get(NotificationAddress, user_id)
            if not email:
                if row is not None:
                    session.delete(row)
                return
            if len(email) > 254 or not _EMAIL.match(email):
                raise InvalidInput("that is not an email address")
            if row is None:
                session.add(NotificationAddress(user_id=user_id, email=email))
            else:
                row.email, row.updated_at = email, utcnow()

    def subscriptions(self, user_id: int) -> list[DownloadAlert]:
        query = select(DownloadAlert).where(DownloadAlert.user_id == user_id)
        with self.db.read() as session:
            return list(session.scalars(query.order_by(DownloadAlert.id)))

    def keys_of(self, user_id: int) -> list[str]:
        return [f"{a.subject_type}:{a.subject_id}" for a in self.subscriptions(user_id)]

    def is_subscribed(self, user_id: int, subject_type: str, subject_id: str) -> bool:
        return f"{subject_type}:{subject_id}" in self.keys_of(user_id)

    def subscribe(self, who: Principal, subject_type: str, subject_id: str) -> DownloadAlert:
        label = self._owned(who, subject_type, subject_id)
        if self.address(who.user_id) is None:
            raise InvalidInput("set your notification email address first")
        with self.db.write() as session:
            row: DownloadAlert | None = session.scalar(_one(who.user_id, subject_type, subject_id))
            if row is None:
                row = DownloadAlert(
                    user_id=who.user_id, subject_type=subject_type, subject_id=subject_id,
                    label=label[:255], pending=0,
                )  # fmt: skip
                session.add(row)
                session.flush()
            session.expunge(row)
        self.forget(who.user_id)
        return row

    def unsubscribe(self, who: Principal, subject_type: str, subject_id: str) -> None:
        with self.db.write() as session:
            session.execute(
                delete(DownloadAlert).where(
                    DownloadAlert.user_id == who.user_id,
                    DownloadAlert.subject_type == subject_type,
                    DownloadAlert.subject_id == subject_id,
                )
            )
        self.forget(who.user_id)

    def _owned(self, who: Principal, subject_type: str, subject_id: str) -> str:
        lookup = self.owners.get(subject_type)
        if lookup is None:
            raise InvalidInput(f"subject type must be one of: {', '.join(sorted(self.owners))}")
        found = lookup(subject_id) if len(subject_id) <= 32 else None
        if found is None or found[0] != who.user_id:
            raise NotFound(f"no such {subject_type}")
        return found[1]

    # --- events -------------------------------------------------------------------

    def on_event(self, owner_id: int, subject: tuple[str, str], now: datetime) -> None:
        """A download (or a received upload): mail at once the first time, else count it."""
        with self.db.write() as session:
            row = session.scalar(_one(owner_id, *subject))
            if row is None:
                return
            first = session.execute(
                update(DownloadAlert)
                .where(DownloadAlert.id == row.id, DownloadAlert.first_sent_at.is_(None))
                .values(first_sent_at=now, last_sent_at=now)
            )
            if not first.rowcount:  # type: ignore[attr-defined]
                session.execute(
                    update(DownloadAlert)
                    .where(DownloadAlert.id == row.id)
                    .values(pending=DownloadAlert.pending + 1)
                )
                return
            alert_id = row.id
        self.submit("notify_mail", {"alert_id": alert_id}, self.settings.job_max_attempts)

    def send_first(self, alert_id: int) -> bool:
        """The mail for a subject's first download (the ``notify_mail`` job)."""
        with self.db.read() as session:
            alert = session.get(DownloadAlert, alert_id)
            to = session.get(NotificationAddress, alert.user_id) if alert else None
        if alert is None or to is None:
            return False
        what = f"{alert.subject_type} {alert.label or alert.subject_id}"
        text = f"Your {what} was downloaded for the first time.\n\n{self._link(alert)}\n"
        text += "Later downloads come in a digest, at most once an hour.\n"
        mail.send_mail(self.settings, [to.email], f"pastefile: {what} was downloaded", text)
        return True

    def send_digests(self, now: datetime) -> int:
        """Mail each user the downloads counted since their last mail, where that mail
        is at least ``PASTEFILE_NOTIFY_DIGEST_SECONDS`` old; returns the mails sent."""
        cutoff = now - timedelta(seconds=self.settings.notify_digest_seconds)
        query = select(DownloadAlert).where(
            DownloadAlert.pending > 0, DownloadAlert.last_sent_at <= cutoff
        )
        with self.db.read() as session:
            due: dict[int, list[DownloadAlert]] = {}
            for alert in session.scalars(query.order_by(DownloadAlert.id)):
                due.setdefault(alert.user_id, []).append(alert)
        return sum(self._digest(user_id, alerts, now) for user_id, alerts in due.items())

    def _digest(self, user_id: int, alerts: list[DownloadAlert], now: datetime) -> int:
        to = self.address(user_id)
        if to is None:
            return 0
        lines = [
            f"- {a.subject_type} {a.label or a.subject_id}: {a.pending} more "
            f"download{'s' if a.pending != 1 else ''}  {self._link(a)}"
            for a in alerts
        ]
        text = "Since the last mail:\n\n" + "\n".join(lines) + "\n"
        mail.send_mail(self.settings, [to], "pastefile: downloads since the last mail", text)
        with self.db.write() as session:
            for alert in alerts:  # downloads counted meanwhile stay for the next digest
                session.execute(
                    update(DownloadAlert)
                    .where(DownloadAlert.id == alert.id)
                    .values(pending=DownloadAlert.pending - alert.pending, last_sent_at=now)
                )
        return 1

    def _link(self, alert: DownloadAlert) -> str:
        paths = {"file": "/p/", "collection": "/c/", "request": "/u/"}
        base = self.settings.base_url
        return f"{base}{paths.get(alert.subject_type, '/')}{alert.subject_id}" if base else ""


def _one(user_id: int, subject_type: str, subject_id: str) -> Any:
    return select(DownloadAlert).where(
        DownloadAlert.user_id == user_id,
        DownloadAlert.subject_type == subject_type,
        DownloadAlert.subject_id == subject_id,
    )
