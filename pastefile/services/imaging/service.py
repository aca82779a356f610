"""The image pipeline as the adapters see it: render, thumbnails, upload probes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.errors import NotAnImage
from pastefile.ratelimit import RateLimiter, spend
from pastefile.services.blobs import BlobStore
from pastefile.services.imaging.engines.base import RESIZABLE_TYPES, Encoded, ImageEngine, Limits
from pastefile.services.imaging.params import (
    SIGNATURE_ARG,
    RenderSpec,
    TransformRequest,
    parse_request,
    resolve,
)
from pastefile.services.imaging.signing import TransformPolicy
from pastefile.services.imaging.variants import Rendition, VariantCache
from pastefile.singleflight import SingleFlight

# The file card's preview box, and the larger boxes of its srcset (wide columns, dense screens).
CARD_BOX = 480
CARD_BOXES = (CARD_BOX, CARD_BOX * 2, CARD_BOX * 4)


@dataclass(frozen=True)
class Thumbnail:
    src: str
    srcset: str


class ImageService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        blobs: BlobStore,
        engine: ImageEngine,
        limiter: RateLimiter,
    ) -> None:
        self.settings = settings
        self.storage = blobs.storage
        self.engine = engine
        self.limiter = limiter
        self.policy = TransformPolicy.from_settings(settings)
        self.cache = VariantCache(db, blobs, settings.max_variants_per_file)
        self.flights: SingleFlight[Rendition] = SingleFlight()
        self.limits = Limits(settings.max_image_pixels)

    def render(self, file: File, query: Mapping[str, str], client: str | None = None) -> Rendition:
        """The derived image ``query`` asks for: from the cache, or made once.

        ``client`` (an address) spends its budget on variants that must be rendered;
        None is the service itself (the thumbnail job), which has none.
        """
        request = parse_request(
            query, self.settings.max_resize_dimension, self.settings.max_image_pixels
        )
        self.policy.check(file.public_id, request, query.get(SIGNATURE_ARG))
        if file.mimetype not in RESIZABLE_TYPES:
            raise NotAnImage(f"cannot transform a file of type {file.mimetype}")
        spec = resolve(request, file.mimetype, self.settings.max_animation_frames)
        if self.settings.variant_cache:
            hit = self.cache.lookup(file.sha256, spec.key)
            if hit is not None:
                return hit
        if client is not None:
            self._spend(client)
        return self.flights.do((file.sha256, spec.key), lambda: self._make(file.sha256, spec))

    def _spend(self, client: str) -> None:
        """A variant not in the cache costs a decode: each client has a budget of them."""
        rate = self.settings.transform_rate_limit
        spend(self.limiter, rate, "transform", client, refusal=f"more than {rate} new variants")

    def _make(self, source_sha256: str, spec: RenderSpec) -> Rendition:
        encoded = self.encode(source_sha256, spec)
        if self.settings.variant_cache:
            return self.cache.store(source_sha256, spec.key, encoded)
        return _in_memory(encoded)

    def encode(self, source_sha256: str, spec: RenderSpec) -> Encoded:
        """Run the engine on a stored blob: by path when the storage has one."""
        path = self.storage.local_path(source_sha256)
        if path is not None:
            return self.engine.render(path, spec, self.limits)
        with self.storage.open(source_sha256) as stream:
            return self.engine.render(stream, spec, self.limits)

    def signed_query(self, public_id: str, request: TransformRequest) -> str:
        """The query string of a transform URL that passes the configured policy."""
        query = request.canonical()
        if self.policy.mode == "signed":
            query += f"&{SIGNATURE_ARG}={self.policy.sign(public_id, request)}"
        return query

    def card_thumbnail(self, file: File, raw_url: str) -> Thumbnail | None:
        """A pipeline thumbnail for the file card, when it would be smaller than the original."""
        if not (file.width and file.height) or file.mimetype not in RESIZABLE_TYPES:
            return None
        if file.width * file.height > self.settings.max_image_pixels:
            return None
        if max(file.width, file.height) <= CARD_BOX:
            return None
        # ``w`` descriptors with each candidate's real width, so the browser picks by the
        # slot's width (``sizes``) and density; the original closes the list.
        longest = max(file.width, file.height)
        candidates: list[str] = []
        for box in (b for b in CARD_BOXES if b < longest):
            query = self.signed_query(file.public_id, TransformRequest(w=box, h=box, fit="inside"))
            candidates.append(f"{raw_url}?{query} {round(file.width * box / longest)}w")
        candidates.append(f"{raw_url} {file.width}w")
        return Thumbnail(src=candidates[0].rsplit(" ", 1)[0], srcset=", ".join(candidates))


def _in_memory(encoded: Encoded) -> Rendition:
    sha = hashlib.sha256(encoded.data).hexdigest()
    return Rendition(
        sha, encoded.mimetype, len(encoded.data), encoded.width, encoded.height, encoded.data
    )
