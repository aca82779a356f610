"""What an upload asks for: options from a form or a query string, its owner,
a crop-resize size, and the options of a ``/r/`` copy."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import request

from pastefile.db.collections import Collection
from pastefile.db.models import File
from pastefile.errors import InvalidInput
from pastefile.services.access import Caller
from pastefile.services.accounts import Principal
from pastefile.services.imaging.params import parse_dimensions
from pastefile.services.policy import PreparedUpload, UploadRequest
from pastefile.services.upload_options import UploadOptions
from pastefile.services.uploads import UploadResult
from pastefile.web.auth import (
    authenticated_by_session,
    caller,
    csrf_valid,
    current_principal,
    rate_key,
    same_origin,
)
from pastefile.web.context import services

# ``Pastefile-Encryption: age`` declares a raw body as ciphertext (docs/encryption.md).
ENCRYPTION_HEADER = "Pastefile-Encryption"


def upload_request(values: Any) -> UploadRequest:
    """The upload options from a form or a query string."""
    return UploadRequest(
        expires_in=whole_number(values, "expires_in"),
        max_downloads=whole_number(values, "max_downloads"),
        password=values.get("password") or None,
        visibility=values.get("visibility") or None,
        # A form field or query parameter, or the header a raw PUT carries.
        encryption=values.get("encryption") or request.headers.get(ENCRYPTION_HEADER) or None,
    )


def whole_number(values: Any, name: str) -> int | None:
    raw = values.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number") from None


def uploader() -> Principal | None:
    """The upload's owner. A session counts only with a valid CSRF token;
    without one the upload is anonymous, so a forged form gains nothing."""
    if authenticated_by_session() and not (csrf_valid() and same_origin()):
        return None
    return current_principal()


def prepare_upload(values: Any) -> PreparedUpload:
    return services().policy.prepare(uploader(), upload_request(values))


@dataclass(frozen=True)
class Into:
    """An upload's options, and the collection it goes into (a ``collection`` field)."""

    prepared: PreparedUpload
    collection: Collection | None = None

    def add(self, result: UploadResult) -> None:
        if self.collection is not None:
            collections = services().collections
            collections.add_files(self.collection, [result.file.public_id], _uploading_caller())


def into_collection(values: Any, prepared: PreparedUpload) -> Into:
    """The ``collection`` an upload names, checked before any byte is stored: only its
    manager uploads into it (``CollectionService.upload_into``)."""
    ident = values.get("collection")
    if not ident:
        return Into(prepared)
    collection, prepared = services().collections.upload_into(
        str(ident), _uploading_caller(), prepared
    )
    return Into(prepared, collection)


def _uploading_caller() -> Caller:
    """The request's proof, with the session counting only as ``uploader`` says: a
    forged cross-site form is anonymous, so it cannot fill the victim's collection."""
    return replace(caller(), principal=uploader())


def derived_options(source: File) -> UploadOptions | None:
    """The options of a copy of ``source`` (``/r/``); 403 for a restricted source
    unless the caller manages it. A session counts only with a CSRF token."""
    who = Caller(principal=uploader(), manage_token=request.headers.get("X-Token") or None)
    return services().access.derived_options(source, who)


def requested_size(values: Any, required: bool = False) -> tuple[int, int] | None:
    """``w``/``h`` of a crop-resize, within the configured limits."""
    settings = services().settings
    limits = (settings.max_resize_dimension, settings.max_image_pixels)
    size = parse_dimensions(values.get("w"), values.get("h"), *limits)
    if size is None and required:
        return parse_dimensions(values.get("w", "0"), values.get("h", "0"), *limits)
    return size


def spend_upload_budget() -> None:
    """Public uploads (``POST /``, ``PUT /<name>``) have a budget per token or client
    address, so nobody fills the disk a few thousand small files at a time."""
    services().uploads.spend_budget(rate_key())
