"""age encryption with pyrage: a fresh X25519 identity per file (streamed), or age's own
scrypt passphrase mode (pyrage only offers it in memory, hence the size cap).

The ciphertext is a plain age file, so ``age -d -i key.txt`` decrypts what pf uploads.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pyrage
from pyrage import passphrase as age_passphrase
from pyrage import x25519

from pastefile_client.errors import CRYPTO, USAGE, Failure, read_failure, write_failure

PASSPHRASE_LIMIT = 256 * 1024 * 1024
Progress = Callable[[int], None]


class _Counting(io.RawIOBase):
    """A reader that reports how many bytes went through it (for the progress bar)."""

    def __init__(self, raw: BinaryIO, advance: Progress) -> None:
        self.raw = raw
        self.advance = advance

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.advance(len(data))
        return len(data)


def new_identity() -> str:
    return str(x25519.Identity.generate())


def encrypt_file(source: Path, out: BinaryIO, secret: str, advance: Progress) -> None:
    """Stream ``source`` into ``out`` as an age file for the identity ``secret``."""
    recipient = x25519.Identity.from_str(secret).to_public()
    try:
        with open(source, "rb") as raw:
            pyrage.encrypt_io(_Counting(raw, advance), out, [recipient])
    except pyrage.EncryptError as exc:
        _reraise_interrupt(exc)
        raise Failure(f"cannot encrypt {source}: {exc}") from None
    except OSError as exc:
        raise write_failure("the encrypted copy", exc) from None


def encrypt_passphrase(source: Path, out: BinaryIO, phrase: str, advance: Progress) -> None:
    size = source.stat().st_size
    if size > PASSPHRASE_LIMIT:
        raise Failure(
            f"--passphrase encrypts in memory: at most {PASSPHRASE_LIMIT >> 20} MiB "
            "(use --encrypt for larger files)"
        )
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise read_failure(source, exc) from None
    sealed = age_passphrase.encrypt(data, phrase)
    advance(len(data))
    try:
        out.write(sealed)
    except OSError as exc:
        raise write_failure("the encrypted copy", exc) from None


def check_identity(secret: str) -> x25519.Identity:
    try:
        return x25519.Identity.from_str(secret)
    except pyrage.IdentityError:
        raise Failure(
            "bad link: the key in the fragment is not a valid age identity", USAGE
        ) from None


def decrypt_file(source: Path, out: BinaryIO, secret: str, advance: Progress) -> None:
    identity = check_identity(secret)
    with open(source, "rb") as raw:
        _guarded(lambda: pyrage.decrypt_io(_Counting(raw, advance), out, [identity]))


def decrypt_passphrase(source: Path, out: BinaryIO, phrase: str, advance: Progress) -> None:
    data = source.read_bytes()
    plain = _guarded(lambda: age_passphrase.decrypt(data, phrase))
    advance(len(data))
    out.write(plain)


def _guarded(action: Callable[[], object]) -> bytes:
    """pyrage's errors as a user reads them: a wrong key or passphrase, or damaged bytes."""
    try:
        result = action()
    except pyrage.DecryptError as exc:
        _reraise_interrupt(exc)
        text = str(exc)
        if "No matching keys" in text or "Decryption failed" in text:
            raise Failure("cannot decrypt: wrong key or passphrase for this file", CRYPTO) from None
        raise Failure(f"cannot decrypt: the ciphertext is corrupted ({text})", CRYPTO) from None
    except OSError as exc:
        if exc.errno is None:  # pyrage reports a failed chunk MAC as a bare OSError
            raise Failure("cannot decrypt: the ciphertext is corrupted", CRYPTO) from None
        raise  # a write error: the caller names the file
    return result if isinstance(result, bytes) else b""


def _reraise_interrupt(exc: Exception) -> None:
    """pyrage wraps a Ctrl-C inside a callback into its own error: give it back."""
    if "KeyboardInterrupt" in str(exc):
        raise KeyboardInterrupt from None


def passphrase_check(phrase: str, salt: bytes) -> str:
    """A slow hash that tells a resumed --passphrase upload whether the phrase is the same."""
    return hashlib.scrypt(phrase.encode("utf-8"), salt=salt, n=2**14, r=8, p=1).hex()
