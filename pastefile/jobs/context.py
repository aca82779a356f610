"""What a job handler gets: its parameters, the services, and a progress line home."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pastefile.db.jobs import Job
from pastefile.db.models import File
from pastefile.errors import NotFound

if TYPE_CHECKING:
    from pastefile.composition import Services
    from pastefile.jobs.service import JobService


# True while a job handler runs: uploads it makes start no jobs of their own.
inside_job: ContextVar[bool] = ContextVar("inside_job", default=False)


class JobCancelled(Exception):
    """Raised inside a handler when its job was cancelled meanwhile."""


class FileGone(NotFound):
    """The job's file was deleted before the job got to it: the job is no longer needed."""


# Progress is written at most this often, unless it reaches 100.
_PROGRESS_INTERVAL = 0.5


@dataclass
class JobContext:
    job: Job
    services: Services
    _last_write: float = field(default=0.0)

    @property
    def jobs(self) -> JobService:
        return self.services.jobs

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.job.params or {})

    def file(self) -> File:
        """The file this job works on; FileGone when it was deleted meanwhile (deleting a
        file empties its jobs' ``file_id``: only file jobs ask for their file)."""
        if self.job.file_id is None:
            raise FileGone("the job's file was deleted")
        with self.services.db.read() as session:
            found = session.get(File, self.job.file_id)
        if found is None:
            raise FileGone("the job's file was deleted")
        return found

    def progress(self, percent: int, message: str = "") -> None:
        """Report progress; raises ``JobCancelled`` when the job is no longer running."""
        now = time.monotonic()
        if percent < 100 and now - self._last_write < _PROGRESS_INTERVAL:
            return
        self._last_write = now
        if not self.jobs.progress(self.job.id, percent, message):
            raise JobCancelled(f"job {self.job.id} was cancelled")


Handler = Callable[[JobContext], dict[str, Any]]
