"""Bound the number of distinct SQL texts that lists of values make.

SQLite compiles every distinct SQL text once per connection and keeps up to 128 of them in
each pooled connection's statement cache: an ``IN (?, ?, …)`` of each length from 1 to 500
is a new one, of up to ~100 KB, so a worker whose batches vary in length kept growing by
megabytes a minute until every cache was full.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def padded(values: Sequence[T]) -> list[T]:
    """``values`` with its last one repeated up to the next power of two (at least 8): an
    ``IN`` of it matches the same rows, and has one of a few lengths."""
    items = list(values)
    if not items:
        return items
    size = 8
    while size < len(items):
        size *= 2
    return items + [items[-1]] * (size - len(items))
