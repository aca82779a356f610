"""Retry backoff: exponential, jittered, capped."""

from __future__ import annotations

from pastefile.jobs.transitions import backoff_seconds


def test_backoff_grows_exponentially_with_jitter() -> None:
    delays = [backoff_seconds(n, base=1.0, cap=60.0) for n in (1, 2, 3, 4, 10)]
    assert 0.5 <= delays[0] <= 1.0
    assert 1.0 <= delays[1] <= 2.0
    assert 2.0 <= delays[2] <= 4.0
    assert 4.0 <= delays[3] <= 8.0
    assert 30.0 <= delays[4] <= 60.0
