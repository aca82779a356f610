#!/usr/bin/env python3
"""A soak of the scaled-out stack: a mixed workload, then nothing lost and nothing leaked.

    .venv/bin/python bench/soak.py                  # 2 minutes, 4 clients, local storage
    .venv/bin/python bench/soak.py --minutes 30     # the release check (docs/operations.md)
    .venv/bin/python bench/soak.py --s3             # S3 on moto's standalone server

It starts nginx (deploy/nginx.conf), two gunicorn nodes, a Celery worker and beat on
this machine's MariaDB (a fresh database, dropped at the end), Redis and RabbitMQ, and
drives ``--clients`` clients for ``--minutes``: uploads of every kind (multipart, PUT,
tus with pauses between PATCHes, from a URL on a local origin), Range downloads, image
transforms, cards, API listing and searching, renames, expiries, deletes and the upload
jobs. Every process is sampled every ``--sample`` seconds (RSS, open fds, threads) with
the database connections MariaDB lists. At the end it checks:
- no 5xx and no client error the workload did not provoke on purpose;
- every acknowledged upload not deleted reads back byte-exact (sha256);
- after the warm-up quarter each process grows by at most 10 MB RSS, and open fds and
  database connections stay flat (the tolerances are printed with the table);
- after ``pastefile sweep`` and ``pastefile gc`` the storage holds exactly the live blobs
  and variants: no temp, part or orphan file.
The workload and the checks live in tests/support/soak*.py, which the suite's two-minute
run (tests/system/deploy/test_soak.py) uses too. Exit status 0 when every check passes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.deploy import nginx_binary  # noqa: E402
from tests.support.s3 import moto_server, s3_settings  # noqa: E402
from tests.support.scaleout import reachable  # noqa: E402
from tests.support.settings import MARIADB_ADMIN_URL, server_database  # noqa: E402
from tests.support.soak import Config, soak  # noqa: E402


def missing() -> list[str]:
    needs = {
        "nginx": nginx_binary() is not None,
        "MariaDB on 3306": reachable("127.0.0.1", 3306),
        "Redis on 6379": reachable("127.0.0.1", 6379),
        "RabbitMQ on 5672": reachable("127.0.0.1", 5672),
    }
    return [name for name, ok in needs.items() if not ok]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sample", type=float, default=20.0, help="seconds between samples")
    parser.add_argument("--s3", action="store_true", help="S3 on moto instead of a local disk")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="run in this folder and keep its logs")
    args = parser.parse_args()
    lacking = missing()
    if lacking:
        print(f"bench/soak.py needs {', '.join(lacking)}")
        return 2
    config = Config(args.minutes, args.clients, args.sample, args.seed)
    with ExitStack() as stack:
        if args.keep:
            root = args.keep
            root.mkdir(parents=True, exist_ok=True)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pastefile-soak-")))
        database = next(databases := server_database(MARIADB_ADMIN_URL, "MariaDB"))
        stack.callback(lambda: next(databases, None))  # drops the database
        extra: dict[str, str] = {}
        if args.s3:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
            endpoint = stack.enter_context(moto_server())
            settings = s3_settings(endpoint)
            extra = {f"PASTEFILE_{k.upper()}": str(v) for k, v in settings.items()}
        result = soak(config, root, database, MARIADB_ADMIN_URL, **extra)
        print(result.report())
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
