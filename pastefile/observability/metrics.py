"""Prometheus metrics, correct under several gunicorn workers.

With ``PROMETHEUS_MULTIPROC_DIR`` set (before the app imports this module),
prometheus-client writes each process's values to files there and
``/metrics`` adds them up; ``gunicorn_hooks.child_exit`` must then run in
the gunicorn arbiter (``deploy/gunicorn.conf.py`` imports it). The directory
must be empty when the server starts.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import REGISTRY

# Re-exported for gunicorn configs that import it from here; new ones should import it
# from pastefile.observability.gunicorn_hooks, which defines no metric.
from pastefile.observability.gunicorn_hooks import child_exit

__all__ = ["child_exit", "count_cache", "observe_request", "render"]

REQUESTS = Counter("pastefile_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "pastefile_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BYTES_IN = Counter("pastefile_http_bytes_in_total", "Request body bytes received", ["route"])
BYTES_OUT = Counter("pastefile_http_bytes_out_total", "Response body bytes sent", ["route"])
CACHE = Counter("pastefile_cache_total", "Cache lookups and events", ["result"])
CACHE_ERRORS = Counter("pastefile_cache_errors_total", "Cache backend (Redis) failures")

_CACHE_RESULTS = {"hits": "hit", "misses": "miss", "loads": "load"}
_CACHE_CHILDREN: dict[str, Any] = {}  # kept, as the request metrics' children are
# The labelled children of one (method, route, status): looking them up again on every
# request (a lock and a key per metric) cost more than recording the values.
_REQUEST_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any, Any, Any]] = {}


def observe_request(
    method: str, route: str, status: int, seconds: float, bytes_in: int, bytes_out: int
) -> None:
    key = (method, route, status)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = (
            LATENCY.labels(method, route),
            REQUESTS.labels(method, route, str(status)),
            BYTES_IN.labels(route),
            BYTES_OUT.labels(route),
        )
        _REQUEST_CHILDREN[key] = children
    latency, requests, received, sent = children
    latency.observe(seconds)
    requests.inc()
    if bytes_in:
        received.inc(bytes_in)
    if bytes_out:
        sent.inc(bytes_out)


def count_cache(name: str, amount: int = 1) -> None:
    if name == "errors":
        CACHE_ERRORS.inc(amount)
        return
    child = _CACHE_CHILDREN.get(name)
    if child is None and name in _CACHE_RESULTS:
        child = _CACHE_CHILDREN[name] = CACHE.labels(_CACHE_RESULTS[name])
    if child is not None:
        child.inc(amount)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render(extra: list[Any] | None = None) -> tuple[bytes, str]:
    """The exposition text: every worker's values in multiprocess mode."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    for collector in extra or []:
        registry.register(collector)
    try:
        return generate_latest(registry), CONTENT_TYPE_LATEST
    finally:
        for collector in extra or []:
            registry.unregister(collector)
