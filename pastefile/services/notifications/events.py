"""The events a user or an administrator can subscribe to, and what each is about."""

from __future__ import annotations

from typing import Any

EVENTS = (
    "file.uploaded",
    "file.downloaded",
    "collection.downloaded",
    "request.received",
    "file.expired",
    "file.deleted",
)
# A ping from the account page or the API: delivered, never subscribed to.
PING = "webhook.ping"
# Events that mail a subscriber ("email me when it is downloaded").
ALERTING = frozenset({"file.downloaded", "collection.downloaded", "request.received"})
SUBJECT_TYPES = ("file", "collection", "request")


def subject_of(event_type: str, data: dict[str, Any]) -> tuple[str, str] | None:
    """What an event is about, as (subject type, public id): ``data["id"]`` of its kind."""
    kind = event_type.split(".", 1)[0]
    ident = data.get("id")
    if kind not in SUBJECT_TYPES or not isinstance(ident, str):
        return None
    return kind, ident


def alert_key(subject_type: str, subject_id: str) -> str:
    return f"{subject_type}:{subject_id}"
