"""Where ``pastefile backup`` writes and ``restore`` reads: a local folder or S3.

``place_for`` is the one chooser: ``s3://bucket/prefix`` is S3 (boto3 is only
imported then), anything else a local folder.
"""

from __future__ import annotations

from pathlib import Path

from pastefile.config import Settings
from pastefile.services.backup_places.base import BackupPlace
from pastefile.services.backup_places.local import LocalPlace

__all__ = ["BackupPlace", "LocalPlace", "place_for"]


def place_for(where: str | Path, settings: Settings) -> BackupPlace:
    """The place ``where`` names; S3 is reached as the settings say (endpoint, keys)."""
    if str(where).startswith("s3://"):
        from pastefile.services.backup_places.s3 import S3Place
        from pastefile.storage import s3_options_from_settings

        return S3Place(str(where), s3_options_from_settings(settings))
    return LocalPlace(Path(where))
