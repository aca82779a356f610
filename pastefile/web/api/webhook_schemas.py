"""Bodies of the notification routes (/api/v1/webhooks, /api/v1/notifications,
/api/v1/files/<id>/downloads), as pydantic models; the OpenAPI document uses them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from pastefile.services.notifications.events import EVENTS
from pastefile.web.api.schemas import Strict


def _known_event(name: str) -> str:
    if name not in EVENTS:
        raise ValueError(f"unknown event; known: {', '.join(EVENTS)}")
    return name


# The events the service layer defines (services/notifications/events.py), nowhere else.
Event = Annotated[
    str, AfterValidator(_known_event), WithJsonSchema({"type": "string", "enum": list(EVENTS)})
]


class WebhookCreate(Strict):
    url: str = Field(max_length=2000, pattern=r"^[hH][tT][tT][pP][sS]?://", description="http(s)")
    events: list[Event] = Field(min_length=1, max_length=len(EVENTS))
    description: str = Field("", max_length=200)
    site_wide: bool = Field(False, description="administrators: every user's events")


class WebhookPatch(Strict):
    url: str | SkipJsonSchema[None] = Field(
        None, max_length=2000, pattern=r"^[hH][tT][tT][pP][sS]?://"
    )
    events: list[Event] | SkipJsonSchema[None] = Field(None, min_length=1, max_length=len(EVENTS))
    description: str | SkipJsonSchema[None] = Field(None, max_length=200)
    enabled: bool | SkipJsonSchema[None] = Field(None, description="true re-enables a disabled one")


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    site_wide: bool
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_…: the signing secret, shown only this once")


class DeliveryOut(BaseModel):
    id: int
    msg_id: str = Field(description="the webhook-id header")
    event: str
    status: str = Field(description="pending, retrying, delivered, failed or skipped")
    attempts: int
    response_code: int | None
    duration_ms: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class AlertOut(BaseModel):
    subject_type: str
    subject_id: str
    label: str
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    pending: int


class NotificationsOut(BaseModel):
    email: str | None
    alerts: list[AlertOut]


class NotificationsPatch(Strict):
    email: str | None = Field(description="where mails go; null stops them", max_length=254)


class HistoryDay(BaseModel):
    day: str = Field(description="YYYY-MM-DD (UTC)")
    country: str | None = Field(description="ISO 3166 code; null without GeoIP")
    count: int


class DownloadHistoryOut(BaseModel):
    id: str
    total: int
    days: list[HistoryDay]
