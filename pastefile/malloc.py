"""glibc's allocator, tuned for long-lived workers: one arena, and memory given back
once a request or a job is over.

By default glibc gives every thread that allocates its own arena, up to eight per
core, and keeps what was freed in each. libvips decodes on threads of its own, so a
job worker making thumbnails of different sizes grew by ~100 MB over 300 of them
(82 MB flat with one arena and a trim after each). Elsewhere than glibc these are
no-ops that say so.
"""

from __future__ import annotations

import ctypes
import functools

# mallopt(3) parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The process's C library, when it has glibc's ``mallopt`` and ``malloc_trim``."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def tune(*, mmap_threshold: int | None = None, trim_threshold: int | None = None) -> bool:
    """One arena for every thread from now on (threads take turns on the GIL anyway, and
    ``release`` only shrinks the main arena's heap), and the thresholds given. False
    without glibc, or when glibc refused a setting."""
    libc = _glibc()
    if libc is None:
        return False
    settings = [(_M_ARENA_MAX, 1)]
    if mmap_threshold is not None:
        settings.append((_M_MMAP_THRESHOLD, mmap_threshold))
    if trim_threshold is not None:
        settings.append((_M_TRIM_THRESHOLD, trim_threshold))
    return [libc.mallopt(param, value) for param, value in settings] == [1] * len(settings)


def release() -> None:
    """Return the heap's free memory to the system (a few microseconds when there is none)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
