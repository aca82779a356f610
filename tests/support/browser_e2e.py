"""End-to-end encryption in a real browser: a live server, Debian's chromium, the upload
page's "Encrypt end to end" and an encrypted file's card, driven by Playwright.

Reusable by any test that needs a browser on one side of an age file (the interop tests
with the ``pf`` client): ``encrypt_on_upload_page`` returns the key-bearing link,
``save_from_card`` the bytes the card decrypts, ``fragment`` reads a link's keys, and
``seal``/``unseal`` are the age reference (pyrage) on the test's side.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyrage
import pytest
import requests
from werkzeug.serving import make_server

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.web import create_app
from tests.support.servers import free_port
from tests.support.settings import REQUIRE_SERVICES, make_settings

try:
    from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev lock installs it
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
MIB = 1024 * 1024
# How a card's "Decrypt and save" is caught: the File System Access API (a picker that
# writes into the origin-private file system, read back by the test), the service-worker
# download (a Playwright download), or the in-memory Blob (service workers blocked).
SINKS = ("picker", "worker", "blob")
_NO_PICKER = "delete window.showSaveFilePicker;"
_FAKE_PICKER = """
window.showSaveFilePicker = async (options) => {
  window.__savedName = options.suggestedName;
  const dir = await navigator.storage.getDirectory();
  return dir.getFileHandle("saved.bin", { create: true });
};"""
_READ_SAVED = """async () => {
  const dir = await navigator.storage.getDirectory();
  const file = await (await dir.getFileHandle("saved.bin")).getFile();
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 32768) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
  }
  return [window.__savedName, btoa(binary)];
}"""


def unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason}; PASTEFILE_REQUIRE_SERVICES=1 requires it", pytrace=False)
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium under Playwright (never a downloaded browser)."""
    if sync_playwright is None:
        unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class LiveApp:
    base: str
    services: Services
    data_dir: Path  # the storage and the SQLite file: what a stolen disk holds


@contextmanager
def live_app(tmp: Path, **overrides: Any) -> Iterator[LiveApp]:
    """The app on a werkzeug thread (SQLite, the local disk), tus from 1 MiB up."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    options: dict[str, Any] = {"base_url": base, "max_upload_size": 64 * MIB}
    options.update(overrides)
    settings = make_settings(tmp, f"sqlite:///{tmp / 'e2e.sqlite'}", **options)
    services = build_services(settings)
    migrate.upgrade(services.db)
    app = create_app(services=services)
    app.jinja_env.globals["tus_threshold"] = MIB
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveApp(base, services, tmp)
    finally:
        server.shutdown()
        services.close()


def new_context(browser: Browser, base: str, sink: str = "worker") -> BrowserContext:
    """A browser context whose cards save through ``sink`` (one of SINKS)."""
    assert sink in SINKS, sink
    context = browser.new_context(
        base_url=base,
        accept_downloads=True,
        service_workers="block" if sink == "blob" else "allow",
    )
    context.set_default_timeout(30_000)
    context.add_init_script(_FAKE_PICKER if sink == "picker" else _NO_PICKER)
    return context


# --- the link's fragment, and age on the test's side -----------------------------------


@dataclass(frozen=True)
class Fragment:
    key: str  # AGE-SECRET-KEY-1…, or "" with a passphrase
    passphrase: bool
    name: str
    type: str


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64url(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def fragment(link: str) -> Fragment:
    fields = {k: v[0] for k, v in parse_qs(urlsplit(link).fragment).items()}
    return Fragment(
        key=fields.get("k", ""),
        passphrase=fields.get("p") == "1",
        name=_unb64url(fields["n"]) if "n" in fields else "",
        type=_unb64url(fields["t"]) if "t" in fields else "",
    )


def make_fragment(key: str, name: str, mime: str, passphrase: bool = False) -> str:
    first = "p=1" if passphrase else f"k={key}"
    return f"#{first}&n={_b64url(name)}&t={_b64url(mime)}"


def seal(plaintext: bytes, passphrase: str | None = None) -> tuple[bytes, str]:
    """age ciphertext and its key (``""`` with a passphrase), made by pyrage."""
    if passphrase is not None:
        return pyrage.passphrase.encrypt(plaintext, passphrase), ""
    identity = pyrage.x25519.Identity.generate()
    return pyrage.encrypt(plaintext, [identity.to_public()]), str(identity)


def unseal(ciphertext: bytes, key: str = "", passphrase: str | None = None) -> bytes:
    if passphrase is not None:
        return bytes(pyrage.passphrase.decrypt(ciphertext, passphrase))
    return bytes(pyrage.decrypt(ciphertext, [pyrage.x25519.Identity.from_str(key)]))


def upload_ciphertext(base: str, ciphertext: bytes, **options: str) -> str:
    """Ciphertext made outside the browser, uploaded with the encryption flag (as
    ``pf push --encrypt`` does); its id. ``options``: form fields (``max_downloads``...)."""
    response = requests.post(
        f"{base}/",
        files={"file": ("blob", ciphertext)},
        data={"encryption": "age", **options},
        headers={"Accept": "application/json"},
        timeout=60,
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def ciphertext_of(base: str, link: str) -> bytes:
    """The stored bytes behind a link, as curl gets them."""
    response = requests.get(f"{base}/i/{file_id(link)}", timeout=60)
    assert response.status_code == 200, response.text
    return response.content


def file_id(link: str) -> str:
    """The id in a /p/<id> or /s/<code> link's path (a short code redirects)."""
    match = re.search(r"/[ps]/([A-Za-z0-9_-]+)", urlsplit(link).path)
    assert match, link
    return match.group(1)


# --- the browser's side ------------------------------------------------------------------


def encrypt_on_upload_page(
    page: Page, name: str, data: bytes, mime: str, passphrase: str | None = None
) -> str:
    """Upload one file from the upload page with "Encrypt end to end" ticked; the page
    link it shows, with the key in its fragment."""
    page.goto("/")
    page.check("#e2e")
    if passphrase is not None:
        page.fill("#e2e-passphrase", passphrase)
    page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    open_link = page.locator("#result-list .result a.button", has_text="Open")
    open_link.wait_for(timeout=120_000)
    return str(open_link.get_attribute("href"))


def open_card(page: Page, link: str, passphrase: str | None = None) -> None:
    """Open an encrypted file's card and wait until it can save (or shows an error)."""
    page.goto(link)
    if passphrase is not None:
        page.fill("#e2e-passphrase", passphrase)
        page.click(".e2e-passphrase button[type=submit]")
    page.locator(".e2e-save:visible, .e2e-error:visible").first.wait_for()


def save_from_card(page: Page, sink: str) -> tuple[str, bytes]:
    """Click "Decrypt and save" on an open card; the saved file's name and bytes."""
    if sink == "picker":
        page.click(".e2e-save")
        page.locator(".e2e-status", has_text="saved").wait_for(timeout=120_000)
        name, encoded = page.evaluate(_READ_SAVED)
        return str(name), base64.b64decode(encoded)
    with page.expect_download(timeout=120_000) as caught:
        page.click(".e2e-save")
    download = caught.value
    path = download.path()
    assert download.failure() is None, download.failure()
    return download.suggested_filename, Path(path).read_bytes()


def error_text(page: Page) -> str:
    box = page.locator(".e2e-error")
    box.wait_for()
    return str(box.inner_text())


def stored_bytes(root: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file under the data dir (storage, database, journals), for leak scans."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes()
