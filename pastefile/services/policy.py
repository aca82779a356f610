"""Upload rules: expiry and retention, quotas, the moderation blocklist.

Retention follows 0x0.st::

    retention = min_age + (min_age - max_age) * (size / max_size - 1) ** 3

At size 0 the cube is -1, so retention is ``max_age``; at ``max_size`` it is
``min_age``; the cubic keeps small files near ``max_age`` for most of the range.
That is the formula 0x0.st uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.db.moderation import BlockedHash
from pastefile.db.types import utcnow
from pastefile.db.users import User
from pastefile.errors import (
    AnonymousUploadsDisabled,
    Blocked,
    InsufficientScope,
    InvalidInput,
    QuotaExceeded,
    QuotaTooLarge,
)
from pastefile.services.accounts import AccountService, Principal, hash_token, new_token
from pastefile.services.upload_options import ENCRYPTIONS, VISIBILITIES, UploadOptions

DAY = 86400.0
MAX_PASSWORD = 1024
MAX_DOWNLOADS = 1_000_000
# The longest expiry when the server sets no maximum: any date a column can hold.
FOREVER = 100 * 365 * 86400


def retention_seconds(size: int, max_size: int, min_days: float, max_days: float) -> float:
    """0x0.st's size-based retention, in seconds (see the module docstring)."""
    ratio = min(max(size / max_size, 0.0), 1.0) if max_size > 0 else 0.0
    days = min_days + (min_days - max_days) * (ratio - 1) ** 3
    return days * DAY


@dataclass(frozen=True)
class UploadRequest:
    """What a client asked for; every field optional."""

    expires_in: int | None = None
    max_downloads: int | None = None
    password: str | None = None
    visibility: str | None = None
    # "age" for an end-to-end encrypted upload; anything else is refused.
    encryption: str | None = None


@dataclass(frozen=True)
class PreparedUpload:
    options: UploadOptions
    # The anonymous uploader's management token, to be shown once.
    manage_token: str | None


class UploadPolicy:
    def __init__(self, settings: Settings, db: Database, accounts: AccountService) -> None:
        self.settings = settings
        self.db = db
        self.accounts = accounts

    def prepare(self, who: Principal | None, asked: UploadRequest) -> PreparedUpload:
        """Validate the options and turn them into what gets stored."""
        if who is None and not self.settings.allow_anonymous_uploads:
            raise AnonymousUploadsDisabled("anonymous uploads are turned off on this server")
        if who is not None and not who.has_scope("upload"):
            raise InsufficientScope("uploading needs the 'upload' scope")
        visibility = asked.visibility or "public"
        if visibility not in VISIBILITIES:
            raise InvalidInput(f"visibility must be one of {', '.join(VISIBILITIES)}")
        if who is None and visibility == "private":
            raise InvalidInput("anonymous uploads cannot be private; use 'unlisted'")
        token = new_token() if who is None else None
        options = UploadOptions(
            owner_id=who.user_id if who else None,
            visibility=visibility,
            expires_at=self.expiry(asked.expires_in),
            max_downloads=self.max_downloads(asked.max_downloads),
            password_hash=self.password_hash(asked.password),
            manage_token_hash=hash_token(token) if token else None,
            encrypted=_encrypted(asked.encryption),
        )
        return PreparedUpload(options, token)

    def expiry(self, expires_in: int | None) -> datetime | None:
        if expires_in is None:
            return None
        limit = self.settings.max_expiry_seconds or FOREVER
        if not 1 <= expires_in <= limit:
            raise InvalidInput(f"expires_in is in seconds and must be between 1 and {limit}")
        return utcnow() + timedelta(seconds=expires_in)

    def password_hash(self, password: str | None) -> str | None:
        """A file's password as stored (argon2); None or "" is no password."""
        if password is None or password == "":
            return None
        if len(password) > MAX_PASSWORD:
            raise InvalidInput(f"passwords are at most {MAX_PASSWORD} characters")
        return self.accounts.hash_password(password)

    @staticmethod
    def max_downloads(value: int | None) -> int | None:
        """A download limit as asked (None: unlimited), or 400."""
        if value is None:
            return None
        if not 1 <= value <= MAX_DOWNLOADS:
            raise InvalidInput(f"max_downloads must be between 1 and {MAX_DOWNLOADS}")
        return value

    # --- guards run by UploadService once the bytes are known ---------------------

    def check_blocklist(self, sha256: str, size: int, options: UploadOptions) -> None:
        with self.db.read() as session:
            if session.get(BlockedHash, sha256) is not None:
                raise Blocked("this content was removed by moderation and cannot be uploaded")

    def reserve_quota(
        self, session: Session, sha256: str, size: int, options: UploadOptions
    ) -> None:
        """The quota, checked in the transaction that records the upload.

        The owner's row is locked first (SQLite's write transaction is one lock
        already), so concurrent uploads of one owner are counted one after the
        other and never all fit into the same free space.
        """
        if options.owner_id is None:
            return
        user = session.get(User, options.owner_id, with_for_update=True)
        max_bytes, max_files = self._limits(user)
        if not max_bytes and not max_files:
            return
        key = options.dedup_key(sha256)
        if key is not None and session.scalar(select(File.id).where(File.dedup_key == key)):
            return  # the owner gets their own file back: nothing new is stored
        if max_bytes and size > max_bytes:
            raise QuotaTooLarge(f"this file ({size} bytes) exceeds your whole quota ({max_bytes})")
        count, used = _usage(session, options.owner_id)
        if max_files and count + 1 > max_files:
            raise QuotaExceeded(f"you have {count} files; your quota is {max_files} files")
        if max_bytes and used + size > max_bytes:
            free = max(max_bytes - used, 0)
            raise QuotaExceeded(f"{free} of your {max_bytes} bytes are free; this file is {size}")

    def apply_retention(self, sha256: str, size: int, options: UploadOptions) -> UploadOptions:
        """Anonymous uploads without an expiry get the size-based one, if enabled."""
        if self.settings.retention_policy != "size" or options.owner_id is not None:
            return options
        if options.expires_at is not None:
            return options
        seconds = retention_seconds(
            size,
            int(self.settings.max_upload_size),
            self.settings.retention_min_days,
            self.settings.retention_max_days,
        )
        return replace(options, expires_at=utcnow() + timedelta(seconds=seconds))

    def quota(self, user_id: int) -> tuple[int, int]:
        """``(max_bytes, max_files)`` for ``user_id``: their own, else the defaults; 0 is none."""
        with self.db.read() as session:
            return self._limits(session.get(User, user_id))

    def _limits(self, user: User | None) -> tuple[int, int]:
        max_bytes = int(self.settings.user_quota_bytes)
        max_files = self.settings.user_quota_files
        if user is not None and user.quota_bytes is not None:
            max_bytes = user.quota_bytes
        if user is not None and user.quota_files is not None:
            max_files = user.quota_files
        return max_bytes, max_files

    def limits_of(self, user: User) -> tuple[int, int]:
        """``quota`` for a user already loaded (a page of the admin's users)."""
        return self._limits(user)

    def usage_of(self, user_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """``usage`` of several users in one query; users without files are left out."""
        stmt = (
            select(File.owner_id, func.count(), func.coalesce(func.sum(File.size), 0))
            .where(File.owner_id.in_(list(user_ids)))
            .group_by(File.owner_id)
        )
        with self.db.read() as session:
            return {int(o): (int(c), int(b)) for o, c, b in session.execute(stmt) if o is not None}

    def blocked(self, offset: int, limit: int) -> tuple[list[BlockedHash], int]:
        """A page of the moderation blocklist, newest first, and its length."""
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(BlockedHash)) or 0
            order = (BlockedHash.created_at.desc(), BlockedHash.sha256)
            rows = session.scalars(select(BlockedHash).order_by(*order).offset(offset).limit(limit))
            return list(rows), total

    def usage(self, user_id: int) -> tuple[int, int]:
        """How many files ``user_id`` owns and how many bytes they take."""
        with self.db.read() as session:
            return _usage(session, user_id)


def _usage(session: Session, user_id: int) -> tuple[int, int]:
    stmt = select(func.count(), func.coalesce(func.sum(File.size), 0)).where(
        File.owner_id == user_id
    )
    count, used = session.execute(stmt).one()
    return int(count), int(used)


def _encrypted(encryption: str | None) -> bool:
    if encryption is None or encryption == "":
        return False
    if encryption not in ENCRYPTIONS:
        raise InvalidInput(f"encryption must be one of {', '.join(ENCRYPTIONS)}")
    return True
