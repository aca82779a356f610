"""Webhook secrets: made here, shown once, kept encrypted so deliveries can sign.

A signing secret cannot be stored as a hash (the HMAC needs the secret itself), so it
is encrypted (Fernet: AES-128-CBC with HMAC-SHA256) under a key derived from
``PASTEFILE_SECRET_KEY``. A stolen database alone does not reveal the secrets; a stolen
database with the secret key does. Changing the secret key makes the stored secrets
unreadable: deliveries to those endpoints fail until they are registered again.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import cached_property
from typing import TYPE_CHECKING

from pastefile.errors import InvalidInput

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

PREFIX = "whsec_"
_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(_BYTES)).decode("ascii")


class SecretBox:
    """Encrypts and decrypts webhook secrets with a key derived from the app's secret key."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"pastefile webhook secrets\x00" + secret_key.encode()).digest()
        self._key = base64.urlsafe_b64encode(digest)

    @cached_property
    def _fernet(self) -> Fernet:
        # Loaded at the first secret: cryptography's bindings are ~6 MB in every process
        # (web workers, job workers) that never registers or delivers a webhook.
        from cryptography.fernet import Fernet

        return Fernet(self._key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("ascii")).decode("ascii")

    def open(self, sealed: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise InvalidInput(
                "this endpoint's secret cannot be read (the secret key changed); register it again"
            ) from None
