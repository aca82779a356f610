"""The service layer. It imports no web framework: every adapter uses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pastefile.cache import Cache, cache_from_settings
from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.services.access import FileAccess
from pastefile.services.accounts import AccountService
from pastefile.services.files import FileService
from pastefile.services.images import engine as image_engine
from pastefile.services.imaging.service import ImageService
from pastefile.services.policy import UploadPolicy
from pastefile.services.uploads import UploadService
from pastefile.storage import Storage, storage_from_url

if TYPE_CHECKING:
    from pastefile.jobs.service import JobService
    from pastefile.storage.s3 import S3Options


@dataclass
class Services:
    """Everything an adapter needs, built once per process."""

    settings: Settings
    db: Database
    storage: Storage
    files: FileService
    uploads: UploadService
    images: ImageService
    accounts: AccountService
    policy: UploadPolicy
    access: FileAccess
    jobs: JobService = field(init=False)  # set by build_services: it needs the others

    @property
    def cache(self) -> Cache:
        return self.files.lookups.cache

    def close(self) -> None:
        if "jobs" in self.__dict__:
            self.jobs.close()
        self.cache.close()
        self.db.dispose()


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url, slow_query_ms=settings.slow_query_ms)
    storage = storage_from_url(settings.storage_url, _s3_options(settings))
    cache = cache_from_settings(settings.redis_url, settings.cache_prefix, settings.cache_local_ttl)
    files = FileService(db, storage, cache)
    uploads = UploadService(settings, db, storage)
    accounts = AccountService(settings, db)
    policy = UploadPolicy(settings, db, accounts)
    uploads.guards += [policy.check_blocklist, policy.check_quota, policy.apply_retention]
    services = Services(
        settings=settings,
        images=ImageService(settings, db, storage, image_engine),
        db=db,
        storage=storage,
        files=files,
        uploads=uploads,
        accounts=accounts,
        policy=policy,
        access=FileAccess(db, files, accounts),
    )
    from pastefile.jobs.service import attach_jobs  # the jobs package imports this one

    attach_jobs(services)
    return services


def _s3_options(settings: Settings) -> S3Options | None:
    if not settings.storage_url.startswith("s3:"):
        return None  # boto3 is only imported for S3 storage
    from pastefile.storage.s3 import S3Options

    return S3Options(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        presigned_downloads=settings.s3_presigned_downloads,
        presign_seconds=settings.s3_presign_seconds,
    )
