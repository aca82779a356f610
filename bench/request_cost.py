#!/usr/bin/env python3
"""What one request costs the app itself, without a server: CPU µs per request, in-process.

    .venv/bin/python bench/request_cost.py                 # every route, 3,000 requests each
    .venv/bin/python bench/request_cost.py i --profile     # cProfile of GET /i/<id>
    .venv/bin/python bench/request_cost.py h --ablate      # each global hook's share

The WSGI callable is called directly with a prepared environ (no test client, no socket), so
the figure is the app's CPU alone, the part of a request pastefile can change; a server adds
the same cost to pastefile and to the bare app. Routes: ``bare`` (a Flask "hello"), ``h``
(``/healthz``), ``i`` (``/i/<id>`` of a public 10 kB file), ``s`` (``/s/<code>``) and ``p``
(``/p/<id>`` JSON). ``process_time`` counts every thread of the process, the background
flushers included; the best of several rounds is printed, with the ratio to the bare app.
Production settings on a temporary SQLite instance, stats counting on.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Any]


def environ(method: str, path: str, body: bytes = b"", accept: str = "*/*") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": accept,
        "HTTP_USER_AGENT": "request-cost",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "text/plain",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def call(app: WSGI, env: dict[str, Any]) -> bytes:
    answer = app(env, lambda status, headers, exc=None: None)
    try:
        return b"".join(answer)
    finally:
        getattr(answer, "close", lambda: None)()


def build(tmp: Path) -> tuple[WSGI, WSGI]:
    """The bare Flask app and pastefile's, in production on embedded defaults."""
    os.environ.update(
        APP_ENV="production",
        PASTEFILE_SECRET_KEY="request-cost-bench-secret-0123456789",
        PASTEFILE_DATA_DIR=str(tmp / "var"),
        PASTEFILE_LOG_DIR=str(tmp / "logs"),
    )
    from flask import Flask

    from pastefile.composition import build_services
    from pastefile.config import load_settings
    from pastefile.db import migrate
    from pastefile.web import create_app

    bare = Flask("bare")
    bare.get("/")(lambda: "hello")
    services = build_services(load_settings())
    migrate.upgrade(services.db)
    app = create_app(services=services)
    console = logging.getLogger().handlers[0]
    if isinstance(console, logging.StreamHandler):
        console.setStream(open(os.devnull, "w"))  # noqa: SIM115 - for the process's life
    return bare, app


def routes(bare: WSGI, app: WSGI) -> dict[str, tuple[WSGI, str, str]]:
    data = (b"0123456789abcdef" * 640)[:10_000]
    ident = call(app, environ("PUT", "/ten.txt", data)).decode().strip().rsplit("/", 1)[1]
    card = json.loads(call(app, environ("GET", f"/p/{ident}", accept="application/json")))
    code = card["url_s"].rsplit("/", 1)[1]
    return {
        "bare": (bare, "/", "*/*"),
        "h": (app, "/healthz", "*/*"),
        "i": (app, f"/i/{ident}", "*/*"),
        "s": (app, f"/s/{code}", "*/*"),
        "p": (app, f"/p/{ident}", "application/json"),
    }


def cost(app: WSGI, path: str, accept: str, requests: int, rounds: int = 5) -> float:
    """CPU µs per request, the best of ``rounds``."""
    for _ in range(300):
        call(app, environ("GET", path, accept=accept))
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            call(app, environ("GET", path, accept=accept))
        best = min(best, (time.process_time() - started) / requests * 1e6)
    return best


def ablate(app: Any, path: str, accept: str, requests: int) -> None:
    """Each app-wide hook taken out in turn, and the access log: what it costs."""
    base = cost(app, path, accept, requests)
    print(f"  every hook: {base:.0f} µs")
    for attr in ("before_request_funcs", "after_request_funcs"):
        funcs = getattr(app, attr).get(None, [])
        for func in list(funcs):
            index = funcs.index(func)
            funcs.remove(func)
            name = f"{func.__module__}.{func.__qualname__}"
            print(f"  without {name}: {cost(app, path, accept, requests) - base:+.0f} µs")
            funcs.insert(index, func)
    logging.getLogger("pastefile.access").disabled = True
    print(f"  without the access line: {cost(app, path, accept, requests) - base:+.0f} µs")
    logging.getLogger("pastefile.access").disabled = False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routes", nargs="*", default=["bare", "h", "i", "s", "p"])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true", help="cProfile, by cumulative time")
    parser.add_argument("--ablate", action="store_true", help="each global hook's share")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="request-cost-") as tmp:
        bare, app = build(Path(tmp))
        table = routes(bare, app)
        reference = cost(bare, "/", "*/*", args.requests)
        for name in args.routes:
            target, path, accept = table[name]
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(cost, target, path, accept, args.requests, 1)
                pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
            if args.ablate:
                ablate(target, path, accept, args.requests // 3)
            spent = cost(target, path, accept, args.requests)
            print(f"{name:5} {path:24} {spent:6.0f} µs/request  bare/this {reference / spent:4.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
