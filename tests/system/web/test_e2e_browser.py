"""End-to-end encryption in chromium: the upload page encrypts, the card decrypts, and
age's reference implementation (pyrage) is on the other side of each trip.

One live server (werkzeug thread, SQLite) and one browser for the module; helpers in
tests/support/browser_e2e.py. What a user notices: the bytes, the name and the type come
back; a wrong key or passphrase says so; the server never holds the plaintext or name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.accessibility import assert_accessible, install_axe
from tests.support.browser_e2e import (
    MIB,
    LiveApp,
    chromium,
    ciphertext_of,
    encrypt_on_upload_page,
    error_text,
    file_id,
    fragment,
    live_app,
    make_fragment,
    new_context,
    open_card,
    save_from_card,
    seal,
    stored_bytes,
    unseal,
    upload_ciphertext,
)

pytestmark = pytest.mark.system

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PASSPHRASE = "tangerine-anchor-violet-42"
NAME = "Reisebericht März 2026 \N{EN DASH} final.txt"  # not ASCII: Content-Disposition's filename*


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory.mktemp("e2e")) as app:
        yield app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _page(browser: Browser, live: LiveApp, sink: str = "worker") -> Page:
    context = new_context(browser, live.base, sink)
    install_axe(context)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.refused = refused  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(browser: Browser, live: LiveApp) -> Iterator[Page]:
    opened = _page(browser, live)
    yield opened
    refused = opened.refused  # type: ignore[attr-defined]
    opened.context.close()
    assert not refused, refused


def _ciphertext(live: LiveApp, link: str) -> bytes:
    return ciphertext_of(live.base, link)


def _upload_sealed(live: LiveApp, ciphertext: bytes, **options: str) -> str:
    return upload_ciphertext(live.base, ciphertext, **options)


def test_upload_page_encrypts_and_age_decrypts_it(page: Page, live: LiveApp) -> None:
    plaintext = os.urandom(3 * MIB + 12345)  # over the tus threshold: several 64 KiB chunks
    link = encrypt_on_upload_page(page, "holiday.bin", plaintext, "application/octet-stream")

    keys = fragment(link)
    assert keys.key.startswith("AGE-SECRET-KEY-1")
    assert (keys.name, keys.type) == ("holiday.bin", "application/octet-stream")
    ciphertext = _ciphertext(live, link)
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    assert unseal(ciphertext, keys.key) == plaintext
    # The result row shows the name (only this browser knows it) and links with the key.
    row = page.locator("#result-list .result").first
    assert row.locator(".result-name").inner_text() == "holiday.bin"
    assert "#k=AGE-SECRET-KEY-1" in str(row.locator(".result-link").get_attribute("href"))


def test_upload_page_passphrase_round_trip(page: Page, live: LiveApp) -> None:
    plaintext = b"the meeting moved to thursday\n" * 100
    link = encrypt_on_upload_page(page, "note.txt", plaintext, "text/plain", PASSPHRASE)

    keys = fragment(link)
    assert keys.passphrase and not keys.key
    assert unseal(_ciphertext(live, link), passphrase=PASSPHRASE) == plaintext


def test_server_holds_neither_the_plaintext_nor_the_name(page: Page, live: LiveApp) -> None:
    marker = b"PLAINTEXT-MARKER-" + os.urandom(8).hex().encode()
    plaintext = marker * 4000
    name = "secret-plans-" + os.urandom(4).hex() + ".txt"
    link = encrypt_on_upload_page(page, name, plaintext, "text/plain")

    keys = fragment(link)
    leaks = [
        path
        for path, data in stored_bytes(live.data_dir)
        for needle in (marker, name.encode(), keys.key.encode())
        if needle in data
    ]
    assert not leaks, leaks


# --- the card: age files made outside the browser, decrypted in it --------------------


@pytest.mark.parametrize("sink", ["picker", "worker", "blob"])
def test_card_decrypts_what_age_encrypted(browser: Browser, live: LiveApp, sink: str) -> None:
    plaintext = os.urandom(2 * MIB + 777)  # 33 age chunks, the last one short
    ciphertext, key = seal(plaintext)
    link = f"/p/{_upload_sealed(live, ciphertext)}" + make_fragment(key, NAME, "application/zip")
    page = _page(browser, live, sink)
    try:
        open_card(page, link)
        assert NAME in page.locator(".e2e-file").inner_text()
        name, saved = save_from_card(page, sink)
        assert name == NAME
        assert saved == plaintext
        assert not page.refused  # type: ignore[attr-defined]
    finally:
        page.context.close()


def test_browser_to_browser_round_trip(page: Page, live: LiveApp) -> None:
    plaintext = "Grüße, 你好, hola\n".encode() * 500
    page.goto("/")
    page.check("#e2e")
    assert_accessible(page, "upload page, encryption ticked")
    link = encrypt_on_upload_page(page, "greetings.txt", plaintext, "text/plain")

    open_card(page, link)
    frame = page.frame_locator("iframe.e2e-text")
    assert "你好" in frame.locator("body").inner_text()
    assert_accessible(page, "encrypted card with a preview")
    name, saved = save_from_card(page, "worker")
    assert (name, saved) == ("greetings.txt", plaintext)


def test_passphrase_round_trip_and_a_wrong_one(browser: Browser, live: LiveApp) -> None:
    plaintext = b"\x00\x01 passphrase-protected bytes " * 1000
    ciphertext, _ = seal(plaintext, PASSPHRASE)
    link = f"/p/{_upload_sealed(live, ciphertext)}" + make_fragment("", "p.bin", "", True)
    page = _page(browser, live, "blob")
    try:
        page.goto(link)
        assert_accessible(page, "encrypted card asking for a passphrase")
        page.fill("#e2e-passphrase", "not the passphrase")
        page.click(".e2e-passphrase button[type=submit]")
        assert error_text(page) == "Wrong passphrase."
        open_card(page, link, PASSPHRASE)
        assert save_from_card(page, "blob") == ("p.bin", plaintext)
    finally:
        page.context.close()


def test_a_key_that_is_wrong_missing_or_broken_says_so(page: Page, live: LiveApp) -> None:
    ciphertext, _ = seal(b"not for you")
    other = seal(b"")[1]
    path = f"/p/{_upload_sealed(live, ciphertext)}"
    cases = {
        make_fragment(other, "x.txt", "text/plain"): "does not open this file",
        "": "has no key",
        "#k=AGE-SECRET-KEY-1NOTAKEY": "not valid",
        "#k=something-else": "not valid",
    }
    for fragment_text, expected in cases.items():
        page.goto("/")  # a new document: only the fragment would change otherwise
        page.goto(path + fragment_text)
        assert expected in error_text(page), fragment_text
        assert page.locator(".e2e-save").is_hidden()


def test_damaged_ciphertext_is_reported(browser: Browser, live: LiveApp) -> None:
    plaintext = os.urandom(300_000)
    ciphertext, key = seal(plaintext)
    damaged = ciphertext[:-1000] + bytes([ciphertext[-1000] ^ 1]) + ciphertext[-999:]
    link = f"/p/{_upload_sealed(live, damaged)}" + make_fragment(key, "d.bin", "")
    page = _page(browser, live, "blob")
    try:
        open_card(page, link)  # the header is intact: the damage shows while decrypting
        page.click(".e2e-save")
        assert "damaged" in error_text(page)
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("claimed", "frame"),
    [("text/html", "iframe.e2e-text"), ("image/svg+xml", "iframe.e2e-image"),
     ("application/pdf", "iframe.e2e-pdf")],
)  # fmt: skip
def test_a_preview_runs_no_script_of_the_file(
    page: Page, live: LiveApp, claimed: str, frame: str
) -> None:
    script = b"<script>parent.document.title='pwned';top.location='about:blank'</script>"
    hostile = (
        b'<svg xmlns="http://www.w3.org/2000/svg">' + script + b"</svg>"
        if claimed == "image/svg+xml"
        else b"<html>" + script + b"hi</html>"
    )
    ciphertext, key = seal(hostile)
    link = f"/p/{_upload_sealed(live, ciphertext)}" + make_fragment(key, "x", claimed)
    open_card(page, link)
    page.locator(frame).wait_for()
    page.wait_for_timeout(500)
    assert page.title() != "pwned"
    assert f"/p/{file_id(link)}" in page.url
    if claimed != "application/pdf":  # PDFs: the viewer needs a frame without sandbox
        assert page.locator(frame).get_attribute("sandbox") == ""


@pytest.mark.parametrize(("mime", "size"), [("text/plain", 5000), ("application/zip", 3 * MIB)])
def test_one_view_and_save_is_one_download(
    browser: Browser, live: LiveApp, mime: str, size: int
) -> None:
    """The card reads /i/<id> once for the key check, the preview and the first save, so
    a file limited to one download opens and saves once, then is gone."""
    plaintext = os.urandom(size)
    ciphertext, key = seal(plaintext)
    link = f"/p/{_upload_sealed(live, ciphertext, max_downloads='1')}"
    link += make_fragment(key, "once.bin", mime)
    page = _page(browser, live, "picker")
    try:
        open_card(page, link)
        assert save_from_card(page, "picker") == ("once.bin", plaintext)
        page.goto("/")
        page.goto(link)
        assert page.locator("#e2e").count() == 0 or "gone" in error_text(page)
    finally:
        page.context.close()


def test_a_file_password_first_then_the_key_from_the_link(browser: Browser, live: LiveApp) -> None:
    """The password page keeps the link's fragment through its form and redirect."""
    plaintext = b"behind two locks"
    ciphertext, key = seal(plaintext)
    ident = _upload_sealed(live, ciphertext, password="file-password-1")
    page = _page(browser, live, "blob")
    try:
        page.goto(f"/p/{ident}" + make_fragment(key, "locked.txt", "text/plain"))
        for password in ("a wrong one", "file-password-1"):
            page.fill("#password", password)
            page.click("main form button[type=submit]")
        page.locator(".e2e-save").wait_for()
        assert f"/p/{ident}#k=AGE-SECRET-KEY-1" in page.url
        assert save_from_card(page, "blob") == ("locked.txt", plaintext)
    finally:
        page.context.close()
