"""Abuse control for transforms: an allowlist of sizes or HMAC-signed URLs.

Signed URLs follow imgproxy/thumbor: ``sig`` is the unpadded base64url
HMAC-SHA256 of ``<public id>?<canonical params>`` under the first key of
``PASTEFILE_TRANSFORM_KEYS``; every key in the list verifies, so keys rotate
by adding the new one in front and dropping the old one later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from pastefile.config import Settings
from pastefile.errors import BadSignature, SignatureRequired, SizeNotAllowed
from pastefile.services.imaging.params import TransformRequest

# The sizes the service itself links to (the file card's thumbnails).
BUILTIN_SIZES = ("480x480", "960x960")


@dataclass(frozen=True)
class TransformPolicy:
    mode: str
    sizes: frozenset[str]
    keys: tuple[bytes, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> TransformPolicy:
        keys = [k.encode() for k in settings.transform_keys]
        if not keys:
            # No explicit keys: derive one, so the secret key itself never signs URLs.
            derived = hmac.new(settings.secret_key.encode(), b"pastefile-transform-v1", "sha256")
            keys = [derived.hexdigest().encode()]
        sizes = frozenset(settings.transform_sizes) | frozenset(BUILTIN_SIZES)
        return cls(settings.transform_policy, sizes, tuple(keys))

    def sign(self, public_id: str, request: TransformRequest) -> str:
        return _signature(self.keys[0], public_id, request)

    def check(self, public_id: str, request: TransformRequest, signature: str | None) -> None:
        """Raise a 403 error when the policy refuses this transform."""
        if self.mode == "allowlist" and request.size_label not in self.sizes:
            raise SizeNotAllowed(f"{request.size_label} is not an allowed size")
        if self.mode != "signed":
            return
        if not signature:
            raise SignatureRequired("add the sig parameter of a signed transform URL")
        given = signature.encode()
        for key in self.keys:
            if hmac.compare_digest(given, _signature(key, public_id, request).encode()):
                return
        raise BadSignature("the signature does not match these parameters")


def _signature(key: bytes, public_id: str, request: TransformRequest) -> str:
    message = f"{public_id}?{request.canonical()}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
