"""``GET /i/<id>/poster``: the poster frame the ``thumbnail`` job stored for a video.

Served like the image pipeline's variants (ETag, 304, Range, the raw sandbox), under
the same access rules as the file itself; 404 until the job has made one.
"""

from __future__ import annotations

from flask import Blueprint, Response

from pastefile.errors import NotFound
from pastefile.jobs.media import POSTER_KEY
from pastefile.web.access import resolve_file
from pastefile.web.context import services
from pastefile.web.serving import apply_cache_policy, send_rendition

bp = Blueprint("posters", __name__)


@bp.get("/i/<ident>/poster")
def poster(ident: str) -> Response:
    found = resolve_file(ident)
    rendition = services().images.cache.lookup(found.sha256, POSTER_KEY)
    if rendition is None:
        raise NotFound("this file has no poster frame; the thumbnail job makes one for videos")
    return apply_cache_policy(found, send_rendition(rendition))
