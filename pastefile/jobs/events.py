"""Job and file events for live updates (the WebSocket at ``/api/v1/events``).

``LocalBus`` fans events out to subscribers in this process. ``RedisBus``
publishes over Redis pub/sub, so an event raised in a Celery worker or in
another gunicorn worker reaches every web process; each process has one
listener thread that feeds its local subscribers.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import orjson

log = logging.getLogger(__name__)

CHANNEL = "pastefile:events"
Event = dict[str, Any]


class Subscription:
    """Events for one viewer: its own, or all of them for an operator."""

    def __init__(self, bus: LocalBus, user_id: int | None, sees_all: bool) -> None:
        self.bus = bus
        self.user_id = user_id
        self.sees_all = sees_all
        self.events: queue.Queue[Event] = queue.Queue(maxsize=1000)

    def wants(self, event: Event) -> bool:
        return self.sees_all or (self.user_id is not None and event.get("owner_id") == self.user_id)

    def offer(self, event: Event) -> None:
        try:
            self.events.put_nowait(event)
        except queue.Full:  # a stalled client loses events, never the publisher's time
            log.warning("event queue full for user %s; dropping", self.user_id)

    def get(self, timeout: float) -> Event | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.bus.unsubscribe(self)


class LocalBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()

    def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        with self._lock:
            targets = [s for s in self._subscribers if s.wants(event)]
        for subscription in targets:
            subscription.offer(event)

    def subscribe(self, user_id: int | None, sees_all: bool = False) -> Subscription:
        subscription = Subscription(self, user_id, sees_all)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        return None


class RedisBus(LocalBus):
    """Crosses processes: publish to a Redis channel, listen in one thread."""

    def __init__(self, url: str) -> None:
        import redis

        super().__init__()
        self.client = redis.Redis.from_url(url)
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()

    def publish(self, event: Event) -> None:
        try:
            self.client.publish(CHANNEL, orjson.dumps(event))
        except Exception:  # events are best effort; the database stays the truth
            log.warning("could not publish an event to Redis", exc_info=True)

    def subscribe(self, user_id: int | None, sees_all: bool = False) -> Subscription:
        self._ensure_listener()
        return super().subscribe(user_id, sees_all)

    def _ensure_listener(self) -> None:
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(target=self._listen, name="events", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        pubsub.subscribe(CHANNEL)
        try:
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message and isinstance(message.get("data"), bytes):
                    self.deliver(orjson.loads(message["data"]))
        except Exception:
            log.warning("the Redis event listener stopped", exc_info=True)
        finally:
            pubsub.close()

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=3)  # it checks the flag at least once a second
        self.client.close()


def make_bus(redis_url: str) -> LocalBus:
    return RedisBus(redis_url) if redis_url else LocalBus()
