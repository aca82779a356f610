"""``probe`` and ``thumbnail``: what is in a file, and a small picture of it.

Images use Pillow (header only for sizes); audio and video use ffprobe and
ffmpeg when they are installed and are skipped, with a note, when not; PDFs
are counted with pypdf.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from PIL import ExifTags, Image, UnidentifiedImageError
from sqlalchemy import update

from pastefile.db.models import File
from pastefile.errors import NotAnImage
from pastefile.jobs.context import JobContext
from pastefile.services import images

POSTER_KEY = "poster-v1"
_EXIF_FIELDS = ("Make", "Model", "DateTime", "Orientation", "Software", "LensModel")
_FFPROBE_TIMEOUT = 60


def probe(ctx: JobContext) -> dict[str, Any]:
    file = ctx.file()
    ctx.progress(10, "probing")
    with _local_copy(ctx, file) as path:
        info: dict[str, Any] = {"mimetype": file.mimetype, "size": file.size}
        if file.mimetype in images.RESIZABLE_TYPES:
            info.update(_probe_image(path))
        elif file.mimetype.startswith(("audio/", "video/")):
            info.update(_probe_media(path))
        elif file.mimetype == "application/pdf":
            info.update(_probe_pdf(path))
    ctx.progress(90, "saving")
    _save_dimensions(ctx, file, info)
    return info


def _probe_image(path: Path) -> dict[str, Any]:
    try:
        with Image.open(path) as im:
            exif = im.getexif()
            summary = {
                name: str(exif[tag])[:100]
                for tag, name in ExifTags.TAGS.items()
                if name in _EXIF_FIELDS and tag in exif
            }
            if exif.get_ifd(ExifTags.IFD.GPSInfo):
                summary["GPS"] = "present"
            return {"width": im.width, "height": im.height, "format": im.format, "exif": summary}
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return {"error": f"not a readable image: {exc.__class__.__name__}"}


def _probe_media(path: Path) -> dict[str, Any]:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return {"skipped": "ffprobe is not installed"}
    command = [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    done = subprocess.run(  # noqa: S603 - fixed arguments, our own temp path
        [*command, str(path)], capture_output=True, timeout=_FFPROBE_TIMEOUT, check=False
    )
    if done.returncode != 0:
        return {"error": done.stderr.decode(errors="replace")[:500]}
    return _media_summary(json.loads(done.stdout or b"{}"))


def _media_summary(data: dict[str, Any]) -> dict[str, Any]:
    streams = data.get("streams", [])
    summary: dict[str, Any] = {
        "duration": float(data.get("format", {}).get("duration", 0) or 0),
        "codecs": [s.get("codec_name") for s in streams if s.get("codec_name")],
    }
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video:
        summary["width"], summary["height"] = video.get("width"), video.get("height")
    return summary


def _probe_pdf(path: Path) -> dict[str, Any]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return {"pages": len(PdfReader(str(path)).pages)}
    except (PyPdfError, OSError, ValueError, KeyError) as exc:
        return {"error": f"not a readable PDF: {exc.__class__.__name__}"}


def _save_dimensions(ctx: JobContext, file: File, info: dict[str, Any]) -> None:
    width, height = info.get("width"), info.get("height")
    if not (isinstance(width, int) and isinstance(height, int)) or file.width:
        return
    with ctx.services.db.write() as session:
        session.execute(update(File).where(File.id == file.id).values(width=width, height=height))


def thumbnail(ctx: JobContext) -> dict[str, Any]:
    """Warm the image pipeline's cached card thumbnails, or store a video poster frame."""
    source = ctx.file()
    ctx.progress(10, "rendering")
    if source.mimetype in images.RESIZABLE_TYPES:
        made = _card_variants(ctx, source)
    elif source.mimetype.startswith("video/"):
        made = [_video_poster(ctx, source)]
    else:
        raise NotAnImage(f"no thumbnail for files of type {source.mimetype}")
    ctx.progress(95, "saved")
    return {"variants": made}


def _card_variants(ctx: JobContext, source: File) -> list[dict[str, Any]]:
    from pastefile.services.imaging.params import TransformRequest
    from pastefile.services.imaging.service import CARD_BOX

    pipeline = ctx.services.images
    made = []
    for box in (CARD_BOX, CARD_BOX * 2):
        request = TransformRequest(w=box, h=box, fit="inside")
        query = dict(parse_qsl(pipeline.signed_query(source.public_id, request)))
        rendition = pipeline.render(source, query)
        if rendition.stream is not None:
            rendition.stream.close()
        made.append(_variant_json(query, rendition.sha256, rendition.width, rendition.height))
    return made


def _variant_json(query: dict[str, str], sha: str, width: int, height: int) -> dict[str, Any]:
    return {"query": urlencode(query), "sha256": sha, "width": width, "height": height}


def _video_poster(ctx: JobContext, source: File) -> dict[str, Any]:
    from pastefile.services.imaging.engine import Encoded

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise NotAnImage("video posters need ffmpeg, which is not installed")
    with _local_copy(ctx, source) as path, tempfile.TemporaryDirectory() as tmp:
        poster = Path(tmp) / "poster.png"
        command = [ffmpeg, "-v", "error", "-ss", "1", "-i", str(path), "-frames:v", "1"]
        subprocess.run(  # noqa: S603 - fixed arguments, our own temp paths
            [*command, "-y", str(poster)], capture_output=True, timeout=120, check=True
        )
        data = poster.read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        encoded = Encoded(data, "image/png", im.width, im.height)
    stored = ctx.services.images.cache.store(source.sha256, POSTER_KEY, encoded)
    return _variant_json({}, stored.sha256, stored.width, stored.height)


@contextmanager
def _local_copy(ctx: JobContext, file: File) -> Iterator[Path]:
    """A filesystem path for tools that need one; a temp copy for remote storage."""
    storage = ctx.services.storage
    path = storage.local_path(file.sha256)
    if path is not None:
        yield path
        return
    with tempfile.NamedTemporaryFile() as tmp, storage.open(file.sha256) as stream:
        shutil.copyfileobj(stream, tmp)
        tmp.flush()
        yield Path(tmp.name)
