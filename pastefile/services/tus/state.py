"""An upload as the tus protocol reports it, read from its ``tus_uploads`` row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pastefile.db.tus import TusUpload
from pastefile.services.uploads import UploadResult


@dataclass(frozen=True)
class TusState:
    """One upload as the protocol reports it."""

    id: str
    owner_id: int | None
    length: int
    offset: int
    filename: str
    expires_at: datetime
    # Upload-Metadata as sent at creation, without the password.
    metadata: str
    file_public_id: str | None
    options: dict[str, Any]

    @property
    def complete(self) -> bool:
        return self.file_public_id is not None

    @property
    def through_request(self) -> bool:
        """An upload through a file request: its file is the requester's, and the
        uploader gets no link to it (docs/collections.md)."""
        return "request_id" in self.options


@dataclass(frozen=True)
class AppendResult:
    state: TusState
    # Set when this request turned the upload into a file.
    upload: UploadResult | None = None
    # An anonymous upload's management token, shown once, for a new file only.
    manage_token: str | None = None


def state_of(row: TusUpload) -> TusState:
    options = json.loads(row.options or "{}")
    return TusState(
        id=row.id,
        owner_id=row.owner_id,
        length=row.length,
        offset=row.received,
        filename=row.filename,
        expires_at=row.expires_at,
        metadata=str(options.get("metadata", "")),
        file_public_id=row.file_public_id,
        options=options,
    )
