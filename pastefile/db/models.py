"""The tables. A ``File`` is a public record; a ``Blob`` is stored bytes.

Many files can point at one blob: storage dedup is global and invisible,
while link dedup is decided per owner through ``File.dedup_key``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Unicode, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pastefile.db.types import UTCDateTime, case_sensitive_id, utcnow


class Base(DeclarativeBase):
    pass


class Blob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mimetype: Mapped[str] = mapped_column(String(127))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # CRC-32 of the bytes, computed with the sha256 (migration 0007): a collection's
    # zip names it before the bytes, so its layout is known in advance. NULL until
    # backfilled (``pastefile backfill-crc32``, or lazily by the zip).
    crc32: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class File(Base):
    __tablename__ = "files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(case_sensitive_id(32), unique=True)
    short_code: Mapped[str] = mapped_column(case_sensitive_id(16), unique=True)
    filename: Mapped[str] = mapped_column(Unicode(255))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    mimetype: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # JSON summary of the original's EXIF (camera, taken-at, has-GPS…); migration 0002.
    exif: Mapped[str | None] = mapped_column(Text, nullable=True)
    # "<owner or anon>:<sha256>" for files whose links may be shared by a
    # later identical upload; NULL when they must not be (unique allows many).
    dedup_key: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="ready")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Accounts and limits (migration 0003_accounts). NULL owner: anonymous upload.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    max_downloads: Mapped[int | None] = mapped_column(Integer, nullable=True)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Bumped on every change of the record: the API's ETag and If-Match.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    blob: Mapped[Blob] = relationship(lazy="raise")


class Variant(Base):
    """A cached derived image: ``source_sha256`` transformed by ``params``.

    The bytes are an ordinary blob (``sha256``), so the blob-row lock that
    guards uploads and deletes also guards variants.
    """

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("source_sha256", "params", name="uq_variants_source_params"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    params: Mapped[str] = mapped_column(String(160))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    mimetype: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
