"""Webhook endpoints: registering them (SSRF-checked), the delivery log, and delivering.

A user's endpoint hears that user's events; a site-wide endpoint (``owner_id`` NULL,
administrators only) hears everyone's. Each event becomes one delivery row per endpoint
and one ``webhook`` job; the job system retries a failed attempt with exponential
backoff, and an endpoint is disabled after ``PASTEFILE_WEBHOOK_MAX_FAILURES`` failed
attempts in a row. Every request goes through ``Fetcher`` (its SSRF rules), at
registration and again at each delivery, because DNS answers can change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.notifications import (
    DELIVERED,
    FAILED,
    PENDING,
    SKIPPED,
    WebhookDelivery,
    WebhookEndpoint,
)
from pastefile.db.types import utcnow
from pastefile.errors import FetchFailed, FetchRefused, Forbidden, InvalidInput, NotFound
from pastefile.services.accounts import Principal
from pastefile.services.fetch import Fetcher
from pastefile.services.notifications.events import EVENTS, PING
from pastefile.services.notifications.secrets import SecretBox, new_secret
from pastefile.services.notifications.signing import signed_headers

MAX_URL = 2000
MAX_ENDPOINTS = 20
LOG_SIZE = 50
RETRYING = "retrying"
# Submits a job: (kind, params, max_attempts).
Submit = Callable[[str, dict[str, Any], int], object]
# Told when an owner's (None: the site's) subscriptions change, to drop cached ones.
Forget = Callable[[int | None], None]


class DeliveryFailed(FetchFailed):
    """An attempt that another attempt may fix (a 5xx, a timeout, a refused connection)."""


@dataclass(frozen=True)
class EndpointChanges:
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def check_events(events: list[str]) -> str:
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise InvalidInput(f"events must be some of: {', '.join(EVENTS)}")
    return " ".join(e for e in EVENTS if e in events)


class WebhookService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        fetcher: Fetcher,
        box: SecretBox,
        submit: Submit,
        forget: Forget,
    ) -> None:
        self.settings = settings
        self.db = db
        self.fetcher = fetcher
        self.box = box
        self.submit = submit
        self.forget = forget

    # --- managing ---------------------------------------------------------------------

    def check_url(self, url: str) -> str:
        if len(url) > MAX_URL:
            raise InvalidInput(f"the URL is longer than {MAX_URL} characters")
        if not url.lower().startswith(("http://", "https://")):
            raise FetchRefused("only http and https URLs can receive webhooks")
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
            raise InvalidInput("the URL has spaces or control characters")
        try:
            self.fetcher.check_target(url)
        except FetchFailed as exc:  # a name that does not resolve: nothing to register
            raise InvalidInput(str(exc)) from None
        return url

    def create(
        self, who: Principal, url: str, events: list[str], description: str = "", site: bool = False
    ) -> tuple[WebhookEndpoint, str]:
        """Register an endpoint; returns it and its secret, which is never shown again."""
        if site and not who.is_admin:
            raise Forbidden("site-wide webhooks are for administrators")
        owner = None if site else who.user_id
        chosen = check_events(events)
        self.check_url(url)
        secret = new_secret()
        with self.db.write() as session:
            if self._count(session, owner) >= MAX_ENDPOINTS:
                raise InvalidInput(f"at most {MAX_ENDPOINTS} webhooks each")
            row = WebhookEndpoint(
                owner_id=owner, created_by=who.user_id, url=url, events=chosen,
                description=description[:200], secret_enc=self.box.seal(secret), enabled=True,
                consecutive_failures=0,
            )  # fmt: skip
            session.add(row)
            session.flush()
            session.expunge(row)
        self.forget(owner)
        return row, secret

    @staticmethod
    def _count(session: Session, owner: int | None) -> int:
        column = WebhookEndpoint.owner_id
        where = column.is_(None) if owner is None else column == owner
        return len(list(session.scalars(select(WebhookEndpoint.id).where(where))))

    def endpoints(self, who: Principal) -> list[WebhookEndpoint]:
        """Yours; for an administrator, the site-wide ones too."""
        mine = WebhookEndpoint.owner_id == who.user_id
        where = or_(mine, WebhookEndpoint.owner_id.is_(None)) if who.is_admin else mine
        with self.db.read() as session:
            return list(session.scalars(select(WebhookEndpoint).where(where).order_by("id")))

    def get(self, who: Principal, endpoint_id: int) -> WebhookEndpoint:
        """The endpoint if ``who`` manages it; anyone else's does not exist (404)."""
        with self.db.read() as session:
            row = session.get(WebhookEndpoint, endpoint_id)
        if row is None or not _manages(who, row):
            raise NotFound("no such webhook")
        return row

    def update(self, who: Principal, endpoint_id: int, changes: EndpointChanges) -> WebhookEndpoint:
        row = self.get(who, endpoint_id)
        values: dict[str, Any] = {"updated_at": utcnow()}
        if changes.url is not None:
            values["url"] = self.check_url(changes.url)
        if changes.events is not None:
            values["events"] = check_events(changes.events)
        if changes.description is not None:
            values["description"] = changes.description[:200]
        if changes.enabled is not None:
            values["enabled"] = changes.enabled
            if changes.enabled:  # re-enabled: a fresh count of failures
                values.update(consecutive_failures=0, disabled_reason=None)
        with self.db.write() as session:
            session.execute(
                update(WebhookEndpoint).where(WebhookEndpoint.id == row.id).values(**values)
            )
        self.forget(row.owner_id)
        return self.get(who, endpoint_id)

    def delete(self, who: Principal, endpoint_id: int) -> None:
        row = self.get(who, endpoint_id)
        with self.db.write() as session:
            found = session.get(WebhookEndpoint, row.id)
            if found is not None:
                session.delete(found)
        self.forget(row.owner_id)

    def deliveries(self, who: Principal, endpoint_id: int) -> list[WebhookDelivery]:
        """The endpoint's delivery log, newest first."""
        row = self.get(who, endpoint_id)
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == row.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(LOG_SIZE)
        )
        with self.db.read() as session:
            return list(session.scalars(query))

    def ping(self, who: Principal, endpoint_id: int) -> WebhookDelivery:
        """A test message (``webhook.ping``), delivered like any event."""
        row = self.get(who, endpoint_id)
        data = {"endpoint_id": row.id, "message": "a test delivery from pastefile"}
        return self._queue(row.id, PING, data)

    # --- events -----------------------------------------------------------------------

    def wanted_events(self, owner_id: int | None) -> list[str]:
        """The events some enabled endpoint of ``owner_id`` (None: site-wide) listens to."""
        column = WebhookEndpoint.owner_id
        where = column.is_(None) if owner_id is None else column == owner_id
        query = select(WebhookEndpoint.events).where(where, WebhookEndpoint.enabled.is_(True))
        with self.db.read() as session:
            found = {e for events in session.scalars(query) for e in events.split()}
        return sorted(found)

    def enqueue(self, event: str, owner_id: int | None, data: dict[str, Any]) -> int:
        """One delivery (and job) per enabled endpoint of the owner or the site that
        listens to ``event``; returns how many."""
        owners: list[Any] = [WebhookEndpoint.owner_id.is_(None)]
        if owner_id is not None:
            owners.append(WebhookEndpoint.owner_id == owner_id)
        query = select(WebhookEndpoint.id, WebhookEndpoint.events).where(
            or_(*owners), WebhookEndpoint.enabled.is_(True)
        )
        with self.db.read() as session:
            targets = [i for i, events in session.execute(query) if event in events.split()]
        for endpoint_id in targets:
            self._queue(endpoint_id, event, data)
        return len(targets)

    def _queue(self, endpoint_id: int, event: str, data: dict[str, Any]) -> WebhookDelivery:
        now = utcnow()
        payload = {"type": event, "timestamp": now.isoformat(), "data": data}
        delivery = WebhookDelivery(
            endpoint_id=endpoint_id, msg_id=f"msg_{uuid.uuid4().hex}", event=event,
            payload=payload, status=PENDING, attempts=0, created_at=now, updated_at=now,
        )  # fmt: skip
        with self.db.write() as session:
            session.add(delivery)
            session.flush()
            session.expunge(delivery)
        params = {"delivery_id": delivery.id}
        self.submit("webhook", params, self.settings.webhook_max_attempts)
        return delivery

    def prune(self, days: int) -> int:
        """Forget finished deliveries older than ``days`` (0: keep them); how many went."""
        if days <= 0:
            return 0
        old = utcnow() - timedelta(days=days)
        finished = WebhookDelivery.status.in_((DELIVERED, FAILED, SKIPPED))
        with self.db.write() as session:
            result = session.execute(
                delete(WebhookDelivery).where(finished, WebhookDelivery.updated_at < old)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # --- delivering -------------------------------------------------------------------

    def deliver(self, delivery_id: int, final: bool) -> str:
        """One attempt (the ``webhook`` job). Raises ``DeliveryFailed`` when a retry may
        help; ``final``: no attempt follows this one."""
        with self.db.read() as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None:
            raise NotFound("the delivery or its endpoint was deleted")
        if delivery.status in (DELIVERED, SKIPPED):
            return delivery.status  # a duplicate run of a finished delivery
        if not endpoint.enabled:
            self._record(delivery, SKIPPED, error="the endpoint is disabled")
            return SKIPPED
        return self._attempt(endpoint, delivery, final)

    def _attempt(self, endpoint: WebhookEndpoint, delivery: WebhookDelivery, final: bool) -> str:
        body = orjson.dumps(delivery.payload)
        moment = utcnow()
        headers = signed_headers(self.box.open(endpoint.secret_enc), delivery.msg_id, moment, body)
        try:
            posted = self.fetcher.post(endpoint.url, body, headers)
        except (FetchRefused, FetchFailed) as exc:
            self._failed(endpoint, delivery, final or isinstance(exc, FetchRefused), str(exc))
            raise
        if 200 <= posted.status < 300:
            self._record(delivery, DELIVERED, posted.status, posted.duration_ms)
            self._reset_failures(endpoint.id)
            return DELIVERED
        reason = f"the endpoint answered {posted.status}"
        self._failed(endpoint, delivery, final, reason, posted.status, posted.duration_ms)
        raise DeliveryFailed(reason)

    def _failed(
        self,
        endpoint: WebhookEndpoint,
        delivery: WebhookDelivery,
        final: bool,
        reason: str,
        code: int | None = None,
        duration_ms: int | None = None,
    ) -> None:
        self._record(delivery, FAILED if final else RETRYING, code, duration_ms, reason)
        self._count_failure(endpoint)

    def _record(
        self,
        delivery: WebhookDelivery,
        status: str,
        code: int | None = None,
        duration_ms: int | None = None,
        error: str | None = None,
    ) -> None:
        attempted = status != SKIPPED
        values: dict[str, Any] = {"status": status, "updated_at": utcnow(), "error": error}
        if attempted:
            values.update(
                attempts=WebhookDelivery.attempts + 1,
                response_code=code,
                duration_ms=duration_ms,
            )
        if error is not None:
            values["error"] = error[:255]
        with self.db.write() as session:
            session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**values)
            )

    def _reset_failures(self, endpoint_id: int) -> None:
        with self.db.write() as session:
            session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.consecutive_failures > 0)
                .values(consecutive_failures=0)
            )

    def _count_failure(self, endpoint: WebhookEndpoint) -> None:
        """One more failure in a row; at the limit the endpoint is disabled."""
        limit = self.settings.webhook_max_failures
        reason = f"disabled after {limit} failed deliveries in a row"
        table = WebhookEndpoint
        with self.db.write() as session:
            session.execute(
                update(table)
                .where(table.id == endpoint.id)
                .values(consecutive_failures=table.consecutive_failures + 1)
            )
            disabled = session.execute(
                update(table)
                .where(table.id == endpoint.id, table.enabled.is_(True))
                .where(table.consecutive_failures >= limit)
                .values(enabled=False, disabled_reason=reason, updated_at=utcnow())
            )
        if disabled.rowcount:  # type: ignore[attr-defined]
            self.forget(endpoint.owner_id)


def _manages(who: Principal, row: WebhookEndpoint) -> bool:
    if row.owner_id is None:
        return who.is_admin
    return row.owner_id == who.user_id
