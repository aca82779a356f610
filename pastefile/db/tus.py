"""The table of resumable (tus) uploads in progress; their bytes are part files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, Text, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base, File
from pastefile.db.types import UTCDateTime, case_sensitive_id, utcnow


class TusUpload(Base):
    """A resumable upload in progress; its bytes live in a part file."""

    __tablename__ = "tus_uploads"

    id: Mapped[str] = mapped_column(case_sensitive_id(32), primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str] = mapped_column(Unicode(255))
    options: Mapped[str] = mapped_column(Text, default="{}")
    file_public_id: Mapped[str | None] = mapped_column(case_sensitive_id(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# The API lists one owner's files, newest first: this index serves that query
# and narrows every filter and ``q=`` search to the owner's rows.
Index("ix_files_owner_created", File.owner_id, File.created_at)
