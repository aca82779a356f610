"""Every event bus delivers an owner's events to that owner and operators, and to no one else."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from pastefile.config import Settings
from pastefile.events import EventBus, LocalBus, event_bus_from_settings
from pastefile.events.redis import RedisBus
from tests.support.cache import REDIS_URL, need_redis

BUSES = ["local", "redis"]


@pytest.fixture(params=BUSES)
def bus(request: pytest.FixtureRequest) -> Iterator[EventBus]:
    made: EventBus
    if request.param == "redis":
        need_redis()
        # Its own channel: other test runs on this Redis publish too.
        made = RedisBus(REDIS_URL, f"test-{uuid.uuid4().hex[:8]}")
    else:
        made = LocalBus()
    yield made
    made.close()


def _next(subscription: Any, timeout: float = 3.0) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = subscription.get(timeout=0.1)
        if event is not None:
            return event  # type: ignore[no-any-return]
    return None


def _settle() -> None:
    time.sleep(0.3)  # a Redis listener subscribes in its own thread


def test_an_owner_gets_their_own_events(bus: EventBus) -> None:
    mine = bus.subscribe(7)
    _settle()
    bus.publish({"type": "job", "id": 1, "owner_id": 7})
    assert _next(mine) == {"type": "job", "id": 1, "owner_id": 7}
    mine.close()


def test_nobody_gets_someone_elses_events(bus: EventBus) -> None:
    other = bus.subscribe(8)
    _settle()
    bus.publish({"type": "job", "id": 2, "owner_id": 7})
    assert _next(other, timeout=1.0) is None
    other.close()


def test_an_operator_sees_every_event(bus: EventBus) -> None:
    operator = bus.subscribe(1, sees_all=True)
    _settle()
    bus.publish({"type": "file", "id": "abc", "owner_id": 7})
    bus.publish({"type": "file", "id": "def", "owner_id": None})
    received = [_next(operator), _next(operator)]
    assert [e["id"] for e in received if e] == ["abc", "def"]
    operator.close()


def test_a_closed_subscription_gets_nothing_more(bus: EventBus) -> None:
    gone = bus.subscribe(7)
    _settle()
    gone.close()
    bus.publish({"type": "job", "id": 3, "owner_id": 7})
    assert gone.get(timeout=0.5) is None


def test_the_settings_choose_the_bus(tmp_path: Any) -> None:
    plain = Settings(_env_file=None, data_dir=tmp_path, redis_url="")  # type: ignore[call-arg]
    assert isinstance(event_bus_from_settings(plain), LocalBus)
    shared = Settings(_env_file=None, data_dir=tmp_path, redis_url=REDIS_URL)  # type: ignore[call-arg]
    chosen = event_bus_from_settings(shared)
    assert isinstance(chosen, RedisBus)
    chosen.close()


def test_deployments_sharing_a_redis_hear_only_their_own_events() -> None:
    need_redis()
    ours, theirs = RedisBus(REDIS_URL, "ours-" + uuid.uuid4().hex[:8]), RedisBus(REDIS_URL, "x")
    try:
        operator = ours.subscribe(1, sees_all=True)
        _settle()
        theirs.publish({"type": "file", "id": "elsewhere", "owner_id": None})
        ours.publish({"type": "file", "id": "here", "owner_id": None})
        assert _next(operator) == {"type": "file", "id": "here", "owner_id": None}
        assert _next(operator, timeout=0.5) is None
    finally:
        ours.close()
        theirs.close()
