"""A soak of the scaled-out stack, shared by bench/soak.py and tests/system/deploy/test_soak.py.

It starts nginx, two gunicorn nodes, a Celery worker and beat on MariaDB, Redis and
RabbitMQ (local storage, or S3 on moto), drives ``clients`` concurrent clients
(tests/support/soak_workload.py) for ``minutes``, samples every process every
``sample`` seconds (tests/support/soak_sampling.py), then checks what it was told
(tests/support/soak_checks.py). ``Result.failures`` lists every broken promise.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.scaleout import Cluster, node_env
from tests.support.soak_checks import (
    collect,
    jobs_settled,
    read_back,
    run_command,
    storage_problems,
)
from tests.support.soak_sampling import (
    CONNECTION_TOLERANCE,
    FD_TOLERANCE,
    RSS_GROWTH_KIB,
    ConnectionCounter,
    Sample,
    Sampler,
    before_recycle,
    connection_problems,
    growth,
    series,
    table,
)
from tests.support.soak_workload import Client, Entry, Origin, Tally

UNLIMITED = "1000000/minute"
MAX_ACTIONS = 1_000_000  # per client: every loop is bounded in count as well as in time


@dataclass
class Config:
    minutes: float = 2.0
    clients: int = 4
    sample: float = 20.0
    seed: int = 1

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def warm_up(self) -> float:
        return self.seconds / 4


@dataclass
class Result:
    config: Config
    tally: Tally
    entries: list[Entry]
    samples: list[Sample]
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.tally.requests.items()))
        states: dict[str, int] = {}
        for entry in self.entries:
            states[entry.state] = states.get(entry.state, 0) + 1
        lines = [
            f"soak: {self.config.minutes:g} min, {self.config.clients} clients, "
            f"a sample every {self.config.sample:g} s, warm-up {self.config.warm_up:.0f} s",
            f"requests: {self.tally.total} ({kinds})",
            f"answers: {dict(sorted(self.tally.statuses.items()))}; 5xx: "
            f"{self.tally.server_errors}; provoked 4xx: {dict(self.tally.provoked)}; "
            f"unexpected: {len(self.tally.errors)}",
            f"uploads acknowledged: {len(self.entries)} {states}",
            table(self.samples, self.config.warm_up),
            series(self.samples, ("node0 worker", "node1 worker", "worker child")),
            f"flat: after the warm-up, RSS +{RSS_GROWTH_KIB // 1024} MB at most per process, "
            f"open fds +{FD_TOLERANCE} at most, database connections "
            f"+{CONNECTION_TOLERANCE} at most (end against the warm-up mark)",
            *self.notes,
        ]
        if self.failures:
            kinds = Counter(f.split(":", 1)[0] for f in self.failures)
            lines.append(f"FAILED ({len(self.failures)}): {dict(kinds)}")
            shown: Counter[str] = Counter()
            for failure in self.failures:
                kind = failure.split(":", 1)[0]
                shown[kind] += 1
                if shown[kind] <= 5:
                    lines.append(f"  - {failure}")
        else:
            lines.append("PASS")
        return "\n".join(lines)


def soak_env(root: Path, database: str, origin_port: int, **extra: str) -> dict[str, str]:
    """The nodes' settings: busy periodic jobs, no budget the workload would run into."""
    return node_env(
        root,
        database,
        PASTEFILE_LOG_LEVEL="WARNING",
        PASTEFILE_API_RATE_LIMIT=UNLIMITED,
        PASTEFILE_UPLOAD_RATE_LIMIT=UNLIMITED,
        PASTEFILE_TRANSFORM_RATE_LIMIT=UNLIMITED,
        PASTEFILE_FETCH_ALLOWED_NETWORKS="127.0.0.1/32",
        PASTEFILE_EXPIRE_SWEEP_SECONDS="20",
        PASTEFILE_GC_SECONDS="30",
        PASTEFILE_SCRUB_SECONDS="60",
        **extra,
    )


TOKEN_SCRIPT = """
from pastefile.composition import build_services
from pastefile.config import load_settings
from pastefile.services.accounts import Permission
services = build_services(load_settings())
user = services.accounts.create_user("soak", "correct horse battery staple", Permission.LOGIN)
principal = services.accounts.session_principal(user)
_, value = services.accounts.create_token(principal, "soak", ["read", "upload", "delete"])
services.close()
print(value)
"""


def make_token(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", TOKEN_SCRIPT], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def soak(config: Config, root: Path, database: str, admin_url: str, **extra: str) -> Result:
    """Start the stack, drive it for ``config.minutes``, check it, stop it."""
    with Origin() as origin:
        env = soak_env(root, database, origin.port, **extra)
        cluster = Cluster(root, env)
        counter = ConnectionCounter(admin_url, make_url(database).database or "")
        try:
            started = time.monotonic()
            cluster.start(beat=True)
            ready = time.monotonic() - started
            result = _drive(config, cluster, counter, origin.port)
            result.notes.insert(0, f"the stack started in {ready:.0f} s")
            return result
        finally:
            cluster.stop()
            counter.close()


def _drive(config: Config, cluster: Cluster, counter: ConnectionCounter, origin: int) -> Result:
    env = cluster.env
    token = make_token(env)
    tally = Tally()
    rng = random.Random(config.seed)
    tus = not env.get("PASTEFILE_S3_ENDPOINT_URL")
    clients = [
        Client(n, cluster.port, token, origin, tally, rng.getrandbits(32), tus=tus)
        for n in range(config.clients)
    ]
    sampler = Sampler(cluster, counter, config.sample, (config.warm_up,)).start()
    deadline = time.monotonic() + config.seconds
    threads = [
        threading.Thread(target=c.run, args=(deadline, MAX_ACTIONS), name=f"soak-{c.number}")
        for c in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=config.seconds + 120)
    sampler.stop()
    sampler.take()  # the end
    entries = [e for c in clients for e in c.files]
    result = Result(config, tally, entries, sampler.samples)
    _check(result, clients, env)
    return result


def _check(result: Result, clients: list[Client], env: dict[str, str]) -> None:
    answered, started = result.tally.total, time.monotonic()
    lost = read_back(clients)
    unsettled = jobs_settled(clients[0], result.entries)
    result.notes.append(
        f"read-back and job checks: {result.tally.total - answered} requests in "
        f"{time.monotonic() - started:.0f} s"
    )
    result.notes += [f"{line}" for line in collect(env)]
    warm_up = result.config.warm_up
    failures = result.failures
    if result.tally.server_errors:
        failures.append(f"{result.tally.server_errors} answers were 5xx")
    failures += result.tally.errors
    failures += lost + unsettled
    failures += [p for g in growth(result.samples, warm_up) for p in g.problems()]
    failures += connection_problems(result.samples, warm_up)
    failures += storage_problems(env, result.entries)
    for g in growth(result.samples, warm_up):
        if g.restarted:
            result.notes.append(before_recycle(result.samples, warm_up, g.role))


__all__ = ["Config", "Result", "run_command", "soak"]
