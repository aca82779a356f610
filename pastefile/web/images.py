"""Serving derived images: conditional, cacheable and sandboxed like the originals."""

from __future__ import annotations

from flask import Response, request
from werkzeug.wsgi import wrap_file

from pastefile.services.imaging.variants import Rendition
from pastefile.web.responses import RAW_CSP

# Like the originals: short enough that a deleted file stops being served soon.
MAX_AGE = 300


def send_rendition(rendition: Rendition) -> Response:
    """The variant's bytes with ETag = its sha256, Range and 304 support."""
    if rendition.stream is not None:
        body: object = wrap_file(request.environ, rendition.stream)
    else:
        body = rendition.data
    response = Response(body, mimetype=rendition.mimetype, direct_passthrough=True)  # type: ignore[arg-type]
    if rendition.stream is not None:
        response.call_on_close(rendition.stream.close)
    response.content_length = rendition.size
    response.set_etag(rendition.sha256)
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.headers["Content-Security-Policy"] = RAW_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Image-Size"] = f"{rendition.width}x{rendition.height}"
    response.make_conditional(request, accept_ranges=True, complete_length=rendition.size)
    return response
