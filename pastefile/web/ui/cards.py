"""What the file card shows for each kind of file: highlighted text, sanitized
Markdown, an archive's entries, a QR code of the short link, relative times.

Everything here reads at most a bounded head of the stored bytes.
"""

from __future__ import annotations

import functools
import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from pastefile.db.models import File
from pastefile.jobs.media import POSTER_KEY
from pastefile.storage.base import Storage
from pastefile.web.context import services

TEXT_LIMIT = 256 * 1024  # bytes of a text file the card highlights
ARCHIVE_LIMIT = 64 * 1024 * 1024  # archives larger than this are not opened
ARCHIVE_ENTRIES = 200
TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/x-sh")
MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")
ARCHIVE_TYPES = {
    "application/zip": "zip",
    "application/x-tar": "tar",
    "application/gzip": "tar",
    "application/x-gzip": "tar",
    "application/x-bzip2": "tar",
    "application/x-xz": "tar",
    "application/x-compressed-tar": "tar",
}
# Images a browser shows in <img>; other image types (TGA, PSD, TIFF…) get the icon.
WEB_IMAGES = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
    "image/x-icon", "image/vnd.microsoft.icon", "image/apng",
}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    name: str
    size: int


def kind_of(file: File) -> str:
    """image, video, audio, pdf, markdown, text, archive or other."""
    mime, name = file.mimetype, file.filename.lower()
    if mime in WEB_IMAGES:
        return "image"
    if mime.startswith(("video/", "audio/")):
        return mime.split("/", 1)[0]
    if mime == "application/pdf":
        return "pdf"
    if mime in MARKDOWN_TYPES or name.endswith((".md", ".markdown")):
        return "markdown"
    if mime in ARCHIVE_TYPES or name.endswith((".zip", ".tar", ".tar.gz", ".tgz")):
        return "archive"
    if mime.startswith("text/") or mime in TEXT_TYPES or mime == "image/svg+xml":
        return "text"
    return "other"


def icon_for(file: File) -> str:
    """A short label for the file's icon: its extension, else its MIME type's first part."""
    _, dot, ext = file.filename.rpartition(".")
    if dot and 0 < len(ext) <= 5 and ext.isalnum():
        return ext.upper()
    return file.mimetype.split("/", 1)[0].upper()[:5]


def read_head(storage: Storage, file: File, limit: int | None = None) -> tuple[str, bool]:
    """The first ``limit`` (TEXT_LIMIT) bytes as text, and whether the file was cut."""
    limit = limit or TEXT_LIMIT
    with storage.open(file.sha256) as stream:
        data = stream.read(limit + 1)
    return data[:limit].decode("utf-8", errors="replace"), len(data) > limit


def highlighted(text: str, file: File) -> Markup:
    """Pygments HTML with line numbers; the lexer from the name, then the type."""
    # Pygments, markdown-it and segno load on first use: together they are
    # ~25 MB that a worker which only moves bytes never needs.
    from pygments import highlight
    from pygments.formatters.html import HtmlFormatter

    formatter = HtmlFormatter(linenos="table", cssclass="code", wrapcode=True)
    return Markup(highlight(text, _lexer(file), formatter))  # noqa: S704 - Pygments escapes


def _lexer(file: File) -> Any:
    from pygments.lexers import get_lexer_for_filename, get_lexer_for_mimetype
    from pygments.lexers.special import TextLexer
    from pygments.util import ClassNotFound

    try:
        return get_lexer_for_filename(file.filename, stripnl=False)
    except ClassNotFound:
        pass
    try:
        return get_lexer_for_mimetype(file.mimetype, stripnl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False)


def language_name(file: File) -> str | None:
    """The language the card names ("Python", "Markdown"); None for plain text."""
    lexer = _lexer(file)
    return None if lexer.name == "Text only" else str(lexer.name)


def pygments_css() -> str:
    from pygments.formatters.html import HtmlFormatter

    # xcode: every token colour at least 5:1 on its background (WCAG AA for 13 px text).
    light = HtmlFormatter(style="xcode").get_style_defs(".code")
    dark = HtmlFormatter(style="monokai").get_style_defs(".code")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def rendered_markdown(text: str) -> Markup:
    """CommonMark without raw HTML, then nh3's allowlist: no scripts, no handlers."""
    import nh3  # loaded by the first Markdown card, not by every worker (~1.5 MB)

    html = _markdown().render(text)
    clean = nh3.clean(html, link_rel="nofollow noopener noreferrer")
    return Markup(clean)  # noqa: S704 - raw HTML off, then nh3's allowlist


def archive_entries(storage: Storage, file: File) -> tuple[list[Entry], bool] | None:
    """Up to ARCHIVE_ENTRIES entries and whether there are more; None if unreadable."""
    import tarfile  # loaded by the first archive's card, not by every worker

    if file.size > ARCHIVE_LIMIT:
        return None
    with storage.open(file.sha256) as stream:
        data = io.BytesIO(stream.read(ARCHIVE_LIMIT + 1))
    try:
        return _zip_entries(data) if zipfile.is_zipfile(data) else _tar_entries(data)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError):
        return None


def _zip_entries(data: io.BytesIO) -> tuple[list[Entry], bool]:
    with zipfile.ZipFile(data) as archive:
        infos = archive.infolist()
    entries = [Entry(i.filename, i.file_size) for i in infos[:ARCHIVE_ENTRIES]]
    return entries, len(infos) > ARCHIVE_ENTRIES


def _tar_entries(data: io.BytesIO) -> tuple[list[Entry], bool]:
    import tarfile

    data.seek(0)
    entries: list[Entry] = []
    with tarfile.open(fileobj=data, mode="r:*") as archive:
        for member in archive:
            if len(entries) == ARCHIVE_ENTRIES:
                return entries, True
            entries.append(Entry(member.name + ("/" if member.isdir() else ""), member.size))
    return entries, False


def qr_svg(url: str) -> Markup:
    """Our own SVG markup of the short link, inlined (never served as a file)."""
    import segno

    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=3, dark="#000", light="#fff", omitsize=False)
    return Markup(svg)  # noqa: S704 - segno's own markup; the URL is only encoded as modules


def relative_time(moment: datetime, now: datetime | None = None) -> tuple[int, str]:
    """(amount, unit) for "n units ago": unit is seconds, minutes, hours or days."""
    now = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = max(0, int((now - moment).total_seconds()))
    for size, unit in ((86400, "days"), (3600, "hours"), (60, "minutes")):
        if seconds >= size:
            return seconds // size, unit
    return seconds, "seconds"


def body_context(file: File, storage: Storage) -> dict[str, Any]:
    """The kind-specific part of the card: what the preview area shows."""
    kind = kind_of(file)
    context: dict[str, Any] = {"kind": kind, "icon": icon_for(file)}
    if kind in ("text", "markdown"):
        text, cut = read_head(storage, file)
        context["truncated"] = cut
        context["code"] = highlighted(text, file)
        context["language"] = language_name(file)
        if kind == "markdown":
            context["markdown"] = rendered_markdown(text)
    elif kind == "archive":
        listing = archive_entries(storage, file)
        context["entries"], context["more_entries"] = listing or ([], False)
    context["ago"] = relative_time(file.created_at)
    return context


def poster_url(file: File, raw_url: str) -> str | None:
    """The video's poster frame, once the thumbnail job made one."""
    if not file.mimetype.startswith("video/"):
        return None
    found = services().images.cache.lookup(file.sha256, POSTER_KEY)
    if found is None:
        return None
    if found.stream is not None:
        found.stream.close()
    return f"{raw_url}/poster"
