"""The scaled-out event bus: Redis pub/sub carries events across processes.

An event raised in a Celery worker or another gunicorn worker reaches every
web process; each process has one listener thread that hands what it hears
to an embedded ``LocalBus`` for its own subscribers.
"""

from __future__ import annotations

import logging
import threading

import orjson

from pastefile.events.base import Event
from pastefile.events.local import LocalBus, Subscription

log = logging.getLogger(__name__)


class RedisBus:
    """Publishes to a Redis channel; delivers what it hears through a ``LocalBus``."""

    def __init__(self, url: str, prefix: str = "pf") -> None:
        import redis

        # Deployments that share a Redis hear only their own events, as their cache and
        # rate-limit keys are their own (PASTEFILE_CACHE_PREFIX).
        self.channel = f"{prefix}:events"
        self.local = LocalBus()
        self.client = redis.Redis.from_url(url)
        self._listener: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def publish(self, event: Event) -> None:
        try:
            self.client.publish(self.channel, orjson.dumps(event))
        except Exception:  # events are best effort; the database stays the truth
            log.warning("could not publish an event to Redis", exc_info=True)

    def subscribe(self, user_id: int | None, sees_all: bool = False) -> Subscription:
        self._ensure_listener()
        return self.local.subscribe(user_id, sees_all)

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(target=self._listen, name="events", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(self.channel)
        try:
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message and isinstance(message.get("data"), bytes):
                    self.local.deliver(orjson.loads(message["data"]))
        except Exception:
            log.warning("the Redis event listener stopped", exc_info=True)
        finally:
            pubsub.close()

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=3)  # it checks the flag at least once a second
        self.client.close()
