"""Named points where a crash test can hold a process, to kill it exactly there.

Inert unless ``PASTEFILE_TEST_PAUSE_DIR`` names a folder: the tests in
``tests/system/faults/`` set it, and write the name of one point into
``<dir>/armed``. A process that reaches the armed point writes
``<dir>/<point>.<pid>`` and waits (at most ``_MAX_WAIT`` seconds, or until
``<dir>/<point>.release`` appears), so the test knows where the process is when
it sends ``SIGKILL``. Never set it in production: a request that reaches an
armed point stalls.

The points: ``upload.published`` (bytes moved into place, the recording
transaction not yet committed), ``upload.resized`` (a resize-on-upload copy
written to a temp file), ``variant.published`` (a variant's bytes in place,
its row not committed), ``blob.unlinking`` (a delete committed, its bytes not
yet unlinked), ``tus.finished`` (the file of a tus upload recorded, the upload
not yet told).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_MAX_WAIT = 60.0


def reached(point: str) -> None:
    """Hold here when a test asked for this point; otherwise return at once."""
    where = os.environ.get("PASTEFILE_TEST_PAUSE_DIR")
    if not where:
        return
    folder = Path(where)
    try:
        armed = (folder / "armed").read_text().strip()
    except OSError:
        return
    if armed != point:
        return
    (folder / f"{point}.{os.getpid()}").touch()
    release = folder / f"{point}.release"
    deadline = time.monotonic() + _MAX_WAIT
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
