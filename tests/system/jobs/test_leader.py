"""Periodic jobs in thread mode: several real processes, exactly one schedules each tick.

Three ``pastefile worker`` processes (no broker: the in-process runner) share
one database. One holds the scheduler lease and submits each tick's sweep;
when it is killed, another takes over after the lease expires, and still no
tick is scheduled twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from pastefile.composition import Services
from pastefile.config import Settings
from pastefile.db.jobs import Job, Lease
from tests.support.jobs import wait_for

pytestmark = pytest.mark.slow
PASTEFILE = str(Path(sys.executable).with_name("pastefile"))


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"expire_sweep_seconds": 1, "gc_seconds": 1}


def _start(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "PASTEFILE_DATABASE_URL": settings.database_url,
        "PASTEFILE_STORAGE_URL": settings.storage_url,
        "PASTEFILE_DATA_DIR": str(settings.data_dir),
        "PASTEFILE_BROKER_URL": "",
        "PASTEFILE_JOB_WORKERS": "1",
        "PASTEFILE_EXPIRE_SWEEP_SECONDS": "1",
        "PASTEFILE_GC_SECONDS": "1",
        "PASTEFILE_LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [PASTEFILE, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _leader(services: Services) -> str | None:
    with services.db.read() as session:
        lease = session.get(Lease, "scheduler")
    return lease.holder if lease is not None else None


def _sweeps(services: Services) -> list[Job]:
    with services.db.read() as session:
        return list(session.scalars(select(Job).where(Job.kind == "expire_sweep")))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_one_leader_schedules_each_tick_across_processes(
    services: Services, tmp_path: Path
) -> None:
    workers = [_start(services.settings, tmp_path / f"worker{n}.log") for n in range(3)]
    try:
        first = wait_for(lambda: _leader(services), timeout=30)
        wait_for(lambda: len(_sweeps(services)) >= 3, timeout=30)
        victim = next(w for w in workers if first.endswith(f":{w.pid}"))
        victim.send_signal(signal.SIGKILL)  # the leader dies without releasing its lease
        victim.wait(timeout=10)
        second = wait_for(lambda: (h := _leader(services)) != first and h, timeout=30)
        wait_for(lambda: any(j.params.get("scheduled_by") == second for j in _sweeps(services)))
        time.sleep(1.5)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    sweeps = _sweeps(services)
    ticks = Counter(job.params["tick"] for job in sweeps)
    assert ticks and max(ticks.values()) == 1, ticks  # no tick scheduled twice
    schedulers = {job.params["scheduled_by"] for job in sweeps}
    assert schedulers == {first, second}  # only ever the lease holder
    assert first.endswith(f":{victim.pid}")
    assert any(job.status == "succeeded" for job in sweeps)
