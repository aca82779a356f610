"""A full disk during an upload: 507, and nothing left behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pastefile.composition import build_services
from pastefile.db.models import File
from pastefile.web import create_app
from tests.support.deploy import require
from tests.support.settings import make_settings
from tests.support.uploads import upload

# --- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    require(os.geteuid() == 0, "mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    require(result.returncode == 0, f"cannot mount a tmpfs: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("how", ["multipart", "put"])
def test_a_full_disk_gives_507_and_leaves_nothing_behind(tmp_path, small_disk, how):
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'p.db'}", storage_url=f"file://{small_disk}"
    )
    services = build_services(settings)
    from pastefile.db import Base

    Base.metadata.create_all(services.db.engine)
    client = create_app(services=services).test_client()
    data = os.urandom(30 * 1024 * 1024)  # more than the 20 MB disk
    if how == "put":
        response = client.put("/big.bin", data=data)
    else:
        response = upload(client, data, "big.bin")
    assert response.status_code == 507, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert list((small_disk / "tmp").iterdir()) == []
    assert list((small_disk / "objects").rglob("*")) == []
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(File)) == 0
    # And the disk works again once there is room.
    assert upload(client, b"small again", "small.txt").status_code == 201
    services.close()
