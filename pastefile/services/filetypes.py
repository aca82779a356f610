"""What a file really is, decided from its bytes (libmagic); for text, a known
extension then chooses among the text types (``.md`` Markdown, ``.py`` Python)."""

from __future__ import annotations

import fnmatch
import mimetypes

from pastefile.errors import UnsupportedType

# Types a browser would execute or render as a document from our origin.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/x-shockwave-flash",
        "text/xsl",
        "application/wasm",
    }
)

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/svg+xml": "svg",
    "text/plain": "txt",
    "text/markdown": "md",
    "text/x-python": "py",
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/gzip": "gz",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "application/octet-stream": "bin",
}


# libmagic's names for text types, and the usual ones.
_TEXT_ALIASES = {"text/x-script.python": "text/x-python"}
# Text whose bytes look like another text type (a Markdown file with a <script> line
# reads as HTML, a short script as plain text) is what its extension says. Only text
# chooses, and only among these inert types: a name never makes anything active.
_TEXT_BY_EXTENSION = {"md": "text/markdown", "markdown": "text/markdown", "py": "text/x-python"}


def detect(head: bytes, filename: str | None = None) -> str:
    """The file's MIME type: libmagic's from the first bytes; for text, a known
    extension of ``filename`` chooses among the text types."""
    sniffed = _sniff(head)
    sniffed = _TEXT_ALIASES.get(sniffed, sniffed)
    if not sniffed.startswith("text/") or not filename:
        return sniffed
    _, dot, ext = filename.rpartition(".")
    return _TEXT_BY_EXTENSION.get(ext.lower(), sniffed) if dot else sniffed


def _sniff(head: bytes) -> str:
    if not head:
        return "application/x-empty"
    import magic  # loaded by the first upload, with libmagic's database

    detected = (magic.from_buffer(head, mime=True) or "application/octet-stream").lower()
    if detected == "application/x-dosexec" and not head.startswith(b"MZ"):
        # libmagic guesses "DOS .COM program" from a single opcode byte, which about
        # 1 in 80 random or encrypted files start with; only an MZ header is a real one.
        return "application/octet-stream"
    return detected


def is_active(mimetype: str) -> bool:
    """True for content that must never render inline from the app's origin."""
    return mimetype in ACTIVE_TYPES or mimetype.endswith(("+xml", "/xml"))


def extension_for(mimetype: str) -> str:
    """A URL extension derived from the detected type, never the client's name."""
    known = _EXTENSIONS.get(mimetype)
    if known:
        return known
    guessed = mimetypes.guess_extension(mimetype, strict=False)
    return guessed.lstrip(".") if guessed else "bin"


def check_allowed(mimetype: str, allowed: list[str], denied: list[str]) -> None:
    """Raise ``UnsupportedType`` when config refuses this type.

    Patterns may use shell wildcards (``image/*``). An empty allow list
    allows everything not denied.
    """
    if any(fnmatch.fnmatchcase(mimetype, pattern) for pattern in denied):
        raise UnsupportedType(f"files of type {mimetype} are not accepted here")
    if allowed and not any(fnmatch.fnmatchcase(mimetype, p) for p in allowed):
        raise UnsupportedType(f"files of type {mimetype} are not accepted here")
