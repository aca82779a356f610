"""Jobs an upload starts: a probe of what it is, a video's poster frame (when ffmpeg
is installed), and thumbnails of every image when configured.

Only for types where there is something to learn, and never for files a job
itself stores (a thumbnail must not start a thumbnail of itself).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from pastefile.jobs.context import inside_job
from pastefile.services.imaging.engines.base import RESIZABLE_TYPES
from pastefile.services.uploads import UploadResult

if TYPE_CHECKING:
    from pastefile.jobs.service import JobService

log = logging.getLogger(__name__)


def _media(mimetype: str) -> bool:
    return mimetype.startswith(("audio/", "video/"))


def _poster(mimetype: str) -> bool:
    # Without ffmpeg a poster job could only fail; the card then shows the player alone.
    return mimetype.startswith("video/") and shutil.which("ffmpeg") is not None


APPLIES: dict[str, Callable[[str], bool]] = {
    "probe": lambda m: m in RESIZABLE_TYPES or _media(m) or m == "application/pdf",
    "thumbnail": lambda m: m in RESIZABLE_TYPES or m.startswith("video/"),
    "poster": _poster,
}
# A name in PASTEFILE_UPLOAD_JOBS and the job kind it submits: `poster` is the
# `thumbnail` job, for videos only.
KINDS = {"poster": "thumbnail"}


def start_upload_jobs(jobs: JobService, result: UploadResult) -> None:
    """Submit the configured jobs for a new upload and note their ids on the result."""
    if not result.created or inside_job.get() or result.file.encrypted:
        return  # a job's own file, or ciphertext: nothing to learn from it
    file = result.file
    kinds = [KINDS.get(n, n) for n in jobs.settings.upload_jobs if _applies(n, file.mimetype)]
    for kind in dict.fromkeys(kinds):  # `thumbnail` and `poster` submit one job, not two
        try:
            job = jobs.submit(kind, owner_id=file.owner_id, file_id=file.id)
        except Exception:
            # The upload itself succeeded; a job that could not start is not its failure.
            log.exception("could not start %s for file %s", kind, file.public_id)
            continue
        result.job_ids.append(job.id)


def _applies(name: str, mimetype: str) -> bool:
    applies = APPLIES.get(name)
    return applies is not None and applies(mimetype)
