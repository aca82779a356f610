"""Resumable uploads by the tus 1.0 protocol, with no web framework.

An upload is a ``TusUpload`` row (owner, declared length, bytes received so
far, the options asked for at creation, expiry) and a part file in the
storage's own area (``storage.parts``), named after the random id generated
here. ``append`` writes one PATCH body into the part, a MiB at a time, under
the part's lock; the row's ``received`` is the truth, and bytes past it (a
crash between writing and recording) are cut off before the next write.

When the last byte is in, the part goes through ``UploadService.save_stream``
like any other upload (type detection, allow/deny lists, blocklist, quotas,
retention, dedup, upload jobs), and the row remembers the file's public id in
the transaction that records the file: after a crash the upload names its file,
or there is no file and an empty PATCH at the final offset makes it.
A part whose bytes can never become a file (wrong type, blocked, too large for
the quota) is dropped at once; after a transient refusal (quota used up, disk
full) it stays, and an empty PATCH at the final offset tries again.

Uploads expire ``PASTEFILE_TUS_EXPIRY_SECONDS`` after their last PATCH;
``expire`` removes expired rows with their parts, and parts left without a row.
"""

from pastefile.services.tus.headers import (
    CHECKSUMS,
    EXTENSIONS,
    TUS_VERSION,
    Checksum,
    parse_checksum,
    parse_metadata,
)
from pastefile.services.tus.service import TusService
from pastefile.services.tus.state import AppendResult, TusState

__all__ = [
    "CHECKSUMS",
    "EXTENSIONS",
    "TUS_VERSION",
    "AppendResult",
    "Checksum",
    "TusService",
    "TusState",
    "parse_checksum",
    "parse_metadata",
]
