"""The composition root: every part of a process, built once, in one place.

``build_services(settings)`` is the only function that constructs storage,
cache, database, the services and the job system. Every adapter (the Flask
app, the Thrift server, the CLI, the job workers) gets the one ``Services``
and reaches parts through its typed attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

from pastefile.cache import Cache, cache_from_settings
from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.events import EventBus, event_bus_from_settings
from pastefile.jobs.hooks import start_upload_jobs
from pastefile.jobs.runners import runner_from_settings
from pastefile.jobs.service import JobService
from pastefile.ratelimit import RateLimiter, rate_limiter_from_settings
from pastefile.services.access import FileAccess
from pastefile.services.accounts import AccountService
from pastefile.services.backup import Backup, Restore
from pastefile.services.blobs import BlobStore
from pastefile.services.collections import CollectionService
from pastefile.services.device_auth import DeviceAuthService
from pastefile.services.fetch import Fetcher, FetchPolicy
from pastefile.services.file_requests import FileRequestService, reserve_request_room
from pastefile.services.files import FileService
from pastefile.services.health import Readiness
from pastefile.services.imaging.engines import image_engine_from_settings
from pastefile.services.imaging.service import ImageService
from pastefile.services.intake import IntakeService
from pastefile.services.notifications import (
    DownloadAlerts,
    GeoIP,
    HistoryRecorder,
    Notifier,
    SecretBox,
    WebhookService,
)
from pastefile.services.policy import UploadPolicy
from pastefile.services.scrub import Scrub
from pastefile.services.tus import TusService
from pastefile.services.uploads import UploadService
from pastefile.stats.counting import StatsRecorder
from pastefile.stats.service import StatsService
from pastefile.stats.stores import StatsStore, stats_store_from_settings
from pastefile.storage import Storage, storage_from_settings
from pastefile.storage.parts import part_store_for


@dataclass
class Services:
    """Everything an adapter needs, built once per process by ``build_services``."""

    settings: Settings
    db: Database
    storage: Storage
    blobs: BlobStore
    cache: Cache
    files: FileService
    uploads: UploadService
    tus: TusService
    intake: IntakeService
    fetcher: Fetcher
    images: ImageService
    accounts: AccountService
    device_auth: DeviceAuthService
    policy: UploadPolicy
    access: FileAccess
    collections: CollectionService
    requests: FileRequestService
    events: EventBus
    limiter: RateLimiter
    stats_store: StatsStore
    stats_recorder: StatsRecorder
    stats: StatsService
    jobs: JobService
    health: Readiness
    scrub: Scrub
    backup: Backup
    restore: Restore
    notifier: Notifier

    def close(self) -> None:
        self.jobs.close()
        self.notifier.history.close()
        self.fetcher.close()
        self.events.close()
        self.stats_recorder.close()
        self.cache.close()
        self.db.dispose()


def build_services(settings: Settings) -> Services:
    """Build every part of a process once; the one place parts are constructed."""
    db = Database(settings.database_url, slow_query_ms=settings.slow_query_ms)
    storage = storage_from_settings(settings)
    cache = cache_from_settings(settings)
    accounts = AccountService(settings, db)
    policy = UploadPolicy(settings, db, accounts)
    blobs = BlobStore(storage, db)
    files = FileService(db, blobs, cache)
    engine = image_engine_from_settings(settings)
    events = event_bus_from_settings(settings)
    limiter = rate_limiter_from_settings(settings)
    jobs = JobService(settings, db, files.lookups, events, lambda: runner_from_settings(services))
    fetcher = Fetcher(_fetch_policy(settings))
    notifier = _notifier(settings, db, cache, fetcher, jobs, files)
    uploads = UploadService(
        settings,
        db,
        blobs,
        engine,
        limiter,
        guards=[policy.check_blocklist, policy.apply_retention],
        reservations=[policy.reserve_quota, reserve_request_room],
        listeners=[lambda result: start_upload_jobs(jobs, result), notifier.uploaded],
    )
    stats_store = stats_store_from_settings(settings, db)
    access = FileAccess(
        db, files, accounts, limiter, settings.password_rate_limit, policy, notifier=notifier
    )
    collections = CollectionService(db, access, policy, blobs, cache, notifier)
    requests = FileRequestService(db, access, policy, collections, uploads, notifier)
    notifier.alerts.register_owner_lookup("collection", collections.owner_of)
    notifier.alerts.register_owner_lookup("request", requests.owner_of)
    services = Services(
        settings=settings,
        db=db,
        storage=storage,
        blobs=blobs,
        cache=cache,
        files=files,
        uploads=uploads,
        tus=TusService(settings, db, part_store_for(storage), uploads, policy, requests),
        intake=IntakeService(storage, uploads),
        fetcher=fetcher,
        images=ImageService(settings, db, blobs, engine, limiter),
        accounts=accounts,
        device_auth=DeviceAuthService(settings, db, accounts, limiter),
        policy=policy,
        access=access,
        collections=collections,
        requests=requests,
        events=events,
        limiter=limiter,
        stats_store=stats_store,
        stats_recorder=StatsRecorder(db, stats_store, settings.stats_flush_seconds),
        stats=StatsService(db, stats_store),
        health=Readiness(settings, db, storage, cache),
        jobs=jobs,
        scrub=Scrub(db, storage, blobs, files.lookups, settings.gc_grace_seconds),
        backup=Backup(db, storage, settings),
        restore=Restore(db, storage, settings),
        notifier=notifier,
    )
    return services


def _notifier(
    settings: Settings,
    db: Database,
    cache: Cache,
    fetcher: Fetcher,
    jobs: JobService,
    files: FileService,
) -> Notifier:
    """The event sink, its webhooks, alerts and history; file owners are looked up here."""

    def submit(kind: str, params: dict[str, object], attempts: int) -> object:
        return jobs.submit(kind, params=params, max_attempts=attempts)

    def forget(owner_id: int | None) -> None:
        notifier.forget(owner_id)

    def file_owner(ident: str) -> tuple[int | None, str] | None:
        found = files.lookups.by_public_id(ident)
        return (found.owner_id, found.filename) if found is not None else None

    box = SecretBox(settings.secret_key)
    webhooks = WebhookService(settings, db, fetcher, box, submit, forget)
    alerts = DownloadAlerts(settings, db, submit, forget)
    alerts.register_owner_lookup("file", file_owner)
    history = HistoryRecorder(db, GeoIP(settings.geoip_database), settings.history_flush_seconds)
    notifier = Notifier(cache, webhooks, alerts, history)
    return notifier


def _fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        connect_timeout=settings.fetch_connect_timeout,
        read_timeout=settings.fetch_read_timeout,
        max_concurrent=settings.fetch_max_concurrent,
        allowed_networks=tuple(settings.fetch_allowed_networks),
    )
