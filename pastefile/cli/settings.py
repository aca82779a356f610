"""Loading the settings for a command, with errors a user can act on."""

from __future__ import annotations

import click
from pydantic import ValidationError

from pastefile.composition import Services, build_services
from pastefile.config import Settings, load_settings


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


def services() -> Services:
    """The parts of this process, built from the environment's settings."""
    return build_services(settings())


def require_ready(settings: Settings) -> None:
    """Refuse to start, saying why and what to do, when a part this process needs is not
    usable (``Readiness.require_ready``)."""
    built = build_services(settings)
    try:
        built.health.require_ready()
    finally:
        built.close()
