"""The public URLs of a file. The route shapes are the public contract."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from pastefile.db.models import File
from pastefile.services.filetypes import extension_for


@dataclass(frozen=True)
class Links:
    url_i: str
    url_d: str
    url_p: str
    url_s: str
    quoteurl: str


def build_links(file: File, base_url: str) -> Links:
    base = base_url.rstrip("/")
    raw = f"{base}/i/{file.public_id}.{extension_for(file.mimetype)}"
    return Links(
        url_i=raw,
        url_d=f"{base}/d/{file.public_id}",
        url_p=f"{base}/p/{file.public_id}",
        url_s=f"{base}/s/{file.short_code}",
        # quoteurl: the raw URL percent-encoded, ready for a query string.
        quoteurl=quote(raw, safe=""),
    )
