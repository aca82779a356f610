"""``/account/notifications``: the account's Webhooks (register, choose events, the
delivery log, re-enable, delete) and Notifications (the mail address, the alerts), and
the card's "Email me when it is downloaded" toggle (``POST /account/alerts/file/<id>``).

Every POST checks the session's CSRF token; the rules are the service layer's.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.models import File
from pastefile.errors import PasteFileError
from pastefile.services.notifications import EVENTS, EndpointChanges
from pastefile.web.auth import check_csrf, current_principal, login_required, principal
from pastefile.web.context import services

bp = Blueprint("notifications", __name__)
SHOWN_ONCE = "webhook_secret_once"


@bp.get("/account/notifications")
@login_required
def page() -> str:
    who = principal()
    notifier = services().notifier
    hooks = notifier.webhooks.endpoints(who)
    logs = {h.id: notifier.webhooks.deliveries(who, h.id)[:10] for h in hooks}
    return render_template(
        "notifications.html",
        hooks=hooks,
        logs=logs,
        events=EVENTS,
        secret=session.pop(SHOWN_ONCE, None),
        email=notifier.alerts.address(who.user_id),
        alerts=notifier.alerts.subscriptions(who.user_id),
        is_admin=who.is_admin,
    )


def _back() -> BaseResponse:
    return redirect(url_for("notifications.page"), code=303)


@bp.post("/account/webhooks")
@login_required
def create() -> BaseResponse:
    check_csrf()
    events = [e for e in request.form.getlist("events") if e in EVENTS]
    try:
        _row, secret = services().notifier.webhooks.create(
            principal(),
            request.form.get("url", "").strip(),
            events,
            request.form.get("description", ""),
            site=request.form.get("site_wide") == "1",
        )
    except PasteFileError as exc:
        flash(exc.detail, "error")
    else:
        session[SHOWN_ONCE] = secret
        flash(_("Registered the webhook."), "ok")
    return _back()


@bp.post("/account/webhooks/<int:endpoint_id>/<any(enable, disable, delete, ping):action>")
@login_required
def change(endpoint_id: int, action: str) -> BaseResponse:
    check_csrf()
    webhooks = services().notifier.webhooks
    try:
        if action == "delete":
            webhooks.delete(principal(), endpoint_id)
        elif action == "ping":
            webhooks.ping(principal(), endpoint_id)
        else:
            webhooks.update(principal(), endpoint_id, EndpointChanges(enabled=action == "enable"))
    except PasteFileError as exc:
        flash(exc.detail, "error")
    else:
        flash(_("Done."), "ok")
    return _back()


@bp.post("/account/notifications/address")
@login_required
def address() -> BaseResponse:
    check_csrf()
    try:
        services().notifier.alerts.set_address(
            principal().user_id, request.form.get("email", "").strip() or None
        )
    except PasteFileError as exc:
        flash(exc.detail, "error")
    else:
        flash(_("Saved."), "ok")
    return _back()


@bp.post("/account/alerts/<any(file, collection, request):subject_type>/<subject_id>")
@login_required
def toggle_alert(subject_type: str, subject_id: str) -> BaseResponse:
    """Turn "Email me when it is downloaded" on or off; back to where it was asked."""
    check_csrf()
    alerts = services().notifier.alerts
    try:
        if request.form.get("on") == "1":
            alerts.subscribe(principal(), subject_type, subject_id)
        else:
            alerts.unsubscribe(principal(), subject_type, subject_id)
    except PasteFileError as exc:
        flash(exc.detail, "error")
    target = url_for("preview.preview", ident=subject_id) if subject_type == "file" else None
    return redirect(target or url_for("notifications.page"), code=303)


@bp.app_context_processor
def card_notifications() -> dict[str, Any]:
    def owner_panel(file: File) -> dict[str, Any] | None:
        """The owner's download history and alert state, for the card; None for others."""
        who = current_principal()
        if who is None or file.owner_id != who.user_id:
            return None
        notifier = services().notifier
        return {
            "history": notifier.history.history(file.id),
            "alert": notifier.alerts.is_subscribed(who.user_id, "file", file.public_id),
        }

    return {"owner_panel": owner_panel}
