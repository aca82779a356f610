"""The two job queues: ``short`` (probe, thumbnail) apart from ``long`` (fetch, sweeps,
reports), each with its own time limits. Apart from the kinds, so a Celery worker's main
process names its queues without importing every job handler."""

from __future__ import annotations

SHORT = "short"
LONG = "long"
QUEUES = (SHORT, LONG)
