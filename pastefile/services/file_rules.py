"""Which rules a file (or an upload's options, or a collection) carries, decided in one place.

A *plain public* file is public, permanent, unlimited and has no password.
Only such a file may hand its links to an identical later upload, gives an
anonymous copy on ``/r/``, and may sit in shared caches for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Ruled(Protocol):
    """A file row or an upload's options: both carry the same four rules."""

    @property
    def visibility(self) -> str: ...

    @property
    def expires_at(self) -> datetime | None: ...

    @property
    def max_downloads(self) -> int | None: ...

    @property
    def password_hash(self) -> str | None: ...


class Guarded(Ruled, Protocol):
    """Anything the read gate admits: a file or a collection (``FileAccess.admit``).

    Both carry the four rules, an owner, a download count and an anonymous
    creator's management token, so one gate and one manage check serve both.
    """

    @property
    def public_id(self) -> str: ...

    @property
    def owner_id(self) -> int | None: ...

    @property
    def downloads(self) -> int: ...

    @property
    def manage_token_hash(self) -> str | None: ...


@dataclass(frozen=True)
class Rules:
    """The four rules by value, e.g. a file's as they will be after a change."""

    visibility: str
    expires_at: datetime | None
    max_downloads: int | None
    password_hash: str | None


def is_plain_public(item: Ruled) -> bool:
    return (
        item.visibility == "public"
        and item.expires_at is None
        and item.max_downloads is None
        and item.password_hash is None
    )


def may_be_cached_by_others(item: Ruled) -> bool:
    """Whether shared caches (proxies, CDNs, nginx's micro-cache) may keep a copy.

    Private and password-protected bytes must never sit in a cache that serves
    other people, and a download limit must see every fetch.
    """
    return (
        item.visibility != "private" and item.password_hash is None and item.max_downloads is None
    )
