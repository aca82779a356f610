"""The event bus: in-process (embedded) or Redis pub/sub (scaled out)."""

from __future__ import annotations

from pastefile.config import Settings
from pastefile.events.base import Event, EventBus, Subscriber
from pastefile.events.local import LocalBus

__all__ = ["Event", "EventBus", "LocalBus", "Subscriber", "event_bus_from_settings"]


def event_bus_from_settings(settings: Settings) -> EventBus:
    """Redis pub/sub when ``PASTEFILE_REDIS_URL`` is set, else this process alone."""
    if settings.redis_url:
        from pastefile.events.redis import RedisBus

        return RedisBus(settings.redis_url, settings.cache_prefix)
    return LocalBus()
