"""The collection zip's layout: every range equals the same bytes of the full stream,
names are unique and UTF-8, and Python's zipfile reads it (ZIP32 and ZIP64)."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
import zlib
from datetime import UTC, datetime

import pytest

from pastefile.services.collection_zip import ZipPlan, _stand_in, plan_zip, unique_names

WHEN = datetime(2026, 12, 4, 21, 30, 12, tzinfo=UTC)


def _blobs(*contents: bytes) -> dict[str, bytes]:
    return {hashlib.sha256(c).hexdigest(): c for c in contents}


def _plan(
    named: list[tuple[str, bytes]], force_zip64: bool = False
) -> tuple[ZipPlan, dict[str, bytes]]:
    store = _blobs(*(data for _, data in named))
    files = [(name, hashlib.sha256(data).hexdigest(), len(data), WHEN) for name, data in named]
    plan = plan_zip(files, lambda sha: zlib.crc32(store[sha]), force_zip64=force_zip64)
    return plan, store


def _opener(store: dict[str, bytes], reads: list[str] | None = None):  # type: ignore[no-untyped-def]
    def open_blob(sha: str) -> io.BytesIO:
        if reads is not None:
            reads.append(sha)
        return io.BytesIO(store[sha])

    return open_blob


NAMED = [
    ("photo.jpg", random.Random(1).randbytes(300_000)),
    ("Résumé 履歴書.pdf", b"%PDF-1.4 not really" * 50),
    ("photo.jpg", b"another photo with the same name"),
    ("PHOTO.jpg", b"and one more"),
    ("tiny", b"ab"),
    ("empty-ish.txt", b"x"),
]


@pytest.mark.parametrize("force_zip64", [False, True])
def test_full_stream_opens_and_matches_every_range(force_zip64: bool) -> None:
    plan, store = _plan(NAMED, force_zip64)
    whole = b"".join(plan.stream(_opener(store)))
    assert len(whole) == plan.length
    with zipfile.ZipFile(io.BytesIO(whole)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == [
            "photo.jpg",
            "Résumé 履歴書.pdf",
            "photo (2).jpg",
            "PHOTO (3).jpg",
            "tiny",
            "empty-ish.txt",
        ]
        assert archive.read("photo (2).jpg") == b"another photo with the same name"
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        assert archive.getinfo("Résumé 履歴書.pdf").flag_bits & 0x800  # the UTF-8 flag
    tail = plan.tail(_opener(store))
    assert whole[plan.tail_start :] == tail
    cuts = sorted({0, 1, plan.length - 1, *plan.starts, *(s + 7 for s in plan.starts[:-1])})
    for start in cuts:
        for stop in (start + 1, start + 5000, plan.length):
            stop = min(stop, plan.length)
            got = b"".join(plan.byte_range(start, stop, _opener(store), lambda: tail))
            assert got == whole[start:stop], (start, stop)


def test_a_range_reads_only_the_members_it_covers() -> None:
    plan, store = _plan(NAMED)
    reads: list[str] = []
    last = plan.starts[-2] + 3  # inside the last member's header
    list(
        plan.byte_range(last, plan.length, _opener(store, reads), lambda: plan.tail(_opener(store)))
    )
    assert reads == [hashlib.sha256(b"x").hexdigest()]


def test_the_tail_reads_no_stored_bytes_of_big_members() -> None:
    plan, store = _plan(NAMED[:3])
    reads: list[str] = []
    plan.tail(_opener(store, reads))
    assert reads == []


def test_stand_in_has_the_size_and_crc() -> None:
    data = random.Random(7).randbytes(2_500_000)
    plan, _ = _plan([("big.bin", data)])
    member = plan.members[0]
    crc, size = 0, 0
    for chunk in _stand_in(member, _opener({})):
        crc, size = zlib.crc32(chunk, crc), size + len(chunk)
    assert (size, crc) == (len(data), zlib.crc32(data))


def test_etag_changes_with_the_member_set_and_order() -> None:
    a, _ = _plan(NAMED[:2])
    b, _ = _plan(NAMED[:2])
    c, _ = _plan(list(reversed(NAMED[:2])))
    d, _ = _plan(NAMED[:1])
    assert a.etag == b.etag and len({a.etag, c.etag, d.etag}) == 3


def test_unique_names() -> None:
    assert unique_names(["a.txt", "a.txt", "A.TXT", "b", "b", ".x", "../p/q"]) == [
        "a.txt",
        "a (2).txt",
        "A (3).TXT",
        "b",
        "b (2)",
        ".x",
        ".._p_q",
    ]
