"""The RPC client's retry decorator waits between attempts and gives up."""

from __future__ import annotations

import time

import pytest

from pastefile.rpc.client import (
    ConnectFailed,
    RpcConnectionError,
    retry,
)


def test_the_retry_decorator_waits_and_gives_up():
    calls: list[float] = []

    @retry(times=2, delay=0.05, on=(ConnectFailed,))
    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectFailed("refused")
        return "ok"

    assert flaky() == "ok"
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.05
    assert calls[2] - calls[1] >= 0.1  # the interval grows

    @retry(times=5, delay=0.01, on=(RpcConnectionError,))
    def broken() -> None:
        calls.append(0)
        raise ValueError("not a connection error")

    calls.clear()
    with pytest.raises(ValueError):
        broken()
    assert len(calls) == 1
