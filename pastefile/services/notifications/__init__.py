"""Notifications: the event sink (``Notifier.emit``), webhooks (Standard Webhooks),
"email me when it is downloaded" alerts and the owner's download history."""

from pastefile.services.notifications.alerts import DownloadAlerts
from pastefile.services.notifications.events import EVENTS
from pastefile.services.notifications.history import GeoIP, HistoryRecorder
from pastefile.services.notifications.notifier import Notifier, file_data
from pastefile.services.notifications.secrets import SecretBox
from pastefile.services.notifications.webhooks import EndpointChanges, WebhookService

__all__ = [
    "EVENTS",
    "DownloadAlerts",
    "EndpointChanges",
    "GeoIP",
    "HistoryRecorder",
    "Notifier",
    "SecretBox",
    "WebhookService",
    "file_data",
]
