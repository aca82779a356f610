"""The rate limiter interface: budgets such as "5/minute" per key, shared by
every adapter (the web app, the Thrift server) that runs in a process."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

from pastefile.errors import TooManyAttempts


@dataclass(frozen=True)
class Verdict:
    """The state of one budget after a hit or a peek."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the window starts over


class RateLimiter(Protocol):
    def hit(self, rate: str, *keys: str) -> Verdict:
        """Spend one unit of ``rate`` (e.g. ``"5/minute"``) for ``keys``, in one atomic step.

        ``allowed`` is False when this hit went over the budget.
        """

    def peek(self, rate: str, *keys: str) -> Verdict:
        """The budget's state without spending any of it."""

    def refund(self, rate: str, *keys: str) -> None:
        """Give back one unit spent by ``hit`` (an attempt that turned out right)."""

    def clear(self, rate: str, *keys: str) -> None:
        """Start the budget over (after a successful login, say)."""


class RateLimited(TooManyAttempts):
    """A budget is spent: a 429 that says when to come back, and the budget's state."""

    def __init__(self, detail: str, verdict: Verdict) -> None:
        super().__init__(detail, retry_after=max(1, math.ceil(verdict.reset_at - time.time())))
        self.verdict = verdict


def spend(limiter: RateLimiter, rate: str, *keys: str, refusal: str) -> Verdict:
    """Spend one unit of ``rate`` for ``keys``, or refuse with ``RateLimited``."""
    verdict = limiter.hit(rate, *keys)
    if not verdict.allowed:
        raise RateLimited(refusal, verdict)
    return verdict
