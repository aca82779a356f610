"""Fixed-window budgets over a storage of the ``limits`` library.

The storage decides where counts live: in this process (``memory://``) or on
Redis, shared by every worker and node. ``hit`` is the library's atomic
increment-and-compare, so concurrent attempts can never all slip under a limit.
"""

from __future__ import annotations

import logging

from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from pastefile.ratelimit.base import Verdict

log = logging.getLogger(__name__)


class WindowLimiter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(storage)

    @classmethod
    def from_uri(cls, uri: str) -> WindowLimiter:
        storage = storage_from_string(uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"{uri!r} names an asyncio storage; use a synchronous one")
        return cls(storage)

    def hit(self, rate: str, *keys: str) -> Verdict:
        item = parse(rate)
        allowed = self.strategy.hit(item, *keys)
        return self._verdict(rate, allowed, keys)

    def peek(self, rate: str, *keys: str) -> Verdict:
        item = parse(rate)
        return self._verdict(rate, self.strategy.test(item, *keys), keys)

    def refund(self, rate: str, *keys: str) -> None:
        self.strategy.hit(parse(rate), *keys, cost=-1)

    def clear(self, rate: str, *keys: str) -> None:
        self.strategy.clear(parse(rate), *keys)

    def _verdict(self, rate: str, allowed: bool, keys: tuple[str, ...]) -> Verdict:
        item = parse(rate)
        stats = self.strategy.get_window_stats(item, *keys)
        return Verdict(allowed, item.amount, max(stats.remaining, 0), stats.reset_time)
