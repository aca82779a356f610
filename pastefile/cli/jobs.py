"""``pastefile worker`` and ``pastefile beat``.

With ``PASTEFILE_BROKER_URL`` set, ``worker`` is a Celery worker on the short
and long queues and ``beat`` sends the periodic jobs. Without a broker,
``worker`` runs the in-process runner on its own (threads, plus the leader
scheduler), for deployments that want jobs out of the web processes.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from pastefile import malloc
from pastefile.cli.settings import build, ready_apart, require_ready
from pastefile.cli.settings import settings as _settings
from pastefile.config import Settings, load_settings
from pastefile.jobs.queues import QUEUES
from pastefile.jobs.runners.base import node_name


@click.command()
@click.option("--queues", default=",".join(QUEUES), show_default=True, help="Celery queues")
@click.option("--concurrency", type=int, default=None, help="processes (Celery) or threads")
@click.option("--loglevel", default="INFO", show_default=True)
@click.option("--hostname", default=None, help="Celery node name (default: pastefile-<pid>@<host>)")
def worker(queues: str, concurrency: int | None, loglevel: str, hostname: str | None) -> None:
    """Run background jobs: a Celery worker, or the in-process runner without a broker."""
    # Before any thread starts (Celery's, libvips's); pool processes inherit it.
    malloc.tune()
    settings = _settings()
    if not settings.broker_url:
        require_ready(settings)
        _thread_worker(settings, concurrency)
        return
    ready_apart(settings)
    from pastefile.jobs.runners.celery_app import make_celery
    from pastefile.logging_setup import configure_logging

    configure_logging(loglevel, settings.log_dir)
    names = ",".join(settings.job_queue_prefix + q.strip() for q in queues.split(","))
    argv = ["worker", f"--queues={names}", f"--loglevel={loglevel}"]
    argv.append(f"--hostname={hostname or node_name()}")
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    # Each pool process builds its parts as it starts; the main process never does.
    make_celery(settings, build).worker_main(argv)


def _thread_worker(settings: Settings, concurrency: int | None) -> None:
    from pastefile.logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_dir)
    if concurrency:
        settings = load_settings(**{**settings.model_dump(), "job_workers": concurrency})
    services = build(settings)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    services.jobs.start()
    click.echo(f"pastefile worker (threads: {settings.job_workers}) started")
    stop.wait()
    services.close()


@click.command()
@click.option("--loglevel", default="INFO", show_default=True)
def beat(loglevel: str) -> None:
    """Send the periodic jobs (expiry sweep, GC) to the Celery workers."""
    settings = _settings()
    if not settings.broker_url:
        raise click.ClickException(
            "beat needs PASTEFILE_BROKER_URL; without a broker every process schedules "
            "periodic jobs itself, and one leader among them runs each tick"
        )
    require_ready(settings)
    from pastefile.jobs.runners.celery_app import make_celery

    schedule = settings.data_dir / "celerybeat-schedule"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    make_celery(settings).start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule}"])
