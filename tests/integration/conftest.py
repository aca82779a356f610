"""Fixtures shared by the integration tests: log capture, a job runner, an HTTP origin."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from pastefile.composition import Services
from pastefile.jobs.runners.threads import ThreadRunner
from pastefile.logging_setup import RequestIdFilter
from tests.support.jobs import serve_origin, start_thread_runner


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, with the request id stamped on records as the app's handlers do."""
    caplog.set_level(logging.INFO, logger="pastefile")
    stamp = RequestIdFilter()
    caplog.handler.addFilter(stamp)
    yield caplog
    caplog.handler.removeFilter(stamp)


@pytest.fixture
def runner(services: Services) -> ThreadRunner:
    """Two worker threads running the app's jobs as they are queued."""
    return start_thread_runner(services, workers=2)


@pytest.fixture
def origin() -> Iterator[ThreadingHTTPServer]:
    """The local HTTP origin jobs fetch from (tests.support.jobs)."""
    server = serve_origin(slow_seconds=3.0)
    yield server
    server.shutdown()
