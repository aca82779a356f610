"""Progress bars on stderr (rich): bytes done, speed and time left."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

stderr = Console(stderr=True)


class Bars:
    """rich's Progress, started by the first bar: a command that fails before any transfer
    prints its one error line and nothing else (not even the empty display's newline)."""

    def __init__(self, quiet: bool) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=stderr,
            disable=quiet,
        )
        self.started = False

    def __enter__(self) -> Bars:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.started:
            self.progress.stop()

    def add_task(self, description: str, **fields: Any) -> TaskID:
        if not self.started:
            self.progress.start()
            self.started = True
        return self.progress.add_task(description, **fields)

    def advance(self, task: TaskID, count: float) -> None:
        self.progress.advance(task, count)

    def update(self, task: TaskID, **fields: Any) -> None:
        self.progress.update(task, **fields)


def bar(quiet: bool = False) -> Bars:
    return Bars(quiet)


def note(message: str) -> None:
    """A line on stderr for the user, never mixed into stdout's links."""
    stderr.print(message, highlight=False, markup=False, soft_wrap=True)
