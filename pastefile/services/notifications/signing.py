"""Standard Webhooks headers (https://www.standardwebhooks.com), signed by the
``standardwebhooks`` library: ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook


def signed_headers(secret: str, msg_id: str, moment: datetime, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
        "Content-Type": "application/json",
        "User-Agent": "pastefile-webhooks/1",
    }
