#!/usr/bin/env python3
"""Lighthouse scores of the main pages, in light mode, desktop and mobile.

    (cd bench/lighthouse && npm ci --ignore-scripts --no-audit --no-fund)   # once
    .venv/bin/python bench/lighthouse.py
    .venv/bin/python bench/lighthouse.py --pages upload,card --forms desktop

It starts `pastefile serve` (APP_ENV=production: gunicorn, as deployed) on a throwaway
SQLite instance, signs up an administrator, uploads a few files and makes a collection
through the HTTP API, then runs Lighthouse (pinned in bench/lighthouse/package-lock.json)
with Debian's /usr/bin/chromium headless on each page: the upload page, an image card, a
code card, My files, the admin's files and a collection. Signed-in pages get the session
cookie as an extra header. It prints the performance, accessibility, best-practices and
SEO scores per page and form factor, and the ids of the audits that did not pass.

Scores are absolute (Lighthouse's own reference is its simulated slow phone or desktop),
so there is no ratio here; the load average is printed because a busy machine can cost
performance points. Target: 100 everywhere. Exit status: 0 when every score is 100, 1
otherwise, 2 when chromium or the npm install is missing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.cli import PASTEFILE, cli_env  # noqa: E402
from tests.support.servers import free_port, port_open, wait_until  # noqa: E402

CHROMIUM = Path(os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
FORMS = ("desktop", "mobile")
USER, PASSWORD = "admin", "lighthouse-password-1"


def _png() -> bytes:
    """A smooth 1200x800 photo-like image: the card shows it through the pipeline's srcset."""
    ramp = Image.linear_gradient("L").resize((1200, 800))
    across = Image.linear_gradient("L").rotate(90).resize((1200, 800))
    picture = Image.merge("RGB", (ramp, across, Image.new("L", (1200, 800), 160)))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


FIXTURES: list[tuple[str, bytes]] = [
    ("sunset.png", _png()),
    ("greet.py", b"def greet(name):\n    return f'hello {name}'\n\nprint(greet('world'))\n"),
    ("notes.md", b"# Notes\n\n- one\n- two\n\n```python\nprint('hi')\n```\n"),
    ("todo.txt", b"buy milk\nwrite the report\n"),
]


class Instance:
    """`pastefile serve` in production mode on a temp SQLite database."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = cli_env(
            APP_ENV="production",
            PASTEFILE_DATA_DIR=str(tmp / "var"),
            PASTEFILE_DATABASE_URL=f"sqlite:///{tmp / 'lh.sqlite'}",
            PASTEFILE_STORAGE_URL=f"file://{tmp / 'files'}",
            PASTEFILE_BASE_URL=self.base,
            PASTEFILE_SECRET_KEY="lighthouse-bench-secret-0123456789abcdef",
            PASTEFILE_LOG_LEVEL="WARNING",
        )
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._cli("db", "upgrade")
        self._cli("create-user", USER, "--admin", "--password", PASSWORD)
        log = (self.tmp / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [PASTEFILE, "serve", "--port", str(self.port), "--workers", "2"],
            env=self.env, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(lambda: port_open(self.port), timeout=60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def _cli(self, *args: str) -> None:
        subprocess.run([PASTEFILE, *args], env=self.env, cwd=self.tmp, check=True,
                       capture_output=True, timeout=120)  # fmt: skip


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no CSRF token on the login form"
    answer = session.post(
        f"{base}/login",
        data={"username": USER, "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Origin": base}, timeout=30,
    )  # fmt: skip
    answer.raise_for_status()
    # Signing in starts a fresh session, with a token of its own (in the header's Log out form).
    token = re.search(r'name="csrf_token" value="([^"]+)"', answer.text)
    assert token, "not signed in"
    session.headers.update({"X-CSRF-Token": token.group(1), "Origin": base})
    return session


def fixtures(base: str, session: requests.Session) -> dict[str, str]:
    """Upload the files as the signed-in admin, group them; the pages to measure."""
    ids = {}
    for name, data in FIXTURES:
        answer = session.post(f"{base}/", files={"file": (name, data)},
                              headers={"Accept": "application/json"}, timeout=60)  # fmt: skip
        answer.raise_for_status()
        ids[name] = str(answer.json()["id"])
    made = session.post(f"{base}/api/v1/collections", timeout=30,
                        json={"title": "Holiday", "files": list(ids.values())})  # fmt: skip
    assert made.ok, made.text
    time.sleep(3)  # the thumbnail jobs, so the card and My files show thumbnails
    return {
        "upload": "/",
        "card": f"/p/{ids['sunset.png']}",
        "code-card": f"/p/{ids['greet.py']}",
        "my-files": "/me/files",
        "admin": "/admin/files",
        "collection": f"/c/{made.json()['id']}",
    }


def lighthouse(url: str, form: str, cookie: str, out: Path) -> dict[str, Any]:
    args = [
        str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--only-categories={','.join(CATEGORIES)}",
        "--extra-headers", json.dumps({"Cookie": cookie}),
    ]  # fmt: skip
    if form == "desktop":
        args.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    subprocess.run(args, env=env, check=True, capture_output=True, timeout=300)
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def summary(report: dict[str, Any]) -> tuple[list[int], list[str]]:
    """The four scores, and the audits that cost points (weighted, below 1)."""
    categories = report["categories"]
    scores = [round(100 * (categories[c]["score"] or 0)) for c in CATEGORIES]
    weighted = {
        ref["id"] for c in CATEGORIES for ref in categories[c]["auditRefs"] if ref["weight"]
    }
    failed = sorted(
        ident
        for ident in weighted
        if (score := report["audits"][ident].get("score")) is not None and score < 1
    )
    return scores, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pages", help="comma-separated: upload,card,code-card,my-files,admin,collection"
    )
    parser.add_argument("--forms", default=",".join(FORMS), help="desktop,mobile")
    parser.add_argument("--keep", help="a folder to keep the JSON reports in")
    options = parser.parse_args()
    if not CHROMIUM.exists() or not LIGHTHOUSE.exists():
        print(f"needs {CHROMIUM} and `npm ci` in bench/lighthouse/", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="pf-lighthouse-"))
    instance = Instance(tmp)
    try:
        instance.start()
        session = sign_in(instance.base)
        pages = fixtures(instance.base, session)
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        return run(instance.base, pages, cookie, options)
    finally:
        instance.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(base: str, pages: dict[str, str], cookie: str, options: argparse.Namespace) -> int:
    wanted = options.pages.split(",") if options.pages else list(pages)
    keep = Path(options.keep) if options.keep else Path(tempfile.mkdtemp(prefix="pf-lh-out-"))
    keep.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True)
    print(f"lighthouse {version.stdout.strip()}, {CHROMIUM}; load average "
          + " ".join(f"{n:.2f}" for n in os.getloadavg()))  # fmt: skip
    print(f"{'page':12} {'form':8} {'perf':>4} {'a11y':>4} {'best':>4} {'seo':>4}  failed audits")
    perfect = True
    for name in wanted:
        for form in options.forms.split(","):
            report = lighthouse(base + pages[name], form, cookie, keep / f"{name}-{form}.json")
            scores, failed = summary(report)
            perfect = perfect and scores == [100] * len(CATEGORIES)
            cells = " ".join(f"{s:4d}" for s in scores)
            print(f"{name:12} {form:8} {cells}  {' '.join(failed) or '-'}", flush=True)
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}; reports in {keep}")
    return 0 if perfect else 1


if __name__ == "__main__":
    sys.exit(main())
