"""The tus 1.0 protocol's values: versions, extensions, Upload-Metadata and checksums."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pastefile.errors import InvalidInput, UnsupportedChecksum

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "termination", "expiration", "checksum")
CHECKSUMS: dict[str, Callable[[], Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
MAX_METADATA = 4096
_META_KEY = re.compile(r"[!-+\--~]{1,64}")  # printable ASCII without space and comma


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs."""
    if not header or not header.strip():
        return {}
    if len(header) > MAX_METADATA:
        raise InvalidInput(f"Upload-Metadata is at most {MAX_METADATA} characters")
    found: dict[str, str] = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not _META_KEY.fullmatch(key) or key in found:
            raise InvalidInput("Upload-Metadata keys are unique, non-empty, without spaces")
        found[key] = _base64_text(value.strip(), key)
    return found


def _base64_text(value: str, key: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidInput(f"Upload-Metadata {key!r} is not base64 of UTF-8 text") from None


# Pairs never kept for HEAD: the password; for an encrypted upload, also what names it.
SECRET_KEYS = frozenset({"password"})
NAMING_KEYS = frozenset({"filename", "name", "filetype", "type"})


def metadata_echo(header: str | None, hidden: frozenset[str] = SECRET_KEYS) -> str:
    """What HEAD reports back: the client's own pairs, minus the ``hidden`` ones."""
    pairs = [p.strip() for p in (header or "").split(",") if p.strip()]
    return ",".join(p for p in pairs if p.partition(" ")[0] not in hidden)


def parse_checksum(header: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    factory = CHECKSUMS.get(algorithm.lower())
    if factory is None:
        raise UnsupportedChecksum(f"Upload-Checksum algorithms here: {', '.join(CHECKSUMS)}")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != factory().digest_size:
        raise InvalidInput(f"Upload-Checksum is '{algorithm} <base64 of the digest>'")
    return Checksum(algorithm.lower(), digest)


def optional_int(values: dict[str, str], name: str) -> int | None:
    raw = values.get(name)
    if raw in (None, ""):
        return None
    if not re.fullmatch(r"[0-9]{1,12}", raw):
        raise InvalidInput(f"Upload-Metadata {name!r} must be a whole number")
    return int(raw)
