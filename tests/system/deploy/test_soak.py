"""A two-minute soak of the scaled-out stack (the release check is bench/soak.py --minutes 30).

nginx, two gunicorn nodes, a Celery worker and beat on MariaDB, Redis and RabbitMQ,
four clients mixing every kind of upload, reads, transforms, cards, API calls, renames,
expiries, deletes and jobs (tests/support/soak_workload.py). It asserts what an operator
would notice: no 5xx and no error nobody provoked, nothing acknowledged is lost, no
process grows after the warm-up quarter, and after gc the storage holds exactly what is
live. Takes about three minutes with the stack's start.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.deploy import nginx_binary, require
from tests.support.scaleout import BROKER_URL, REDIS_URL, reachable
from tests.support.settings import MARIADB_ADMIN_URL, server_database
from tests.support.soak import Config, soak

MINUTES = 2.0


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    yield from server_database(MARIADB_ADMIN_URL, "MariaDB")


@pytest.mark.slow
@pytest.mark.timeout(900)  # two minutes of load, the stack's start, the checks, a backlog
def test_a_two_minute_soak_loses_nothing_and_leaks_nothing(tmp_path, database):
    require(nginx_binary() is not None, "nginx is not installed (apt-get install nginx)")
    require(reachable("127.0.0.1", 6379), f"Redis is not reachable at {REDIS_URL}")
    require(reachable("127.0.0.1", 5672), f"RabbitMQ is not reachable at {BROKER_URL}")
    result = soak(
        Config(minutes=MINUTES, clients=4, sample=20), tmp_path, database, MARIADB_ADMIN_URL
    )
    print(result.report())
    assert result.tally.total > 500, "the workload hardly ran"
    assert {e.kind for e in result.entries} >= {"multipart", "put", "tus", "url", "image"}
    assert not result.failures, result.report()
