"""Loading the settings for a command, with errors a user can act on."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click
from pydantic import ValidationError

from pastefile.config import Settings, load_settings
from pastefile.errors import NotReady

if TYPE_CHECKING:
    from pastefile.composition import Services


def settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        raise click.ClickException(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        lines.append(f"  {_variable(error['loc'])}: {error['msg']}")
    return "\n".join(lines)


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable an error is about, as the user spells it."""
    if not loc:
        return "settings"
    field = str(loc[0])
    # A field with its own alias (APP_ENV) reports the variable's name already.
    return f"PASTEFILE_{field.upper()}" if field in Settings.model_fields else field


def build(settings: Settings) -> Services:
    """The parts of this process (the composition root, imported only by the commands
    that need it)."""
    from pastefile.composition import build_services

    return build_services(settings)


def services() -> Services:
    """The parts of this process, built from the environment's settings."""
    return build(settings())


def require_ready(settings: Settings) -> None:
    """Refuse to start, saying why and what to do, when a part this process needs is not
    usable (``Readiness.require_ready``)."""
    built = build(settings)
    try:
        built.health.require_ready()
    finally:
        built.close()


def ready_apart(settings: Settings) -> None:
    """``require_ready``, then send the queued jobs no broker ever got, in a forked child.

    For a Celery worker's main process, which only supervises its pool: building the
    parts to check them would leave every database and service module in it (and in
    each pool process forked from it) for good. The child says why it refused."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child, measured by its exit status
        os.close(read)
        os._exit(_ready_child(settings, write))
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        said = pipe.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise NotReady(said or "pastefile cannot start: the readiness check failed")


def _ready_child(settings: Settings, write: int) -> int:
    with os.fdopen(write, "wb") as pipe:
        try:
            built = build(settings)
            try:
                built.health.require_ready()
                for job in built.jobs.undispatched():
                    built.jobs.redispatch(job)
            finally:
                built.close()
        except NotReady as exc:
            pipe.write(exc.detail.encode("utf-8"))
            return 1
        except Exception as exc:  # the parent refuses to start, saying why
            pipe.write(f"pastefile cannot start: {exc.__class__.__name__}: {exc}".encode())
            return 2
    return 0
