"""A file request's limits hold under concurrent uploads, on every database: N uploads
at once into a request that takes K files (or K files' bytes) store exactly K, the
request counts exactly K, and its collection holds exactly those K files."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from pastefile.composition import Services
from pastefile.db.collections import CollectionItem
from pastefile.db.file_requests import FileRequest
from pastefile.db.models import File
from pastefile.errors import RequestBytesExceeded, RequestFull
from pastefile.services.access import Caller
from pastefile.services.accounts import ROLE_USER
from pastefile.services.file_requests import RequestFields

UPLOADS = 8
FITS = 3
SIZE = 4096


def _race(services: Services, code: str) -> list[str]:
    """Every upload starts at the same moment, each through the request's link."""
    start = threading.Barrier(UPLOADS, timeout=30)

    def upload(_: int) -> str:
        data = os.urandom(SIZE)
        found = services.requests.open(code, Caller())
        writer = services.uploads.new_writer()
        writer.write(data)
        start.wait()
        try:
            services.requests.take(found, writer, "r.bin")
        except (RequestFull, RequestBytesExceeded):
            writer.abort()
            return "refused"
        return "stored"

    with ThreadPoolExecutor(UPLOADS) as pool:
        return list(pool.map(upload, range(UPLOADS), timeout=120))


@pytest.mark.parametrize(
    "limits", [{"max_files": FITS}, {"max_bytes": FITS * SIZE}], ids=["files", "bytes"]
)
def test_concurrent_uploads_take_exactly_what_the_request_fits(
    services: Services, limits: dict[str, int]
) -> None:
    user = services.accounts.create_user("asker", "a long password", ROLE_USER)
    who = services.accounts.session_principal(user)
    made = services.requests.create(who, RequestFields(title="race", **limits))
    outcomes = _race(services, made.code)
    assert outcomes.count("stored") == FITS, outcomes
    with services.db.read() as session:
        row = session.get(FileRequest, made.id)
        assert row is not None
        assert (row.received_files, row.received_bytes) == (FITS, FITS * SIZE)
        stored = session.scalar(select(func.count()).where(File.owner_id == user.id))
        items = session.scalar(
            select(func.count()).where(CollectionItem.collection_id == row.collection_id)
        )
    assert stored == FITS and items == FITS
