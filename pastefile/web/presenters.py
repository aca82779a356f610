"""How a file looks to clients: the public JSON fields and the card's context."""

from __future__ import annotations

from typing import Any

from flask import Response
from markupsafe import Markup, escape

from pastefile.db.models import File
from pastefile.errors import PasteFileError
from pastefile.services.access import Caller
from pastefile.services.file_rules import Guarded
from pastefile.services.humanize import humanize_bytes
from pastefile.services.imaging.exif import summary_from_json
from pastefile.services.imaging.service import Thumbnail
from pastefile.services.links import build_links
from pastefile.services.policy import MAX_DOWNLOADS, MAX_PASSWORD
from pastefile.web.auth import current_principal
from pastefile.web.context import base_url, services
from pastefile.web.ui.cards import body_context, icon_for, kind_of, poster_url, qr_svg

# The edit forms' bounds (a file's card, a collection's page): the upload options' own.
EDIT_LIMITS = {"max_downloads": MAX_DOWNLOADS, "password": MAX_PASSWORD}


def file_json(file: File, base_url: str) -> dict[str, Any]:
    links = build_links(file, base_url)
    body: dict[str, Any] = {
        "id": file.public_id,
        "filename": file.filename,
        "size": humanize_bytes(file.size),
        "bytes": file.size,
        "time": file.created_at.isoformat(timespec="seconds"),
        "type": file.mimetype.split("/", 1)[0],
        "mimetype": file.mimetype,
        "sha256": file.sha256,
        "url_i": links.url_i,
        "url_d": links.url_d,
        "url_p": links.url_p,
        "url_s": links.url_s,
        "quoteurl": links.quoteurl,
        "encrypted": bool(file.encrypted),
    }
    if file.width and file.height:
        body["image_size"] = [file.width, file.height]
    if file.exif:
        body["exif"] = summary_from_json(file.exif)
    return body


def card_context(file: File, base_url: str) -> dict[str, Any]:
    data = file_json(file, base_url)
    raw, name = data["url_i"], escape(file.filename)
    is_image = kind_of(file) == "image"  # one a browser shows in <img>
    snippets = {
        "URL": raw,
        "Markdown": f"![{file.filename}]({raw})" if is_image else f"[{file.filename}]({raw})",
        "HTML": str(
            Markup('<img src="{}" alt="{}">').format(raw, name)
            if is_image
            else Markup('<a href="{}">{}</a>').format(raw, name)
        ),
        "BBCode": f"[img]{raw}[/img]" if is_image else f"[url={raw}]{file.filename}[/url]",
    }
    return {
        "file": file,
        "data": data,
        "is_image": is_image,
        "can_manage": can_manage(file),
        "badges": visibility_badges(file),
        "snippets": snippets,
        "thumb": _thumbnail(file, raw) if is_image else None,
        "exif": summary_from_json(file.exif),
        "qr": qr_svg(data["url_s"]),
        "poster": poster_url(file, raw),
        "edit_limits": EDIT_LIMITS,
        **body_context(file, services().storage),
    }


def can_manage(item: Guarded, noun: str = "file") -> bool:
    """Whether the signed-in viewer may edit and delete ``item``, a file or a collection
    (the service's rule)."""
    who = current_principal()
    if who is None:
        return False
    try:
        services().access.check_manage(item, Caller(principal=who), "delete", noun)
    except PasteFileError:
        return False
    return True


def visibility_badges(file: File) -> list[str]:
    """What restricts who sees the file: ``private``, ``unlisted``, ``password``."""
    badges = [file.visibility] if file.visibility != "public" else []
    return badges + (["password"] if file.password_hash else [])


def result_context(file: File, base_url: str) -> dict[str, Any]:
    """One compact row of the upload page's results."""
    data = file_json(file, base_url)
    thumb = None
    if kind_of(file) == "image":
        found = _thumbnail(file, data["url_i"])
        thumb = found.src if found else data["url_i"]
    return {"file": file, "data": data, "thumb": thumb, "icon": icon_for(file)}


def _thumbnail(file: File, raw_url: str) -> Thumbnail | None:
    """The card shows a small pipeline thumbnail instead of the full original."""
    return services().images.card_thumbnail(file, raw_url)


def with_location(response: Response, file: File) -> Response:
    """``Location``: the file's preview page, as upload responses name it."""
    response.headers["Location"] = f"{base_url()}/p/{file.public_id}"
    return response
