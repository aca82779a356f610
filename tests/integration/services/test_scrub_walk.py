"""The scrub walks storage and the rows side by side, in sha256 order, on every database."""

from __future__ import annotations

import io
import os

from pastefile.composition import Services
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
