"""One contract for every storage backend: local disk, and S3 (moto's standalone server)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pastefile.errors import TooLarge
from pastefile.storage import LocalStorage, Storage
from tests.support.s3 import S3_KEYS, new_bucket

BIG = 8 * 1024 * 1024 + 300_000  # more than one S3 part: the multipart path


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "files")
        return
    from pastefile.storage.s3 import S3Options, S3Storage

    endpoint = request.getfixturevalue("moto_endpoint")
    options = S3Options(
        endpoint_url=endpoint,
        region=S3_KEYS["s3_region"],
        access_key=S3_KEYS["s3_access_key"],
        secret_key=S3_KEYS["s3_secret_key"],
    )
    yield S3Storage(new_bucket(endpoint), "/blobs/", options)


def _store(storage: Storage, data: bytes) -> str:
    writer = storage.writer()
    for start in range(0, len(data), 1 << 20):
        writer.write(data[start : start + (1 << 20)])
    return storage.commit(writer)


def _read(storage: Storage, sha: str) -> bytes:
    with storage.open(sha) as stream:
        return stream.read()


@pytest.mark.parametrize("size", [1, 70_000, BIG])
def test_write_commit_open(storage: Storage, size: int) -> None:
    data = os.urandom(size)
    sha = _store(storage, data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert storage.exists(sha)
    assert _read(storage, sha) == data
    assert storage.cleanup_temp(-60) == 0  # no temp file or upload left behind


def test_reader_before_commit(storage: Storage) -> None:
    for data in (b"small", os.urandom(BIG)):
        writer = storage.writer()
        writer.write(data)
        with writer.reader() as stream:
            assert stream.read() == data
        assert storage.commit(writer) == hashlib.sha256(data).hexdigest()


def test_identical_content_is_stored_once(storage: Storage) -> None:
    data = os.urandom(5000)
    assert _store(storage, data) == _store(storage, data)
    assert [sha for sha, _ in storage.list_blobs()] == [hashlib.sha256(data).hexdigest()]
    assert storage.cleanup_temp(-60) == 0


def test_ranged_reads(storage: Storage) -> None:
    data = os.urandom(200_000)
    sha = _store(storage, data)
    with storage.open(sha) as stream:
        stream.seek(150_000)
        assert stream.read(10) == data[150_000:150_010]
        assert stream.tell() == 150_010
        stream.seek(5)
        assert stream.read(3) == data[5:8]
        stream.seek(-4, os.SEEK_END)
        assert stream.read() == data[-4:]
        assert stream.read(10) == b""


def test_delete(storage: Storage) -> None:
    sha = _store(storage, b"to delete")
    storage.delete(sha)
    assert not storage.exists(sha)
    with pytest.raises(FileNotFoundError):
        storage.open(sha)
    storage.delete(sha)  # missing blobs are ignored
    assert list(storage.list_blobs()) == []


@pytest.mark.parametrize("size", [10, BIG])
def test_abort_leaves_nothing(storage: Storage, size: int) -> None:
    writer = storage.writer()
    writer.write(os.urandom(size))
    writer.abort()
    writer.abort()  # safe twice
    assert list(storage.list_blobs()) == []
    assert storage.cleanup_temp(-60) == 0


def test_too_large_is_refused_and_cleaned(storage: Storage) -> None:
    writer = storage.writer(max_size=BIG - 1)
    with pytest.raises(TooLarge):
        writer.write(os.urandom(BIG))
    assert list(storage.list_blobs()) == []
    assert storage.cleanup_temp(-60) == 0


def test_cleanup_removes_abandoned_uploads_only_when_old(storage: Storage) -> None:
    writer = storage.writer()
    writer.write(os.urandom(BIG))  # on S3 a multipart upload is now open
    assert storage.cleanup_temp(3600) == 0  # young: kept
    assert storage.cleanup_temp(-60) >= 1  # abandoned: removed
    assert storage.cleanup_temp(-60) == 0


def test_exists_and_list_blobs(storage: Storage) -> None:
    shas = {_store(storage, os.urandom(100)) for _ in range(3)}
    listed = dict(storage.list_blobs())
    assert set(listed) == shas
    assert all(mtime > 0 for mtime in listed.values())
    assert not storage.exists("0" * 64)


def test_the_listing_is_in_name_order_and_resumes_after_a_name(storage: Storage) -> None:
    shas = sorted(_store(storage, os.urandom(50)) for _ in range(12))
    assert [sha for sha, _ in storage.list_blobs()] == shas
    assert [sha for sha, _ in storage.list_blobs(after=shas[4])] == shas[5:]
    assert [sha for sha, _ in storage.list_blobs(after=shas[-1])] == []
    # A name that is not stored (or is) resumes at the next one stored.
    assert [sha for sha, _ in storage.list_blobs(after=shas[6][:63] + "f")] == shas[7:]


def test_quarantine_sets_bytes_aside_out_of_every_listing(storage: Storage) -> None:
    kept, doomed = _store(storage, b"kept"), _store(storage, b"set aside")
    storage.quarantine(doomed)
    assert not storage.exists(doomed)
    with pytest.raises(FileNotFoundError):
        storage.open(doomed)
    assert [sha for sha, _ in storage.list_blobs()] == [kept]
    storage.quarantine(doomed)  # already gone: nothing to do
    assert _store(storage, b"set aside") == doomed and _read(storage, doomed) == b"set aside"
