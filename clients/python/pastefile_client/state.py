"""Unfinished uploads, kept in the state directory so that running the same ``pf push``
again continues where the last one stopped.

A record is keyed by a fingerprint of what was asked: the server, the file (its absolute
path, size and modification time, or the sha256 of what came on stdin) and the options.
It holds the tus URL, and for encrypted uploads the age identity and the ciphertext spool,
so the resumed bytes are the very bytes already sent. Records and spools are 0600 in a
0700 directory and are deleted once the upload is stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pastefile_client.config import state_dir
from pastefile_client.errors import write_failure


@dataclass
class Record:
    fingerprint: str
    upload_url: str | None = None
    length: int = 0
    spool: str | None = None
    key: str | None = None
    passphrase_salt: str | None = None
    passphrase_check: str | None = None


def uploads_dir() -> Path:
    path = state_dir() / "uploads"
    try:
        path.mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        raise write_failure(path, exc) from None
    return path


def fingerprint(**parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def spool_path(name: str) -> Path:
    return uploads_dir() / name


def load(print_: str) -> Record | None:
    path = uploads_dir() / f"{print_}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Record(**raw)
    except (OSError, ValueError, TypeError):
        return None


def save(record: Record) -> None:
    path = uploads_dir() / f"{record.fingerprint}.json"
    temp = path.with_suffix(".tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(record), out)
        os.replace(temp, path)
    except OSError as exc:
        raise write_failure(path, exc) from None


def drop(record: Record) -> None:
    """The upload is stored (or abandoned): forget it, its key and its spool."""
    for path in (record.spool, str(uploads_dir() / f"{record.fingerprint}.json")):
        if path:
            with contextlib.suppress(OSError):
                os.unlink(path)


def private_file(path: Path) -> Any:
    """Open ``path`` for writing, readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")
