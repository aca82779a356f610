"""Damage done to a store behind the service's back, for the storage scrub's tests: rotten
bytes, lost bytes, stray bytes and a variant whose source no file uses."""

from __future__ import annotations

import io
from dataclasses import dataclass

from pastefile.composition import Services
from pastefile.db.models import Blob, Variant
from pastefile.storage.local import LocalStorage
from pastefile.storage.s3 import S3Storage


@dataclass
class Damage:
    good: str  # public ids
    corrupt: str
    lost: str
    corrupt_sha: str
    corrupt_bytes: bytes
    lost_sha: str
    stray_sha: str
    variant_id: int


def overwrite(storage: object, sha: str, data: bytes) -> None:
    """Change stored bytes behind the service's back (bit rot, a bad disk)."""
    if isinstance(storage, LocalStorage):
        path = storage.local_path(sha)
        path.chmod(0o644)
        path.write_bytes(data)
    else:
        assert isinstance(storage, S3Storage)
        storage.client.put_object(Bucket=storage.bucket, Key=storage.key(sha), Body=data)


def damage(services: Services) -> Damage:
    def upload(data: bytes, name: str) -> tuple[str, str]:
        result = services.uploads.save_stream(io.BytesIO(data), name)
        return result.file.public_id, result.file.sha256

    good, _ = upload(b"still fine " * 1000, "good.txt")
    corrupt, corrupt_sha = upload(b"about to rot " * 1000, "rot.txt")
    overwrite(services.storage, corrupt_sha, b"rotten " * 1000)
    lost, lost_sha = upload(b"about to vanish", "lost.txt")
    services.storage.delete(lost_sha)
    stray_sha = services.storage.put_bytes(b"bytes no row knows")
    source = services.storage.put_bytes(b"a source no file uses any more")
    made = services.storage.put_bytes(b"its cached variant")
    with services.db.write() as session:
        session.add(Blob(sha256=source, size=30, mimetype="image/png"))
        session.add(Blob(sha256=made, size=18, mimetype="image/png"))
        session.flush()
        variant = Variant(
            source_sha256=source,
            params="w=1",
            sha256=made,
            mimetype="image/png",
            size=18,
            width=1,
            height=1,
        )
        session.add(variant)
        session.flush()
        variant_id = variant.id
    return Damage(
        good, corrupt, lost, corrupt_sha, b"about to rot " * 1000, lost_sha, stray_sha, variant_id
    )
