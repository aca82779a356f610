"""A worker that decodes images on libvips's threads keeps its size: one arena, and the
free memory given back after each job (``pastefile.malloc``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Thumbnails of noisy images of many sizes, as a job worker makes them, each on a
# new thread as jobs on a pool's threads are; RSS after a warm-up and at the end.
SCRIPT = textwrap.dedent(
    """
    import random, sys, threading
    import pyvips
    from pastefile import malloc

    tuned = sys.argv[1] == "tuned"
    if tuned:
        assert malloc.tune()

    def rss():
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024

    rng = random.Random(7)
    def noisy(w, h):
        bands = [pyvips.Image.gaussnoise(w, h).cast("uchar") for _ in range(3)]
        return bands[0].bandjoin(bands[1:]).copy_memory().jpegsave_buffer(Q=85)
    images = [noisy(rng.randint(800, 2600), rng.randint(600, 2000)) for _ in range(10)]

    def job(n):
        source = pyvips.Source.new_from_memory(images[n % len(images)])
        width = rng.choice([300, 640, 1024])
        pyvips.Image.thumbnail_source(source, width, height=200, crop="centre").webpsave_buffer()
        if tuned:
            malloc.release()

    marks = []
    for n in range(160):
        thread = threading.Thread(target=job, args=(n,))
        thread.start()
        thread.join()
        if n in (40, 159):
            marks.append(rss())
    print(marks[0], marks[1])
    """
)


def grown(mode: str) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True
    )
    warm, end = (float(x) for x in done.stdout.split())
    return warm, end


@pytest.mark.slow
def test_a_job_worker_stays_flat_after_its_warm_up() -> None:
    warm, end = grown("tuned")
    assert end - warm < 6, f"{warm:.1f} MB after the warm-up, {end:.1f} MB at the end"
