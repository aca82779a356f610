"""The job runner interface: what executes queued jobs.

Implementations: ``ThreadRunner`` (threads in this process, the embedded
default) and ``CeleryRunner`` (Celery workers on RabbitMQ or Redis).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pastefile.db.jobs import Job


class Runner(Protocol):
    """Executes queued jobs: in-process threads or Celery workers."""

    name: str

    def dispatch(self, job: Job) -> None:
        """Hand a queued job over to be run."""

    def cancel(self, job: Job) -> None: ...

    def close(self) -> None: ...


def worker_name() -> str:
    """This process as a runner names itself in a job row: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def node_name(pid: int | None = None) -> str:
    """A Celery worker's default node name: the pid keeps two workers on one host (one
    per queue, say) apart, since Celery gives each node name one exclusive control queue
    and a second worker of the same name never consumes."""
    return f"pastefile-{pid or os.getpid()}@{socket.gethostname()}"
