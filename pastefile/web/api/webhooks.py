"""``/api/v1/webhooks`` (endpoints, their delivery log, a test ping),
``/api/v1/notifications`` (the mail address and "email me when it is downloaded"
alerts) and ``/api/v1/files/<id>/downloads`` (the owner's download history)."""

from __future__ import annotations

from flask import Response

from pastefile.db.notifications import DownloadAlert, WebhookDelivery, WebhookEndpoint
from pastefile.errors import Unauthorized
from pastefile.services.notifications import EndpointChanges
from pastefile.web.api.blueprints import api_blueprint
from pastefile.web.api.common import json_body, no_content, respond, row_id
from pastefile.web.api.webhook_schemas import (
    AlertOut,
    DeliveryOut,
    DownloadHistoryOut,
    HistoryDay,
    NotificationsOut,
    NotificationsPatch,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)
from pastefile.web.auth import caller, principal, require_scope
from pastefile.web.context import base_url, services

bp = api_blueprint("webhooks", __name__)


def webhook_out(
    row: WebhookEndpoint, model: type[WebhookOut] = WebhookOut, **extra: object
) -> WebhookOut:
    return model(
        id=row.id, url=row.url, events=row.events.split(), description=row.description,
        site_wide=row.owner_id is None, enabled=row.enabled, disabled_reason=row.disabled_reason,
        consecutive_failures=row.consecutive_failures, created_at=row.created_at, **extra,
    )  # fmt: skip


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id, msg_id=row.msg_id, event=row.event, status=row.status, attempts=row.attempts,
        response_code=row.response_code, duration_ms=row.duration_ms, error=row.error,
        created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


def alert_out(row: DownloadAlert) -> AlertOut:
    return AlertOut(
        subject_type=row.subject_type, subject_id=row.subject_id, label=row.label,
        first_sent_at=row.first_sent_at, last_sent_at=row.last_sent_at, pending=row.pending,
    )  # fmt: skip


# --- webhooks ------------------------------------------------------------------------


@bp.get("/webhooks")
@require_scope("read")
def list_webhooks() -> Response:
    rows = services().notifier.webhooks.endpoints(principal())
    return respond([webhook_out(row) for row in rows])


@bp.post("/webhooks")
@require_scope("read")
def create_webhook() -> Response:
    wanted = json_body(WebhookCreate)
    row, secret = services().notifier.webhooks.create(
        principal(), wanted.url, list(wanted.events), wanted.description, wanted.site_wide
    )
    response = respond(webhook_out(row, WebhookCreated, secret=secret), 201)
    response.headers["Location"] = f"{base_url()}/api/v1/webhooks/{row.id}"
    return response


@bp.get("/webhooks/<int:endpoint_id>")
@require_scope("read")
def get_webhook(endpoint_id: int) -> Response:
    return respond(webhook_out(services().notifier.webhooks.get(principal(), row_id(endpoint_id))))


@bp.patch("/webhooks/<int:endpoint_id>")
@require_scope("read")
def update_webhook(endpoint_id: int) -> Response:
    patch = json_body(WebhookPatch)
    changes = EndpointChanges(
        url=patch.url,
        events=list(patch.events) if patch.events is not None else None,
        description=patch.description,
        enabled=patch.enabled,
    )
    row = services().notifier.webhooks.update(principal(), row_id(endpoint_id), changes)
    return respond(webhook_out(row))


@bp.delete("/webhooks/<int:endpoint_id>")
@require_scope("read")
def delete_webhook(endpoint_id: int) -> Response:
    services().notifier.webhooks.delete(principal(), row_id(endpoint_id))
    return no_content()


@bp.get("/webhooks/<int:endpoint_id>/deliveries")
@require_scope("read")
def webhook_deliveries(endpoint_id: int) -> Response:
    rows = services().notifier.webhooks.deliveries(principal(), row_id(endpoint_id))
    return respond([delivery_out(row) for row in rows])


@bp.post("/webhooks/<int:endpoint_id>/ping")
@require_scope("read")
def ping_webhook(endpoint_id: int) -> Response:
    row = services().notifier.webhooks.ping(principal(), row_id(endpoint_id))
    return respond(delivery_out(row), 202)


# --- mail alerts ---------------------------------------------------------------------


def _notifications(user_id: int) -> Response:
    alerts = services().notifier.alerts
    body = NotificationsOut(
        email=alerts.address(user_id),
        alerts=[alert_out(row) for row in alerts.subscriptions(user_id)],
    )
    return respond(body)


@bp.get("/notifications")
@require_scope("read")
def get_notifications() -> Response:
    return _notifications(principal().user_id)


@bp.patch("/notifications")
@require_scope("read")
def update_notifications() -> Response:
    patch = json_body(NotificationsPatch)
    services().notifier.alerts.set_address(principal().user_id, patch.email)
    return _notifications(principal().user_id)


@bp.put("/notifications/alerts/<any(file, collection, request):subject_type>/<subject_id>")
@require_scope("read")
def subscribe(subject_type: str, subject_id: str) -> Response:
    row = services().notifier.alerts.subscribe(principal(), subject_type, subject_id)
    return respond(alert_out(row))


@bp.delete("/notifications/alerts/<any(file, collection, request):subject_type>/<subject_id>")
@require_scope("read")
def unsubscribe(subject_type: str, subject_id: str) -> Response:
    services().notifier.alerts.unsubscribe(principal(), subject_type, subject_id)
    return no_content()


# --- download history ----------------------------------------------------------------


@bp.get("/files/<ident>/downloads")
def file_downloads(ident: str) -> Response:
    """The owner's (or an administrator's, or the X-Token holder's) download history."""
    who = caller()
    file = services().access.visible(ident, who)
    if who.principal is None and not who.manage_token:
        raise Unauthorized("send 'Authorization: Bearer <token>' or the file's X-Token")
    services().access.check_manage(file, who, "read")
    days = services().notifier.history.history(file.id)
    body = DownloadHistoryOut(
        id=file.public_id,
        total=sum(d["count"] for d in days),
        days=[HistoryDay.model_validate(d) for d in days],
    )
    return respond(body)
