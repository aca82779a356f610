"""One production server per module of the hostile suite: attacks never share budgets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.production import ProductionServer, production_server


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProductionServer]:
    settings = getattr(request.module, "SERVER_SETTINGS", {})
    with production_server(tmp_path_factory.mktemp("prod"), **settings) as running:
        yield running
