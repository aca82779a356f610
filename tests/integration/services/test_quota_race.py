"""A quota holds under concurrent uploads: N uploads at once against a quota
that fits K store exactly K, on every database."""

from __future__ import annotations

import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from pastefile.composition import Services
from pastefile.errors import QuotaExceeded
from pastefile.services.accounts import ROLE_USER
from pastefile.services.policy import UploadRequest
from pastefile.services.upload_options import UploadOptions

UPLOADS = 8
FITS = 3
SIZE = 4096


def _race(services: Services, options: UploadOptions) -> list[str]:
    """Start every upload at the same moment; the outcome of each, in any order."""
    start = threading.Barrier(UPLOADS, timeout=30)

    def upload(_: int) -> str:
        data = os.urandom(SIZE)
        start.wait()
        try:
            services.uploads.save_stream(io.BytesIO(data), "q.bin", options=options)
        except QuotaExceeded:
            return "refused"
        return "stored"

    with ThreadPoolExecutor(UPLOADS) as pool:
        return list(pool.map(upload, range(UPLOADS), timeout=120))


def _owner(services: Services) -> tuple[int, UploadOptions]:
    user = services.accounts.create_user("quota", "a long password", ROLE_USER)
    prepared = services.policy.prepare(services.accounts.session_principal(user), UploadRequest())
    return user.id, prepared.options


@pytest.mark.parametrize(
    "settings_overrides",
    [{"user_quota_files": FITS}, {"user_quota_bytes": FITS * SIZE}],
    ids=["files", "bytes"],
)
def test_concurrent_uploads_store_exactly_what_the_quota_fits(services: Services) -> None:
    user_id, options = _owner(services)
    outcomes = _race(services, options)
    assert outcomes.count("stored") == FITS, outcomes
    assert services.policy.usage(user_id) == (FITS, FITS * SIZE)
