"""Every place a backup can live (a local folder, an S3 prefix) keeps the same promises."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from pastefile.errors import InvalidInput
from pastefile.services.backup_places import BackupPlace, place_for
from tests.support.s3 import s3_settings
from tests.support.settings import make_settings

DATA = b"bytes worth keeping " * 1000
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["local", "s3"])
def where(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, dict[str, object]]]:
    if request.param == "local":
        yield str(tmp_path / "backup"), {}
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    reach = s3_settings(endpoint)
    bucket = str(reach.pop("storage_url")).split("/")[2]
    yield f"s3://{bucket}/backups", reach


@pytest.fixture
def place(where: tuple[str, dict[str, object]], tmp_path: Path) -> BackupPlace:
    url, reach = where
    return place_for(url, make_settings(tmp_path / "data", "sqlite://", **reach))


def test_a_blob_is_kept_only_when_its_bytes_match_its_name(place: BackupPlace) -> None:
    assert not place.has_blob(SHA, len(DATA))
    assert place.put_blob(SHA, io.BytesIO(b"something else")) is False
    assert not place.has_blob(SHA, len(DATA))
    with pytest.raises(FileNotFoundError):
        place.open_blob(SHA)
    assert place.put_blob(SHA, io.BytesIO(DATA)) is True
    assert place.has_blob(SHA, len(DATA))
    with place.open_blob(SHA) as reader:
        assert reader.read() == DATA


def _publish(place: BackupPlace, stamp: str, text: bytes) -> str:
    with place.staging(stamp) as work:
        (work / "tables").mkdir(parents=True)
        (work / "tables" / "files.jsonl").write_bytes(text)
        (work / "manifest.json").write_bytes(b'{"format": 1}')
        return place.publish(stamp, work)


def test_latest_names_the_newest_published_snapshot(
    place: BackupPlace, where: tuple[str, dict[str, object]], tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput), place.snapshot():
        pass
    first = _publish(place, "20261204T010000000000Z", b"first\n")
    _publish(place, "20261204T020000000000Z", b"second\n")
    with place.snapshot() as snapshot:
        assert (snapshot / "tables" / "files.jsonl").read_bytes() == b"second\n"
    named = place_for(first, make_settings(tmp_path / "data", "sqlite://", **where[1]))
    with named.snapshot() as snapshot:
        assert (snapshot / "tables" / "files.jsonl").read_bytes() == b"first\n"
    place.remove_partial()  # nothing abandoned: nothing removed
    with place.snapshot() as snapshot:
        assert (snapshot / "manifest.json").is_file()


def test_an_s3_snapshot_name_that_is_not_one_we_wrote_is_refused(
    moto_endpoint: str, tmp_path: Path
) -> None:
    reach = s3_settings(moto_endpoint)
    bucket = str(reach.pop("storage_url")).split("/")[2]
    settings = make_settings(tmp_path / "d", "sqlite://", **reach)
    for name in ("..", "LATEST", "20261204T01%2F..Z"):
        with pytest.raises(InvalidInput):
            place_for(f"s3://{bucket}/backups/snapshots/{name}", settings)
