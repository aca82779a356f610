"""One live pastefile server for the client's tests (``pastefile serve`` in production mode),
and a fresh home for pf in each test.

Quotas and the password rate limit are low so that their errors are reachable with small
files; anonymous uploads (no quota) carry the large ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pf import pf_env
from tests.support.production import ProductionServer, production_server

QUOTA = 8 * 1024 * 1024
MAX_UPLOAD = 64 * 1024 * 1024
USERS = {"alice": "alice password 1", "bob": "bob password 22"}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionServer]:
    root = tmp_path_factory.mktemp("pf-server")
    settings = {
        "PASTEFILE_USER_QUOTA_BYTES": str(QUOTA),
        "PASTEFILE_MAX_UPLOAD_SIZE": str(MAX_UPLOAD),
        "PASTEFILE_PASSWORD_RATE_LIMIT": "3/minute",
    }
    with production_server(root, **settings) as live:
        for name, password in USERS.items():
            live.create_user(name, password)
        yield live


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """pf's environment: its config and state in this test's own folder."""
    return pf_env(tmp_path / "home")
