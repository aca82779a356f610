"""Tables for collections: many files behind one link (issue 17).

A ``Collection`` carries the same rules as a file (visibility, expiry,
password, download limit, management token), so the read gate treats both
alike (``FileAccess.admit``). ``CollectionItem`` orders its files; deleting a
file or a collection removes the items that name it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, Unicode, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, case_sensitive_id, utcnow


class Collection(Base):
    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(case_sensitive_id(32), unique=True)
    # Short codes share /s/ with files: a collection's is one character longer
    # (services/ids.py), so the two kinds can never take each other's code.
    short_code: Mapped[str] = mapped_column(case_sensitive_id(16), unique=True)
    title: Mapped[str] = mapped_column(Unicode(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    max_downloads: Mapped[int | None] = mapped_column(Integer, nullable=True)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Bumped on every change of the record or its files: the API's ETag and If-Match.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CollectionItem(Base):
    __tablename__ = "collection_items"
    __table_args__ = (
        UniqueConstraint("collection_id", "file_id", name="uq_collection_items_file"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
