"""End-to-end encryption in chromium: the upload page encrypts, the card decrypts, and
age's reference implementation (pyrage) is on the other side of each trip.

One live server (werkzeug thread, SQLite) and one browser for the module; helpers in
tests/support/browser_e2e.py. What a user notices: the bytes, the name and the type come
back; a wrong key or passphrase says so; the server never holds the plaintext or name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.browser_e2e import (
    MIB,
    LiveApp,
    chromium,
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
)

pytestmark = pytest.mark.system

try:
    from playwright.sync_api import Browser, Page
except ImportError:  # pragma: no cover - the dev lock installs it
    pass

PASSPHRASE = "tangerine-anchor-violet-42"
NAME = "Reisebericht März 2026 – final.txt"


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
    response = requests.get(f"{live.base}/i/{file_id(link)}", timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def _upload_sealed(live: LiveApp, ciphertext: bytes) -> str:
    """The ciphertext through the API with the encryption flag, as ``pf push --encrypt``."""
    response = requests.post(
        f"{live.base}/",
        files={"file": ("blob", ciphertext)},
        data={"encryption": "age"},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


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
