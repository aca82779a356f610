"""The scrub walks storage and the rows side by side, in sha256 order, on every database,
and holds the same memory whatever the size of the store."""

from __future__ import annotations

import io
import os
import tracemalloc

import pytest

from pastefile.composition import Services
from pastefile.db.models import Blob, File
from tests.support.damage import damage


def test_a_pass_finds_each_problem_among_many_sound_files(services: Services) -> None:
    for n in range(40):
        services.uploads.save_stream(io.BytesIO(os.urandom(64)), f"{n}.bin")
    hurt = damage(services)
    report = services.scrub.run()
    assert report.checked == 45  # 40, the good and corrupt bytes, the stray, both variant's
    assert report.corrupt == [hurt.corrupt_sha]
    assert report.missing == [hurt.lost_sha]
    assert report.orphans == [hurt.stray_sha]
    assert report.sourceless_variants == [hurt.variant_id]


def test_a_file_deleted_during_the_pass_is_not_reported_lost(services: Services) -> None:
    kept = [
        services.uploads.save_stream(io.BytesIO(os.urandom(64)), f"{n}.bin").file for n in range(6)
    ]
    listing = services.storage.list_blobs
    calls: list[str] = []

    def deleted_while_listing(after: str = "") -> object:
        # A pass lists storage to hash, then again beside the rows it has begun to read:
        # there the delete commits, then its bytes go.
        calls.append(after)
        if len(calls) == 2:
            services.files.delete(kept[0].public_id)
        return listing(after)

    services.storage.list_blobs = deleted_while_listing  # type: ignore[method-assign]
    report = services.scrub.run()
    assert len(calls) == 2 and not services.storage.exists(kept[0].sha256)
    assert (report.missing, report.orphans, report.corrupt) == ([], [], [])


def _stored(services: Services, count: int, first: int = 0) -> None:
    shas = [services.storage.put_bytes(os.urandom(32)) for _ in range(count)]
    with services.db.write() as session:
        session.add_all([Blob(sha256=sha, size=32, mimetype="text/plain") for sha in shas])
        session.flush()
        session.add_all(
            File(
                public_id=f"walk{n:08d}",
                short_code=f"w{n:08d}",
                filename="a.txt",
                sha256=sha,
                mimetype="text/plain",
                size=32,
            )
            for n, sha in enumerate(shas, start=first)
        )


def _peak_of_a_pass(services: Services) -> float:
    """The least of three passes' peaks: tracemalloc also counts what other threads of
    the test process allocate meanwhile, which a pass's own cost does not vary with."""
    services.scrub.run()  # first-use costs (compiled statements) are not the store's size
    peaks = []
    for _ in range(3):
        tracemalloc.start()
        try:
            report = services.scrub.run()
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert report.problems == 0
    return min(peaks) / 1e6


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_pass_holds_the_same_memory_on_a_store_ten_times_larger(services: Services) -> None:
    _stored(services, 400)
    small = _peak_of_a_pass(services)
    _stored(services, 3600, first=400)
    large = _peak_of_a_pass(services)
    # Holding the listing or the rows whole costs about 1 MB per thousand blobs.
    assert large - small < 0.5, f"{small:.2f} MB at 400 blobs, {large:.2f} MB at 4,000"
