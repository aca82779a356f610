"""The embedded event bus: fans events out to subscribers in this process."""

from __future__ import annotations

import logging
import queue
import threading

from pastefile.events.base import Event

log = logging.getLogger(__name__)


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
