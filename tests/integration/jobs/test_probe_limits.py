"""The probe job reads images through the image engine's pixel budget: a
decompression bomb fails at once, for good, instead of being retried."""

from __future__ import annotations

import io

from pastefile.composition import Services
from tests.support.images import png_bomb
from tests.support.jobs import drain_jobs


def test_a_pixel_bomb_fails_its_probe_once_and_for_good(services: Services) -> None:
    upload = services.uploads.save_stream(io.BytesIO(png_bomb(60000)), "bomb.png")
    assert upload.job_ids, "an image upload starts its probe"
    (job,) = [j for j in drain_jobs(services) if j.id == upload.job_ids[0]]
    assert job.status == "failed"
    assert job.attempts == 1, "another attempt reads the same header: no retry"
    assert job.error and "ImageTooLarge" in job.error
    assert services.files.get(upload.file.public_id).status == "failed"
