"""Image engines: what decodes, transforms and encodes pixels (libvips today).

``image_engine_from_settings`` gives the engine a process uses. libvips loads
on the first image, not in every process that merely builds its services.
"""

from __future__ import annotations

from collections.abc import Callable

from pastefile.config import Settings
from pastefile.services.imaging.engines.base import (
    Encoded,
    ImageEngine,
    ImageInfo,
    ImageSource,
    Limits,
)
from pastefile.services.imaging.params import RenderSpec

__all__ = ["ENGINES", "DeferredEngine", "ImageEngine", "image_engine_from_settings"]


def _vips() -> ImageEngine:
    from pastefile.services.imaging.engines.vips import VipsEngine

    return VipsEngine()


# Every implementation, by name; the contract test runs against each.
ENGINES: dict[str, Callable[[], ImageEngine]] = {"vips": _vips}


class DeferredEngine(ImageEngine):
    """An engine made on first use, so importing and wiring stay cheap."""

    def __init__(self, factory: Callable[[], ImageEngine]) -> None:
        self._factory = factory
        self._engine: ImageEngine | None = None

    @property
    def engine(self) -> ImageEngine:
        if self._engine is None:
            self._engine = self._factory()
            self.name = self._engine.name
        return self._engine

    def probe(self, source: ImageSource) -> ImageInfo:
        return self.engine.probe(source)

    def render(self, source: ImageSource, spec: RenderSpec, limits: Limits) -> Encoded:
        return self.engine.render(source, spec, limits)

    def reencode_clean(self, source: ImageSource, fmt: str, limits: Limits) -> Encoded:
        return self.engine.reencode_clean(source, fmt, limits)


def image_engine_from_settings(settings: Settings) -> ImageEngine:
    """The one engine of this process (libvips), loaded when the first image needs it."""
    return DeferredEngine(ENGINES["vips"])
