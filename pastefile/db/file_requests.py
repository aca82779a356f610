"""The table of file requests: upload links a user hands to others (issue 17).

A request's link (``/u/<code>``) lets anyone who has it upload into a collection
its owner sees. ``received_files`` and ``received_bytes`` are what it has taken
so far; the upload pipeline's reservation raises them in the transaction that
records each file (``services/file_requests.py``), so its limits hold under
concurrent uploads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from pastefile.db.models import Base
from pastefile.db.types import UTCDateTime, case_sensitive_id, utcnow


class FileRequest(Base):
    __tablename__ = "file_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The API's id; the link's code is another, longer secret (whoever has it uploads).
    public_id: Mapped[str] = mapped_column(case_sensitive_id(32), unique=True)
    code: Mapped[str] = mapped_column(case_sensitive_id(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Where the files land; a collection the owner deleted is made again on the next upload.
    collection_id: Mapped[int | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(Unicode(200))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    max_files: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Space-separated MIME patterns (``image/*``); empty: whatever the server accepts.
    allowed_types: Mapped[str] = mapped_column(String(1000), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_files: Mapped[int] = mapped_column(Integer, default=0)
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    # What the read gate asks of anything it admits (``file_rules.Guarded``): a request
    # is reachable by its link only, has no download count and no management token.
    @property
    def visibility(self) -> str:
        return "unlisted"

    @property
    def downloads(self) -> int:
        return 0

    @property
    def max_downloads(self) -> int | None:
        return None

    @property
    def manage_token_hash(self) -> str | None:
        return None
