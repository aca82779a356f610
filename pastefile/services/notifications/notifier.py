"""The event sink: ``Notifier.emit(event_type, owner_id, data)``.

The owners of each event call it where the event happens (uploads, the read gate's
download count, deletes and the expiry sweep; collections and requests likewise). It
decides from cached per-owner settings, so an event nobody listens to costs no query:
each owner's (and the site's) wanted events and alerts are cached for ``CONFIG_TTL``
and dropped whenever they change. Emitting never fails the caller: a broken sink is
logged, the upload or download goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pastefile.cache import Cache
from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.services.notifications.alerts import DownloadAlerts
from pastefile.services.notifications.events import ALERTING, EVENTS, alert_key, subject_of
from pastefile.services.notifications.history import HistoryRecorder
from pastefile.services.notifications.webhooks import WebhookService

if TYPE_CHECKING:
    from pastefile.services.uploads import UploadResult

log = logging.getLogger(__name__)
CONFIG_TTL = 60.0


def file_data(file: File) -> dict[str, Any]:
    """What a file event says about the file (never its password or token)."""
    return {
        "id": file.public_id,
        "filename": file.filename,
        "size": file.size,
        "mimetype": file.mimetype,
        "sha256": file.sha256,
        "visibility": file.visibility,
        "owner_id": file.owner_id,
    }


class Notifier:
    def __init__(
        self,
        cache: Cache,
        webhooks: WebhookService,
        alerts: DownloadAlerts,
        history: HistoryRecorder,
    ) -> None:
        self.cache = cache
        self.webhooks = webhooks
        self.alerts = alerts
        self.history = history

    # --- the one entry point --------------------------------------------------------

    def emit(self, event_type: str, owner_id: int | None, data: dict[str, Any]) -> None:
        """Tell the subscribers of ``event_type`` about it; ``data["id"]`` names the
        subject (a file's, collection's or request's public id)."""
        if event_type not in EVENTS:
            raise ValueError(f"unknown event {event_type!r}")
        try:
            self._emit(event_type, owner_id, data)
        except Exception:
            log.exception("could not notify %s for owner %s", event_type, owner_id)

    def _emit(self, event_type: str, owner_id: int | None, data: dict[str, Any]) -> None:
        site = self._settings_of(None)
        mine = self._settings_of(owner_id) if owner_id is not None else {}
        if event_type in site.get("events", ()) or event_type in mine.get("events", ()):
            self.webhooks.enqueue(event_type, owner_id, data)
        subject = subject_of(event_type, data)
        if owner_id is None or subject is None or event_type not in ALERTING:
            return
        if alert_key(*subject) in mine.get("alerts", ()):
            self.alerts.on_event(owner_id, subject, utcnow())

    # --- what the owners of file events call ----------------------------------------

    def uploaded(self, result: UploadResult) -> None:
        if result.created:
            self.emit("file.uploaded", result.file.owner_id, file_data(result.file))

    def downloaded(self, file: File, client: str) -> None:
        if file.owner_id is not None:
            self.history.record(file.id, client)
        self.emit("file.downloaded", file.owner_id, file_data(file))

    def buried(self, file: File, reason: str) -> None:
        event = "file.expired" if reason == "expired" else "file.deleted"
        self.emit(event, file.owner_id, {**file_data(file), "reason": reason})

    # --- cached settings ------------------------------------------------------------

    def _key(self, owner_id: int | None) -> str:
        return self.cache.key("notify", "site" if owner_id is None else str(owner_id))

    def _settings_of(self, owner_id: int | None) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            events = self.webhooks.wanted_events(owner_id)
            alerts = self.alerts.keys_of(owner_id) if owner_id is not None else []
            return {"events": events, "alerts": alerts}

        found = self.cache.get_or_load(self._key(owner_id), load, CONFIG_TTL, CONFIG_TTL)
        return found or {}

    def forget(self, owner_id: int | None) -> None:
        """Drop the cached settings of an owner (None: the site) after a change."""
        self.cache.invalidate([self._key(owner_id)])
