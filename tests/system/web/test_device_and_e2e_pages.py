"""The server's two new pages in a real browser (Playwright, Debian's chromium): approving
a device login from ``/device`` after signing in, and the password prompt of an encrypted
file, which must hand the key in the URL fragment on to the decrypt page.

The decrypting itself is ``/static/e2e/decrypt.js``'s, tested with its own bundle.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.web import create_app
from tests.support.accessibility import assert_accessible, install_axe
from tests.support.e2e import seal
from tests.support.servers import free_port
from tests.support.settings import REQUIRE_SERVICES, make_settings

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "alice-password-1"

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev lock installs it
    sync_playwright = None


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("device")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(tmp, f"sqlite:///{tmp / 'ui.sqlite'}", base_url=base)
    services: Services = build_services(settings)
    migrate.upgrade(services.db)
    server = make_server("127.0.0.1", port, create_app(services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    services.accounts.create_user("alice", PASSWORD)
    yield {"base": base, "services": services}
    server.shutdown()
    services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None or not CHROMIUM.exists():
        reason = "playwright and /usr/bin/chromium are needed"
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}; PASTEFILE_REQUIRE_SERVICES=1 requires them", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(base_url=live["base"], locale="en-US")
    install_axe(context)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


def test_a_person_signs_in_from_the_device_page_and_approves(
    page: Page, live: dict[str, Any]
) -> None:
    base = live["base"]
    grant = requests.post(
        f"{base}/oauth/device_authorization",
        data={"client_id": "pf", "scope": "read upload", "device_name": "build box"},
        timeout=10,
    ).json()
    page.goto(grant["verification_uri_complete"])
    page.locator("#main").get_by_role("link", name="Log in").click()
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/device?user_code={grant['user_code']}")
    assert page.get_by_text("build box").is_visible()
    assert_accessible(page, "device-confirm")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Approved.").wait_for()
    token = requests.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": grant["device_code"],
            "client_id": "pf",
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert (
        requests.get(f"{base}/api/v1/me", headers=bearer, timeout=10).json()["username"] == "alice"
    )


def test_the_password_prompt_keeps_the_key_in_the_fragment(
    page: Page, live: dict[str, Any]
) -> None:
    base = live["base"]
    sealed = seal(b"behind a password and a key")
    sent = requests.post(
        f"{base}/",
        files={"file": ("blob", sealed.ciphertext)},
        data={"encryption": "age", "password": "open sesame"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    ident = sent.json()["id"]
    page.goto(f"/p/{ident}#{sealed.key}")
    page.fill("#password", "open sesame")
    page.get_by_role("button", name="Open").click()
    page.wait_for_selector("#e2e", state="attached")
    assert page.evaluate("location.hash") == f"#{sealed.key}"
    assert page.get_attribute("#e2e", "data-raw-url") == f"/i/{ident}"
