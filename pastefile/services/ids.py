"""Random public identifiers. Never derived from row ids, so nobody can walk them."""

from __future__ import annotations

import secrets
import string

BASE62 = string.digits + string.ascii_letters
PUBLIC_ID_LENGTH = 12  # ~71 bits
SHORT_CODE_LENGTH = 7  # ~42 bits, sparse enough that guessing finds nothing
# /s/<code> is one namespace for files and collections, split by length: a
# collection's code is one character longer, so no file can ever take a
# collection's code or the other way round, and /s/ knows which table to ask.
COLLECTION_CODE_LENGTH = SHORT_CODE_LENGTH + 1


def random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def new_public_id() -> str:
    return random_base62(PUBLIC_ID_LENGTH)


def new_short_code() -> str:
    return random_base62(SHORT_CODE_LENGTH)


def new_collection_code() -> str:
    return random_base62(COLLECTION_CODE_LENGTH)


def is_collection_code(code: str) -> bool:
    return len(code) == COLLECTION_CODE_LENGTH


def looks_like_id(value: str, max_length: int = 32) -> bool:
    """Cheap shape check that turns junk into a 404 before any query."""
    return 0 < len(value) <= max_length and all(c in BASE62 for c in value)
