"""File requests and editing a file after creation, in a real browser (Playwright driving
Debian's chromium against a live server): the owner asks for files on the requests page,
a visitor uploads on /u/<code> and gets a receipt without a link, the owner edits a
file's password on its card with the keyboard only, and the old unlock stops working.

Without chromium these tests skip; with ``PASTEFILE_REQUIRE_SERVICES=1`` (CI) they fail.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from pastefile.composition import Services, build_services
from pastefile.db import migrate
from pastefile.web import create_app
from tests.support.accessibility import assert_accessible, install_axe
from tests.support.servers import free_port
from tests.support.settings import REQUIRE_SERVICES, make_settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev lock installs it
    sync_playwright = None


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("requests-ui")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        tmp, f"sqlite:///{tmp / 'ui.sqlite'}", base_url=base, login_rate_limit="1000/minute"
    )
    services: Services = build_services(settings)
    migrate.upgrade(services.db)
    app = create_app(services=services)
    app.jinja_env.globals["tus_threshold"] = 1024 * 1024  # exercise tus with small files
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    services.accounts.create_user("asker", "asker-password-1")
    yield {"base": base, "services": services}
    server.shutdown()
    services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    reason = None
    if sync_playwright is None:
        reason = "the playwright package is not installed"
    elif not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}; PASTEFILE_REQUIRE_SERVICES=1 requires it", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


def _page(browser: Browser, live: dict[str, Any], locale: str = "en-US") -> Page:
    context = browser.new_context(base_url=live["base"], locale=locale)
    install_axe(context)
    context.set_default_timeout(15_000)
    return context.new_page()


def _log_in(page: Page) -> None:
    page.goto("/login")
    page.fill("#username", "asker")
    page.fill("#password", "asker-password-1")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/me/files$"))


def test_a_visitor_uploads_through_the_link_and_gets_a_receipt(
    browser: Browser, live: dict[str, Any]
) -> None:
    owner = _page(browser, live)
    _log_in(owner)
    owner.click("nav a:has-text('Requests')")
    owner.fill("#request-title", "Slides for Friday")
    owner.fill("#request-message", "One PDF or text file each, please.")
    owner.fill("#request-max-files", "2")
    owner.click("form.request-form button[type=submit]")
    owner.locator(".flash", has_text="Created the request").wait_for()
    assert_accessible(owner, "requests")
    link = owner.locator("code.request-link").first.inner_text()
    assert "/u/" in link

    visitor = _page(browser, live)
    visitor.goto(link)
    assert visitor.locator("h1").inner_text() == "Slides for Friday"
    assert visitor.locator(".request-limits", has_text="Files left: 2 of 2").count() == 1
    assert_accessible(visitor, "request-upload")
    visitor.set_input_files(
        "#request-file",
        files=[{"name": "talk.txt", "mimeType": "text/plain", "buffer": b"my talk\n"}],
    )
    visitor.click("#request-form button[type=submit]")
    receipt = visitor.locator("#receipt-list li").first
    receipt.wait_for()
    assert receipt.locator(".receipt-name").inner_text() == "talk.txt"
    sha = receipt.locator(".receipt-sha").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", sha)
    assert visitor.locator("#receipt-list a").count() == 0  # a receipt, never a link
    # The owner's page counts it; the file is theirs and private.
    owner.reload()
    assert owner.locator("table.requests td", has_text="1 / 2").count() == 1
    owner.goto("/me/files")
    assert owner.locator("text=talk.txt").count() >= 1
    owner.context.close()
    visitor.context.close()


def test_the_request_page_in_chinese(browser: Browser, live: dict[str, Any]) -> None:
    page = _page(browser, live, locale="zh-CN")
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9"})
    _log_in(page)
    page.goto("/account/requests")
    assert page.locator("h1").inner_text() == "文件征集"
    page.context.close()


def test_the_owner_changes_a_password_with_the_keyboard_and_old_unlocks_end(
    browser: Browser, live: dict[str, Any]
) -> None:
    owner = _page(browser, live)
    _log_in(owner)
    csrf = owner.goto("/").ok and owner.locator("meta[name=csrf-token]").get_attribute("content")
    response = owner.request.post(
        "/api/v1/files",
        multipart={
            "file": {"name": "plan.txt", "mimeType": "text/plain", "buffer": b"the plan\n"},
            "password": "first secret",
            "visibility": "unlisted",
        },
        headers={"X-CSRF-Token": str(csrf)},
    )
    assert response.status == 201, response.text()
    ident = response.json()["id"]

    visitor = _page(browser, live)
    visitor.goto(f"/p/{ident}")
    visitor.fill("#password", "first secret")
    visitor.click("main form button[type=submit]")
    visitor.locator(".card h1.name", has_text="plan.txt").wait_for()

    owner.goto(f"/p/{ident}")
    owner.focus(".actions button[data-action=edit]")
    owner.keyboard.press("Enter")
    form = owner.locator(".edit-form")
    form.locator("input[name=password]").focus()
    owner.keyboard.type("second secret")
    form.locator("input[name=max_downloads]").focus()
    owner.keyboard.type("5")
    form.locator("button[type=submit]").focus()
    with owner.expect_navigation():  # saved: the card reloads
        owner.keyboard.press("Enter")
    owner.locator(".card h1.name", has_text="plan.txt").wait_for()
    api = owner.request.get(f"/api/v1/files/{ident}").json()
    assert api["max_downloads"] == 5 and api["password_protected"] is True

    visitor.reload()  # the old unlock is worthless now
    assert visitor.locator("h1", has_text="protected by a password").count() == 1
    owner.context.close()
    visitor.context.close()


def test_a_large_file_goes_through_tus_and_gets_its_receipt(
    browser: Browser, live: dict[str, Any]
) -> None:
    owner = _page(browser, live)
    _log_in(owner)
    owner.goto("/account/requests")
    owner.fill("#request-title", "Raw footage")
    owner.click("form.request-form button[type=submit]")
    owner.locator(".flash", has_text="Created the request").wait_for()
    link = owner.locator("tr", has_text="Raw footage").locator("code.request-link").inner_text()
    data = os.urandom(3 * 1024 * 1024 + 17)  # over the 1 MiB threshold: tus, in chunks
    visitor = _page(browser, live)
    visitor.goto(link)
    with visitor.expect_request(lambda r: r.url.endswith("/api/v1/uploads") and r.method == "POST"):
        visitor.set_input_files(
            "#request-file",
            files=[{"name": "clip.bin", "mimeType": "application/octet-stream", "buffer": data}],
        )
        visitor.click("#request-form button[type=submit]")
    receipt = visitor.locator("#receipt-list li", has_text="clip.bin")
    receipt.wait_for()
    assert receipt.locator(".receipt-sha").inner_text() == hashlib.sha256(data).hexdigest()
    owner.reload()
    assert owner.locator("tr", has_text="Raw footage").locator("td", has_text="1 ·").count() == 1
    owner.context.close()
    visitor.context.close()
