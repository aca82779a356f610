"""``GET /i/<id>`` (the bytes, or an image variant with ``?w=&h=…``),
``GET /d/<id>`` (as a download) and ``GET /i/<id>/poster`` (a video's poster frame).

All under the file's read rules (pastefile/web/access.py) and sent by
pastefile/web/serving.py: sandboxed, conditional, with Range.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from pastefile.db.models import File
from pastefile.errors import NotFound, PasswordRequired
from pastefile.jobs.media import POSTER_KEY
from pastefile.services.imaging.params import wants_transform
from pastefile.web.access import counted, resolve_file, strip_ext
from pastefile.web.context import services
from pastefile.web.negotiation import wants_html
from pastefile.web.public.preview import password_form
from pastefile.web.serving import apply_cache_policy, send_rendition, send_stored

bp = Blueprint("files", __name__)


def _resolve(ident: str, then: str) -> File | Response:
    """The file; for a browser opening a password-protected one, the password form,
    which comes back here (``then``: raw or download) once it is unlocked."""
    try:
        return resolve_file(strip_ext(ident))
    except PasswordRequired as exc:
        if not wants_html():
            raise
        return password_form(strip_ext(ident), exc, then=then)


@bp.get("/i/<ident>")
def raw(ident: str) -> Response:
    svc = services()
    found = _resolve(ident, "raw")
    if isinstance(found, Response):
        return found
    if wants_transform(request.args):
        # ?w=&h=&fit=&fmt=&q=: a derived image from the pipeline (docs/images.md).
        rendition = svc.images.render(found, request.args, request.remote_addr or "-")
        return apply_cache_policy(found, counted(found, send_rendition(rendition)))
    sent = send_stored(found, svc.storage, as_attachment=False)
    return apply_cache_policy(found, counted(found, sent))


@bp.get("/d/<ident>")
def download(ident: str) -> Response:
    found = _resolve(ident, "download")
    if isinstance(found, Response):
        return found
    sent = send_stored(found, services().storage, as_attachment=True)
    return apply_cache_policy(found, counted(found, sent))


@bp.get("/i/<ident>/poster")
def poster(ident: str) -> Response:
    """The frame the ``thumbnail`` job stored for a video; 404 until it made one."""
    found = resolve_file(ident)
    rendition = services().images.cache.lookup(found.sha256, POSTER_KEY)
    if rendition is None:
        raise NotFound("this file has no poster frame; the thumbnail job makes one for videos")
    return apply_cache_policy(found, counted(found, send_rendition(rendition)))
