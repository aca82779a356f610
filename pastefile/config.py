"""Settings, read from ``PASTEFILE_*`` environment variables and ``.env``.

Validated once at start: a bad value stops the process with a message
naming the variable, instead of failing on the first request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import ByteSize, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-secret-change-me"  # noqa: S105 - public on purpose; production refuses it

CommaList = Annotated[list[str], NoDecode]

DEFAULT_DENIED_TYPES = [
    "application/x-dosexec",
    "application/x-msdownload",
    "application/x-executable",
    "application/x-sharedlib",
    "application/x-mach-binary",
]


class Settings(BaseSettings):
    """Every knob of the service. Field ``foo`` is ``PASTEFILE_FOO``."""

    model_config = SettingsConfigDict(
        env_prefix="PASTEFILE_", env_file=".env", extra="ignore", validate_default=True
    )

    app_env: Literal["development", "testing", "production"] = Field(
        "development", validation_alias="APP_ENV"
    )
    debug: bool = False
    data_dir: Path = Path("./var")
    database_url: str = ""
    storage_url: str = ""
    redis_url: str = ""
    # Scale-out: cache key prefix, S3 storage, observability; docs/operations.md.
    cache_prefix: str = Field("pf", pattern=r"^[A-Za-z0-9_.-]+$")
    cache_local_ttl: float = Field(0.5, gt=0, le=1.0)
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_presigned_downloads: bool = False
    s3_presign_seconds: int = Field(300, gt=0)
    sentry_dsn: str = ""
    log_json: bool = False
    broker_url: str = ""
    secret_key: str = DEFAULT_SECRET_KEY
    base_url: str = ""
    max_upload_size: ByteSize = ByteSize(512 * 1024 * 1024)
    allowed_types: CommaList = Field(default_factory=list)
    denied_types: CommaList = Field(default_factory=lambda: list(DEFAULT_DENIED_TYPES))
    max_image_pixels: int = Field(50_000_000, gt=0)
    max_resize_dimension: int = Field(8192, gt=0)
    # w x h above this is refused when it enlarges the source (a few KB of noise
    # scaled up to 8192x6103 is ~150 MB stored); shrinking is held to max_image_pixels.
    max_upscale_pixels: int = Field(16_000_000, gt=0)
    # The image pipeline (docs/images.md).
    max_animation_frames: int = Field(1, ge=1)
    variant_cache: bool = True
    max_variants_per_file: int = Field(32, ge=1)
    transform_policy: Literal["open", "allowlist", "signed"] = "open"
    transform_sizes: CommaList = Field(default_factory=list)
    transform_keys: CommaList = Field(default_factory=list)
    strip_gps: bool = False
    slow_query_ms: int = Field(200, ge=0)
    log_dir: Path | None = None
    log_level: str = "INFO"
    temp_max_age_seconds: int = Field(3600, gt=0)
    # Accounts, limits and the REST API; 0 means "no limit".
    allow_anonymous_uploads: bool = True
    open_registration: bool = True
    max_expiry_seconds: int = Field(365 * 86400, ge=0)
    retention_policy: Literal["none", "size"] = "none"
    retention_min_days: float = Field(30, gt=0)
    retention_max_days: float = Field(365, gt=0)
    user_quota_bytes: ByteSize = ByteSize(0)
    user_quota_files: int = Field(0, ge=0)
    api_rate_limit: str = "600/minute"
    login_rate_limit: str = "10/minute"
    password_rate_limit: str = "5/minute"  # noqa: S105 - a rate, not a secret
    # Uploads through POST / and PUT /<name> per client (the API has its own budget).
    upload_rate_limit: str = "120/minute"
    # Image variants rendered (cache misses) per client: each decodes an image.
    transform_rate_limit: str = "120/minute"
    # /r/ copies per client: each decodes an image and stores a new file.
    resize_rate_limit: str = "30/minute"
    tus_expiry_seconds: int = Field(86400, gt=0)

    # Background jobs: in-process threads, or Celery when a broker is set.
    # Time limits apply to Celery workers; a soft limit of 0 means none.
    job_workers: int = Field(2, gt=0)
    job_max_attempts: int = Field(3, gt=0)
    job_retry_base_seconds: float = Field(2.0, ge=0)
    job_retry_max_seconds: float = Field(300.0, ge=0)
    job_short_soft_limit: int = Field(60, ge=0)
    job_short_hard_limit: int = Field(90, gt=0)
    job_long_soft_limit: int = Field(900, ge=0)
    job_long_hard_limit: int = Field(960, gt=0)
    upload_jobs: CommaList = Field(default_factory=lambda: ["probe", "poster"])
    expire_sweep_seconds: int = Field(300, gt=0)
    gc_seconds: int = Field(3600, gt=0)
    gc_grace_seconds: int = Field(86400, ge=0)
    # The storage scrub (`pastefile check`, docs/operations.md): how often the job re-hashes
    # every blob (0: never), its read rate in bytes/s (0: unbounded), and whether it repairs.
    scrub_seconds: int = Field(86400, ge=0)
    scrub_max_bytes_per_second: ByteSize = ByteSize(16 * 1024 * 1024)
    scrub_repair: bool = False
    # gc deletes finished job rows older than these (days); failed ones stay longer for
    # whoever investigates them. 0 keeps them forever.
    job_retention_days: int = Field(30, ge=0)
    job_failed_retention_days: int = Field(90, ge=0)
    broker_visibility_timeout: int = Field(3600, gt=0)
    # Prefix of the Celery queue names, so deployments (or test runs) can share a broker.
    job_queue_prefix: str = Field("", pattern=r"^[A-Za-z0-9_.-]*$")
    fetch_connect_timeout: float = Field(5.0, gt=0)
    fetch_read_timeout: float = Field(30.0, gt=0)
    fetch_max_concurrent: int = Field(4, gt=0)
    fetch_allowed_networks: CommaList = Field(default_factory=list)
    # Behind nginx (deploy/, docs/operations.md): how many proxies in front of the app to
    # trust for X-Forwarded-For/-Proto/-Host (0: none, the peer is the client), and the
    # internal location that /i/ and /d/ hand local files to (X-Accel-Redirect; "": the
    # app sends the bytes itself).
    # `pastefile serve` in production (docs/security.md, slow clients): seconds a client has
    # to send its request line, headers and a small body; the longest pause in a body; and
    # the slowest body rate (bytes/s) kept after that pause's worth of grace.
    client_header_timeout: float = Field(10.0, gt=0)
    client_body_timeout: float = Field(30.0, gt=0)
    client_min_rate: int = Field(1024, gt=0)
    trusted_proxies: int = Field(0, ge=0, le=5)
    accel_redirect_prefix: str = Field("", pattern=r"^(/[A-Za-z0-9_.-]+)*$")

    # Statistics and reports (docs/stats.md).
    stats_enabled: bool = True
    stats_flush_seconds: float = Field(2.0, gt=0, le=60)
    stats_redis_prefix: str = Field("pastefile:stats:", pattern=r"^[A-Za-z0-9_.:-]*$")
    stats_max_range_days: int = Field(366, gt=0)
    smtp_host: str = ""
    smtp_port: int = Field(587, gt=0, le=65535)
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = Field(30.0, gt=0)
    report_from: str = "pastefile@localhost"
    report_to: str = ""  # comma list of addresses for the scheduled report
    report_period: Literal["daily", "weekly"] = "weekly"
    report_every_seconds: int = Field(0, ge=0)  # 0: no scheduled report

    # Notifications (docs/collections.md): webhooks, download alerts, download history.
    webhook_max_attempts: int = Field(6, gt=0, le=20)  # per delivery, with backoff
    webhook_max_failures: int = Field(10, gt=0)  # failed attempts in a row disable an endpoint
    notify_digest_seconds: int = Field(3600, gt=0)  # at most one digest mail per this
    notify_digest_check_seconds: int = Field(300, gt=0)  # how often the digest job runs
    history_flush_seconds: float = Field(5.0, gt=0, le=300)
    geoip_database: Path | None = None  # a MaxMind .mmdb (GeoLite2-Country); none: no country

    @field_validator(
        "allowed_types", "denied_types", "upload_jobs", "fetch_allowed_networks", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("transform_sizes", "transform_keys", mode="before")
    @classmethod
    def _split_plain(cls, value: object) -> object:
        # Keys are case-sensitive, so unlike the type lists these keep their case.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'pastefile.db').resolve()}"
        if not self.storage_url:
            self.storage_url = f"file://{(self.data_dir / 'files').resolve()}"
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env != "production":
            return self
        if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 16:
            raise ValueError(
                "APP_ENV=production refuses to start: set PASTEFILE_SECRET_KEY to a "
                "random value of at least 16 characters (the default key is public)"
            )
        if self.debug:
            raise ValueError(
                "APP_ENV=production refuses to start with PASTEFILE_DEBUG on: "
                "the debugger lets anyone run code on the server"
            )
        return self


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
