"""Collections in a real browser (Playwright, Debian's chromium, a live server): a
multi-file upload makes one link, the collection page shows a grid with a keyboard
lightbox and "Download all", a protected collection unlocks through the files' form,
My files shows collections as folders that take a dragged file, and the owner edits a
collection (title, password, a file taken out) while a visitor must unlock it again."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from pastefile.composition import build_services
from pastefile.db import migrate
from pastefile.web import create_app
from tests.support.accessibility import assert_accessible, install_axe
from tests.support.images import image_bytes
from tests.support.servers import free_port
from tests.support.settings import REQUIRE_SERVICES, make_settings

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - the dev lock installs it
    sync_playwright = None


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("collections-ui")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        tmp, f"sqlite:///{tmp / 'ui.sqlite'}", base_url=base, login_rate_limit="1000/minute"
    )
    services = build_services(settings)
    migrate.upgrade(services.db)
    services.accounts.create_user("alice", "alice-password-1")
    server = make_server("127.0.0.1", port, create_app(services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base
    server.shutdown()
    services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None or not CHROMIUM.exists():
        if REQUIRE_SERVICES:
            pytest.fail("chromium and playwright are required", pytrace=False)
        pytest.skip("chromium or playwright missing")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        base_url=live,
        accept_downloads=True,
    )
    install_axe(context)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    refused: list[str] = []
    opened.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    yield opened
    context.close()
    assert not refused, refused


def _png(color: str, size: tuple[int, int]) -> dict[str, Any]:
    return {"name": f"{color}.png", "mimeType": "image/png", "buffer": image_bytes("PNG", size)}


def _upload_batch(page: Page) -> str:
    page.goto("/")
    assert page.is_checked("#one-link")  # one link for all, by default
    files = [
        _png("red", (64, 48)),
        _png("blue", (48, 64)),
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello\n"},
    ]
    page.set_input_files("#file", files=files)
    page.wait_for_function("() => document.querySelectorAll('#result-list .result').length === 3")
    link = page.locator("#collection-link")
    link.wait_for()
    href = str(link.get_attribute("href"))
    assert re.search(r"/c/[A-Za-z0-9]+$", href) and re.search(
        r"/s/[A-Za-z0-9]{8}$", link.inner_text()
    )
    return href


def test_a_batch_becomes_one_collection_with_a_gallery(page: Page) -> None:
    href = _upload_batch(page)
    page.goto(href)
    tiles = page.locator("#collection-files .file")
    assert tiles.count() == 3
    download = page.locator("#download-all")
    assert re.search(r"Download all \(\d+(\.\d+)? (B|KiB|KB)\)", download.inner_text())
    assert_accessible(page, "collection")
    # The lightbox, by keyboard alone: Enter opens, arrows move, Escape closes, focus returns.
    first = page.locator(".lightbox-open").first
    first.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#lightbox")
    dialog.wait_for(state="visible")
    shown = page.locator("#lightbox-caption").inner_text()
    assert shown in ("red.png", "blue.png")  # in the order the uploads finished
    page.keyboard.press("ArrowRight")
    assert (
        page.locator("#lightbox-caption").inner_text() == ({"red.png", "blue.png"} - {shown}).pop()
    )
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('lightbox-open')")
    # Each file's card is one click away.
    page.click("#collection-files a.fname >> text=notes.txt")
    page.wait_for_url(re.compile(r"/p/[A-Za-z0-9]+$"))
    page.go_back()
    with page.expect_download() as caught:
        page.click("#download-all")
    saved = caught.value.path()
    with zipfile.ZipFile(io.BytesIO(Path(saved).read_bytes())) as archive:
        assert sorted(archive.namelist()) == ["blue.png", "notes.txt", "red.png"]


def test_unticked_gives_separate_links(page: Page) -> None:
    page.goto("/")
    page.uncheck("#one-link")
    files = [
        {"name": f"solo-{n}.txt", "mimeType": "text/plain", "buffer": f"solo {n}\n".encode()}
        for n in range(2)
    ]
    page.set_input_files("#file", files=files)
    page.wait_for_function("() => document.querySelectorAll('#result-list .result').length === 2")
    assert page.locator("#collection-result").is_hidden()


def test_a_protected_collection_unlocks_with_the_files_form(
    page: Page, browser: Browser, live: str
) -> None:
    page.goto("/")
    page.click("details.options summary")
    page.fill("#upload-password", "open sesame")
    files = [
        {"name": f"secret-{n}.txt", "mimeType": "text/plain", "buffer": f"secret {n}\n".encode()}
        for n in range(2)
    ]
    page.set_input_files("#file", files=files)
    page.locator("#collection-link").wait_for()
    href = str(page.locator("#collection-link").get_attribute("href"))
    page.wait_for_function("() => document.querySelectorAll('#result-list .result').length === 2")
    other = browser.new_context(base_url=live)
    stranger = other.new_page()
    answer = stranger.goto(href)
    assert answer is not None and answer.status == 403
    stranger.fill("#password", "wrong")
    stranger.click("main form button[type=submit]")
    assert "wrong" in stranger.locator(".error").inner_text()
    stranger.fill("#password", "open sesame")
    stranger.click("main form button[type=submit]")
    stranger.wait_for_url(re.compile(r"/c/[A-Za-z0-9]+$"))
    # The files carry the same password: the collection's unlock does not open them.
    assert stranger.locator("#collection-files .file").count() == 0
    other.close()


def test_my_files_shows_folders_and_takes_a_dragged_file(page: Page) -> None:
    page.goto("/login")
    page.fill("#username", "alice")
    page.fill("#password", "alice-password-1")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/me/files$"))
    _upload_batch(page)
    page.goto("/")
    loose = [{"name": "loose.txt", "mimeType": "text/plain", "buffer": b"loose\n"}]
    page.uncheck("#one-link")
    page.set_input_files("#file", files=loose)
    page.wait_for_function("() => document.querySelectorAll('#result-list .result').length === 1")
    page.goto("/me/files")
    folder = page.locator("#folders .folder").first
    assert "3 files" in folder.inner_text()
    page.drag_and_drop("#files .file >> text=loose.txt", "#folders .folder >> nth=0")
    page.wait_for_function(
        "() => document.querySelector('#folders .folder-count').textContent.includes('4')"
    )


def _sign_in(page: Page) -> None:
    page.goto("/login")
    page.fill("#username", "alice")
    page.fill("#password", "alice-password-1")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/me/files$"))


def _unlock(visitor: Page, href: str, password: str) -> None:
    answer = visitor.goto(href)
    assert answer is not None and answer.status == 403  # the password form
    visitor.fill("#password", password)
    visitor.click("main form button[type=submit]")
    visitor.wait_for_url(re.compile(r"/c/[A-Za-z0-9]+$"))


def _save_edit(page: Page, **fields: str) -> None:
    """Open the Edit form by keyboard, fill it, save; the page reloads with the change."""
    page.locator(".collection-actions [data-action=edit]").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "title"  # focus moves into the form
    for name, value in fields.items():
        page.fill(f"#collection-edit [name={name}]", value)
    with page.expect_navigation():
        page.locator("#collection-edit button[type=submit]").press("Enter")


def test_the_owner_edits_the_collection_and_a_new_password_locks_visitors_out(
    page: Page, browser: Browser, live: str
) -> None:
    _sign_in(page)
    href = _upload_batch(page)
    page.goto(href)
    page.on("dialog", lambda dialog: dialog.accept())  # "take this file out?"
    _save_edit(page, title="Renamed trip", password="first pass")
    assert page.locator("#collection-title").inner_text().startswith("Renamed trip")
    assert_accessible(page, "collection-edit")

    other = browser.new_context(base_url=live)
    visitor = other.new_page()
    _unlock(visitor, href, "first pass")
    assert visitor.locator("#collection-files .file").count() == 3
    assert visitor.locator("#collection-edit").count() == 0  # not theirs to edit

    _save_edit(page, password="second pass")
    with page.expect_navigation():
        page.locator("#collection-files .file >> text=notes.txt").locator("..").locator(
            "[data-action=remove-file]"
        ).click()
    assert page.locator("#collection-files .file").count() == 2

    answer = visitor.goto(href)  # the unlock it had is worthless now
    assert answer is not None and answer.status == 403
    _unlock(visitor, href, "second pass")
    assert visitor.locator("#collection-title").inner_text().startswith("Renamed trip")
    names = visitor.locator("#collection-files .fname").all_inner_texts()
    assert sorted(names) == ["blue.png", "red.png"]
    other.close()


def test_the_browser_that_made_an_anonymous_collection_edits_and_deletes_it(
    page: Page, browser: Browser, live: str
) -> None:
    href = _upload_batch(page)  # signed out: the upload page keeps the collection's token
    other = browser.new_context(base_url=live)
    stranger = other.new_page()
    stranger.goto(href)
    assert stranger.locator(".collection-actions [data-action=edit]").is_hidden()
    other.close()
    page.goto(href)
    _save_edit(page, title="Anonymous album")
    assert page.locator("#collection-title").inner_text().startswith("Anonymous album")
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(".collection-actions [data-action=delete]").click()
    page.locator("#collection-status").get_by_text("This collection was deleted.").wait_for()
    answer = page.goto(href)
    assert answer is not None and answer.status == 404
