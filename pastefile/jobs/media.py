"""``probe`` and ``thumbnail``: what is in a file, and a small picture of it.

Images use Pillow (header only for sizes); audio and video use ffprobe and
ffmpeg when they are installed and are skipped, with a note, when not; PDFs
are counted with pypdf. A file the tools cannot read fails its job at once
(``UnreadableMedia``) with a short, path-free error: another attempt would
read the same bytes.

ffprobe and ffmpeg only get the local ``file`` protocol and the container
demuxers below, so an upload that is really a playlist or a concat script
(which name other files and URLs) is refused instead of followed.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import update

from pastefile.db.models import File
from pastefile.errors import CorruptImage, InvalidInput, NotAnImage
from pastefile.jobs.context import JobContext
from pastefile.services.imaging import exif
from pastefile.services.imaging.engines.base import RESIZABLE_TYPES, Encoded, check_pixels

# v2: a JPEG bounded by POSTER_BOX (v1 was a full-size PNG).
POSTER_KEY = "poster-v2"
POSTER_BOX = 960
_FFPROBE_TIMEOUT = 60
_FFMPEG_TIMEOUT = 120
_DEMUXERS = "mov,matroska,mp3,ogg,wav,flac,aac,avi,mpegts,mpeg,flv,asf,aiff,amr,au,caf,w64,ivf"
_SANDBOX = ["-protocol_whitelist", "file", "-format_whitelist", _DEMUXERS]
# Never upscaled; the aspect ratio is kept (ffmpeg has already applied any rotation).
_POSTER_FILTER = (
    f"scale=w='min({POSTER_BOX},iw)':h='min({POSTER_BOX},ih)':force_original_aspect_ratio=decrease"
)
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+\]")


class UnreadableMedia(InvalidInput):
    """ffprobe or ffmpeg could not read the file; retrying reads the same bytes."""

    code = "unreadable_media"
    title = "The file could not be read as audio or video"


def probe(ctx: JobContext) -> dict[str, Any]:
    file = ctx.file()
    ctx.progress(10, "probing")
    with _local_copy(ctx, file) as path:
        info: dict[str, Any] = {"mimetype": file.mimetype, "size": file.size}
        if file.mimetype in RESIZABLE_TYPES:
            info.update(_probe_image(ctx, path))
        elif file.mimetype.startswith(("audio/", "video/")):
            info.update(_probe_media(path))
        elif file.mimetype == "application/pdf":
            info.update(_probe_pdf(path))
    ctx.progress(90, "saving")
    _save_dimensions(ctx, file, info)
    return info


def _probe_image(ctx: JobContext, path: Path) -> dict[str, Any]:
    """The header through the process's image engine, within the same pixel budget
    as every transform: a decompression bomb fails at once, for good."""
    images = ctx.services.images
    try:
        info = images.engine.probe(path)
    except CorruptImage as exc:
        return {"error": f"not a readable image: {exc.detail}"}
    check_pixels(info.width, info.height, info.pages, images.limits)
    summary = exif.summarize(info.exif, info.orientation)
    return {"width": info.width, "height": info.height, "pages": info.pages, "exif": summary}


def _probe_media(path: Path) -> dict[str, Any]:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return {"skipped": "ffprobe is not installed"}
    command = [ffprobe, "-v", "error", *_SANDBOX, "-print_format", "json"]
    done = _run_tool([*command, "-show_format", "-show_streams", str(path)], _FFPROBE_TIMEOUT)
    if done.returncode != 0:
        raise UnreadableMedia(f"ffprobe could not read it: {_tool_error(done.stderr, path)}")
    try:
        data = json.loads(done.stdout or b"{}")
    except ValueError:
        raise UnreadableMedia("ffprobe gave no readable answer") from None
    return _media_summary(data)


def _run_tool(command: list[str], timeout: int) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(  # noqa: S603 - fixed arguments, our own paths
            command, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        name = Path(command[0]).name
        raise UnreadableMedia(f"{name} gave up after {timeout}s on this file") from None


def _tool_error(stderr: bytes, path: Path) -> str:
    """The tool's complaint without our storage path or memory addresses."""
    text = stderr.decode(errors="replace").replace(str(path), "the file")
    lines = [_ADDRESS.sub("]", line).strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines)[:400] or "no details"


def _media_summary(data: dict[str, Any]) -> dict[str, Any]:
    # Cover art in an audio file is a "video" stream too, but not what it is.
    streams = [s for s in data.get("streams", []) if not _attached_picture(s)]
    if not any(s.get("codec_type") in ("audio", "video") for s in streams):
        raise UnreadableMedia("no audio or video stream found")
    summary: dict[str, Any] = {
        "duration": _duration(data.get("format", {}), streams),
        "codecs": [s.get("codec_name") for s in streams if s.get("codec_name")],
    }
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video:
        summary["width"], summary["height"] = _display_size(video)
    return summary


def _attached_picture(stream: dict[str, Any]) -> bool:
    return bool(stream.get("disposition", {}).get("attached_pic"))


def _duration(container: dict[str, Any], streams: list[dict[str, Any]]) -> float | None:
    """Seconds: the container's, else the longest stream's; None when nothing says."""
    seconds = _seconds(container.get("duration"))
    if seconds is None:
        known = [_seconds(s.get("duration")) for s in streams]
        seconds = max((value for value in known if value is not None), default=None)
    return None if seconds is None else round(seconds, 3)


def _seconds(value: object) -> float | None:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # absent, or "N/A"
    return seconds if seconds >= 0 else None


def _display_size(video: dict[str, Any]) -> tuple[Any, Any]:
    """Width and height as shown: a phone video stored sideways says so in its rotation."""
    width, height = video.get("width"), video.get("height")
    rotation = next(
        (d.get("rotation") for d in video.get("side_data_list", []) if "rotation" in d), 0
    )
    if isinstance(rotation, int | float) and round(rotation) % 180 == 90:
        return height, width
    return width, height


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
    if source.mimetype in RESIZABLE_TYPES:
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
    """A JPEG frame one second in (the first frame of shorter videos), served at
    ``/i/<id>/poster``; as shown (rotation applied), within ``POSTER_BOX``."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise NotAnImage("video posters need ffmpeg, which is not installed")
    with _local_copy(ctx, source) as path:
        data = _grab_frame(ffmpeg, path, "1") or _grab_frame(ffmpeg, path, "0")
    if not data:
        raise UnreadableMedia("the video has no frame to show")
    try:
        frame = ctx.services.images.engine.probe(io.BytesIO(data))
    except CorruptImage as exc:
        raise UnreadableMedia(f"ffmpeg made no readable frame: {exc.detail}") from None
    encoded = Encoded(data, "image/jpeg", frame.width, frame.height)
    stored = ctx.services.images.cache.store(source.sha256, POSTER_KEY, encoded)
    return _variant_json({}, stored.sha256, stored.width, stored.height)


def _grab_frame(ffmpeg: str, path: Path, seek: str) -> bytes:
    """One frame at ``seek`` seconds as JPEG bytes; empty when the video is shorter."""
    with tempfile.TemporaryDirectory() as tmp:
        poster = Path(tmp) / "poster.jpg"
        command = [ffmpeg, "-v", "error", *_SANDBOX, "-ss", seek, "-i", str(path), "-map", "0:v:0"]
        output = ["-frames:v", "1", "-vf", _POSTER_FILTER, "-q:v", "3", "-y", str(poster)]
        done = _run_tool([*command, *output], _FFMPEG_TIMEOUT)
        if done.returncode != 0:
            raise UnreadableMedia(f"ffmpeg could not read it: {_tool_error(done.stderr, path)}")
        return poster.read_bytes() if poster.exists() else b""


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
