"""The storage scrub's last result as Prometheus gauges, read at scrape time.

The result lives in the database (the newest ``scrub`` job), so every web
worker reports the same figures whichever process ran the scrub.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily

PROBLEM_KINDS = ("corrupt", "missing", "orphans", "sourceless_variants")


class ScrubCollector:
    def __init__(self, last: Callable[[], dict[str, Any] | None]) -> None:
        self.last = last

    def collect(self) -> Iterator[GaugeMetricFamily]:
        result = self.last()
        if result is None:
            return
        problems = GaugeMetricFamily(
            "pastefile_scrub_problems", "Problems the last storage scrub found", labels=["kind"]
        )
        for kind in PROBLEM_KINDS:
            problems.add_metric([kind], float(result.get(kind, 0)))
        yield problems
        yield GaugeMetricFamily(
            "pastefile_scrub_checked_bytes", "Bytes the last scrub re-hashed", result["bytes"]
        )
        yield GaugeMetricFamily(
            "pastefile_scrub_checked_blobs", "Blobs the last scrub re-hashed", result["checked"]
        )
        yield GaugeMetricFamily(
            "pastefile_scrub_duration_seconds", "How long the last scrub took", result["seconds"]
        )
