"""The notification job kinds: ``webhook`` (one delivery attempt; the job system retries
it with backoff), ``notify_mail`` (a subject's first download) and ``download_digest``
(the periodic digest of later downloads; ``params["now"]`` drives its clock in tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pastefile.db.types import utcnow
from pastefile.jobs.context import JobContext


def webhook(ctx: JobContext) -> dict[str, Any]:
    final = ctx.job.attempts >= ctx.job.max_attempts
    delivery_id = int(ctx.params["delivery_id"])
    status = ctx.services.notifier.webhooks.deliver(delivery_id, final)
    return {"delivery_id": delivery_id, "status": status}


def notify_mail(ctx: JobContext) -> dict[str, Any]:
    sent = ctx.services.notifier.alerts.send_first(int(ctx.params["alert_id"]))
    return {"sent": sent}


def download_digest(ctx: JobContext) -> dict[str, Any]:
    now = ctx.params.get("now")
    moment = datetime.fromisoformat(now) if isinstance(now, str) else utcnow()
    return {"mails": ctx.services.notifier.alerts.send_digests(moment)}
