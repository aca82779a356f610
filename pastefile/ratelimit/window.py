"""Fixed-window budgets over a storage of the ``limits`` library.

The storage decides where counts live: a SQLite file shared by the machine, memory, or
Redis, shared by every worker and node. ``hit`` is the library's atomic
increment-and-compare, so concurrent attempts can never all slip under a limit.
When the store is down, limits are off (logged) rather than the service.
"""

from __future__ import annotations

import logging
import time

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from pastefile.ratelimit.base import Verdict

log = logging.getLogger(__name__)


class WindowLimiter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(storage)

    @classmethod
    def from_uri(cls, uri: str, key_prefix: str = "LIMITS") -> WindowLimiter:
        storage = storage_from_string(uri, key_prefix=key_prefix)
        if not isinstance(storage, Storage):
            raise ValueError(f"{uri!r} names an asyncio storage; use a synchronous one")
        return cls(storage)

    def hit(self, rate: str, *keys: str) -> Verdict:
        item = parse(rate)
        try:
            return self._verdict(item, self.strategy.hit(item, *keys), keys)
        except Exception:
            return _unlimited(item, "hit")

    def peek(self, rate: str, *keys: str) -> Verdict:
        item = parse(rate)
        try:
            return self._verdict(item, self.strategy.test(item, *keys), keys)
        except Exception:
            return _unlimited(item, "peek")

    def refund(self, rate: str, *keys: str) -> None:
        try:
            self.strategy.hit(parse(rate), *keys, cost=-1)
        except Exception:
            log.warning("rate limits: a refund was lost (the store is down)", exc_info=True)

    def clear(self, rate: str, *keys: str) -> None:
        try:
            self.strategy.clear(parse(rate), *keys)
        except Exception:
            log.warning("rate limits: a clear was lost (the store is down)", exc_info=True)

    def _verdict(self, item: RateLimitItem, allowed: bool, keys: tuple[str, ...]) -> Verdict:
        stats = self.strategy.get_window_stats(item, *keys)
        return Verdict(allowed, item.amount, max(stats.remaining, 0), stats.reset_time)


def _unlimited(item: RateLimitItem, what: str) -> Verdict:
    """A store that is down must not take the service down with it: the request goes
    through, and the log says that limits are off for now."""
    log.warning("rate limits: a %s went unchecked (the store is down)", what, exc_info=True)
    return Verdict(True, item.amount, item.amount, time.time() + item.get_expiry())
