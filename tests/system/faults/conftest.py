"""One crashable production server per module: each test kills it, and it starts again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.crashes import CrashableServer


@pytest.fixture(scope="module")
def crashable(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CrashableServer]:
    settings = getattr(request.module, "SERVER_SETTINGS", {})
    instance = CrashableServer(tmp_path_factory.mktemp("crash"), **settings)
    try:
        yield instance
    finally:
        instance.stop()
