"""Who owns an upload and what limits it carries, decided before it is stored.

``UploadService`` takes one of these; the default is an anonymous,
public, permanent upload whose links identical uploads share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from pastefile.services.file_rules import is_plain_public

VISIBILITIES = ("public", "unlisted", "private")
# End-to-end encryption formats a client may declare (docs/encryption.md).
ENCRYPTIONS = ("age",)
# What an encrypted file is stored and served as: the server cannot know more.
ENCRYPTED_TYPE = "application/octet-stream"
ENCRYPTED_EXTENSION = "age"


@dataclass(frozen=True)
class UploadOptions:
    owner_id: int | None = None
    visibility: str = "public"
    expires_at: datetime | None = None
    max_downloads: int | None = None
    password_hash: str | None = None
    manage_token_hash: str | None = None
    # Ciphertext the client encrypted (age): no type detection, no preview, no jobs,
    # no link dedup; every limit still applies.
    encrypted: bool = False
    # An upload through a file request (services/file_requests.py): the request it
    # counts against, and the MIME patterns it accepts on top of the server's lists.
    request_id: int | None = None
    accepted_types: tuple[str, ...] = ()

    @property
    def shares_links(self) -> bool:
        """Whether an identical later upload may get this file's links back.

        Only plain public files: a private, unlisted, password-protected,
        expiring or download-limited file handed to someone else's upload
        would leak it or change its rules under them.
        """
        return is_plain_public(self) and not self.encrypted

    def dedup_key(self, sha256: str) -> str | None:
        """The key an identical later upload by the same uploader finds: ``<owner id>:<sha>``.

        An anonymous upload with a management token is its own uploader
        (``t:<token hash prefix>:<sha>``): another person sending the same
        bytes gets a new record, with their own name, time and token, on the
        same blob; only a retry with the same options (a fetch job) finds it.
        Tokenless anonymous writes (``/r/`` copies, RPC) share ``anon:<sha>``.
        Never shared across owners, and never for an encrypted file (its links
        are only any good with the key its uploader holds).
        """
        if not self.shares_links:
            return None
        if self.owner_id is not None:
            return f"{self.owner_id}:{sha256}"
        if self.manage_token_hash:
            # 2 + 32 + 1 + 64 characters: within the column's 100.
            return f"t:{self.manage_token_hash[:32]}:{sha256}"
        return f"anon:{sha256}"

    def to_params(self) -> dict[str, Any]:
        """As JSON-safe values, for a job that stores the upload later (a URL fetch)."""
        values = self.columns()
        values["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return values

    @classmethod
    def from_params(cls, values: dict[str, Any]) -> UploadOptions:
        expires = values.get("expires_at")
        return cls(
            owner_id=values.get("owner_id"),
            visibility=str(values.get("visibility") or "public"),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            max_downloads=values.get("max_downloads"),
            password_hash=values.get("password_hash"),
            manage_token_hash=values.get("manage_token_hash"),
            encrypted=bool(values.get("encrypted")),
        )

    def rule_columns(self) -> dict[str, Any]:
        """The rules a file and a collection both keep: owner, visibility, expiry, limit,
        password, management token."""
        return {
            "owner_id": self.owner_id,
            "visibility": self.visibility,
            "expires_at": self.expires_at,
            "max_downloads": self.max_downloads,
            "password_hash": self.password_hash,
            "manage_token_hash": self.manage_token_hash,
        }

    def columns(self) -> dict[str, Any]:
        """A file's columns: the rules, and whether it is ciphertext."""
        return {**self.rule_columns(), "encrypted": self.encrypted}


# Called with (sha256, size, options) once the bytes are in and typed, before
# anything is recorded: the moderation blocklist raises here, and size-based
# retention returns the options with an expiry (None: unchanged).
UploadGuard = Callable[[str, int, UploadOptions], UploadOptions | None]

# Called with (session, sha256, size, options) in the transaction that records
# the upload, before its bytes are published: the quota locks its owner's row
# and raises here, so concurrent uploads are counted one after the other.
UploadReservation = Callable[[Session, str, int, UploadOptions], None]

ANONYMOUS = UploadOptions()
