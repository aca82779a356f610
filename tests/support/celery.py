"""``pastefile worker`` processes on this machine's RabbitMQ and Redis, for system tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from pastefile.config import Settings
from pastefile.jobs.runners.base import node_name
from pastefile.jobs.runners.celery_app import make_celery, queue_names
from tests.support.jobs import ORIGIN_HOST, wait_for

BROKERS = {
    "rabbitmq": (
        "RabbitMQ",
        os.environ.get("PASTEFILE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"),
        5672,
    ),
    "redis": (
        "Redis",
        os.environ.get("PASTEFILE_TEST_REDIS_BROKER_URL", "redis://127.0.0.1:6379/13"),
        6379,
    ),
}
PASTEFILE = str(Path(sys.executable).with_name("pastefile"))


def reachable(port: int) -> str | None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError as exc:
        return str(exc)
    return None


class Worker:
    """A ``pastefile worker`` process group that can be started, stopped and killed."""

    def __init__(self, settings: Settings, log: Path, default_name: bool = False) -> None:
        self.settings = settings
        self.log = log
        self.default_name = default_name  # the name ``pastefile worker`` picks itself
        self.name = f"test-{uuid.uuid4().hex[:8]}@{socket.gethostname()}"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "APP_ENV": "testing",
            "PASTEFILE_DATABASE_URL": s.database_url,
            "PASTEFILE_STORAGE_URL": s.storage_url,
            "PASTEFILE_DATA_DIR": str(s.data_dir),
            "PASTEFILE_BROKER_URL": s.broker_url,
            "PASTEFILE_SECRET_KEY": s.secret_key,
            "PASTEFILE_FETCH_ALLOWED_NETWORKS": f"{ORIGIN_HOST}/32",
            "PASTEFILE_JOB_RETRY_BASE_SECONDS": "0.2",
            "PASTEFILE_JOB_RETRY_MAX_SECONDS": "0.5",
            "PASTEFILE_LOG_LEVEL": "INFO",
            "PASTEFILE_JOB_QUEUE_PREFIX": s.job_queue_prefix,
        }

    def start(self) -> None:
        command = [PASTEFILE, "worker", "--concurrency=2"]
        if not self.default_name:
            command.append(f"--hostname={self.name}")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.default_name:
            self.name = node_name(self.process.pid)
        app = make_celery(self.settings)
        try:
            wait_for(lambda: self._alive() and self._answers(app), 60)
        finally:
            app.close()

    def _answers(self, app: Any) -> bool:
        try:
            return bool(app.control.ping([self.name], timeout=0.5))
        except OSError:  # the broker is still coming up
            return False

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{self.log.read_text()[-3000:]}")
        return True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def delete_queues(settings: Settings) -> None:
    app = make_celery(settings)
    try:
        with app.connection_for_write() as connection:
            for name in queue_names(settings):
                connection.default_channel.queue_delete(name)
    finally:
        app.close()
