"""The event bus interface: job and file events for live updates.

Events feed the WebSocket at ``/api/v1/events``. They are best effort: the
database stays the truth, so a lost event costs a refresh, never data.
"""

from __future__ import annotations

from typing import Any, Protocol

Event = dict[str, Any]


class Subscriber(Protocol):
    """What a viewer holds: its events, one at a time."""

    def get(self, timeout: float) -> Event | None: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    def publish(self, event: Event) -> None:
        """Send an event to every subscriber that wants it, in every process the bus reaches."""

    def subscribe(self, user_id: int | None, sees_all: bool = False) -> Subscriber:
        """Events of one user, or all of them for an operator."""

    def close(self) -> None: ...
