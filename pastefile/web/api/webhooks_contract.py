"""The OpenAPI paths and schemas of the notification routes (api/webhooks.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from pastefile.web.api.openapi_parts import (
    BEARER,
    ID_PARAM,
    OPTIONAL_AUTH,
    REF,
    as_json,
    int_id_param,
    ok,
    responses,
)
from pastefile.web.api.webhook_schemas import (
    AlertOut,
    DeliveryOut,
    DownloadHistoryOut,
    NotificationsOut,
    NotificationsPatch,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)

MODELS: list[type[BaseModel]] = [
    AlertOut, DeliveryOut, DownloadHistoryOut, NotificationsOut, NotificationsPatch, WebhookCreate,
    WebhookCreated, WebhookOut, WebhookPatch,
]  # fmt: skip
_ENDPOINT = [int_id_param("endpoint_id")]
_SUBJECT = [
    {
        "name": "subject_type",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["file", "collection", "request"]},
    },
    {"name": "subject_id", "in": "path", "required": True, "schema": {"type": "string"}},
]


def webhooks_schemas() -> dict[str, Any]:
    _, defs = models_json_schema([(m, "serialization") for m in MODELS], ref_template=REF)
    return dict(defs["$defs"])


def _op(
    op_id: str, summary: str, success: dict[int, Any], extra: tuple[int, ...] = (), **more: Any
) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "security": more.pop("security", BEARER),
        "responses": responses(success, extra),
        **more,
    }


def _webhook_paths() -> dict[str, Any]:
    return {
        "/api/v1/webhooks": {
            "get": _op("listWebhooks", "Your webhooks (administrators: the site-wide ones too)",
                       {200: ok("webhooks", as_json(WebhookOut, True))}),
            "post": _op("createWebhook", "Register an endpoint; the secret is shown once",
                        {201: ok("created", as_json(WebhookCreated))}, (415,),
                        requestBody={"required": True, "content": as_json(WebhookCreate)}),
        },
        "/api/v1/webhooks/{endpoint_id}": {
            "parameters": _ENDPOINT,
            "get": _op("getWebhook", "One webhook (never its secret)",
                       {200: ok("the webhook", as_json(WebhookOut))}),
            "patch": _op("updateWebhook", "Change the URL, events, description; re-enable",
                         {200: ok("changed", as_json(WebhookOut))}, (415,),
                         requestBody={"required": True, "content": as_json(WebhookPatch)}),
            "delete": _op("deleteWebhook", "Remove the endpoint and its log",
                          {204: ok("deleted")}),
        },
        "/api/v1/webhooks/{endpoint_id}/deliveries": {
            "parameters": _ENDPOINT,
            "get": _op("listWebhookDeliveries", "The delivery log, newest first",
                       {200: ok("deliveries", as_json(DeliveryOut, True))}),
        },
        "/api/v1/webhooks/{endpoint_id}/ping": {
            "parameters": _ENDPOINT,
            "post": _op("pingWebhook", "Send a webhook.ping message",
                        {202: ok("queued", as_json(DeliveryOut))}),
        },
    }  # fmt: skip


def _notification_paths() -> dict[str, Any]:
    return {
        "/api/v1/notifications": {
            "get": _op("getNotifications", "Your mail address and download alerts",
                       {200: ok("settings", as_json(NotificationsOut))}),
            "patch": _op("updateNotifications", "Set or clear the mail address",
                         {200: ok("settings", as_json(NotificationsOut))}, (415,),
                         requestBody={"required": True, "content": as_json(NotificationsPatch)}),
        },
        "/api/v1/notifications/alerts/{subject_type}/{subject_id}": {
            "parameters": _SUBJECT,
            "put": _op("setDownloadAlert", "Email me when this is downloaded",
                       {200: ok("subscribed", as_json(AlertOut))}),
            "delete": _op("deleteDownloadAlert", "Stop those mails", {204: ok("stopped")}),
        },
        "/api/v1/files/{ident}/downloads": {
            "parameters": [ID_PARAM],
            "get": _op("getFileDownloads", "Downloads per day and country (owner)",
                       {200: ok("history", as_json(DownloadHistoryOut))}, (410, 451),
                       security=OPTIONAL_AUTH),
        },
    }  # fmt: skip


def webhooks_paths() -> dict[str, Any]:
    return {**_webhook_paths(), **_notification_paths()}
