"""The browser and ``pf`` open each other's encrypted files: one format, one link layout.

The page in Debian's chromium encrypts and ``pf pull`` decrypts; ``pf push --encrypt``
encrypts and the card in chromium decrypts. Bytes and names come back identical, and the
server in between only ever held ciphertext.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.browser_e2e import (
    MIB,
    LiveApp,
    chromium,
    encrypt_on_upload_page,
    fragment,
    live_app,
    new_context,
    open_card,
    save_from_card,
    stored_bytes,
)
from tests.support.pf import pf_env, run_pf

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

NAME = "Überweisung 2026 \N{EN DASH} März.pdf"  # not ASCII: the name travels in the link


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    with live_app(tmp_path_factory.mktemp("interop")) as app:
        yield app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, live: LiveApp) -> Iterator[Page]:
    context = new_context(browser, live.base, "worker")
    yield context.new_page()
    context.close()


def _absent_from_server(live: LiveApp, *secrets: bytes) -> None:
    for path, stored in stored_bytes(live.data_dir):
        for secret in secrets:
            assert secret not in stored, f"{secret[:20]!r} found in {path}"


def test_pf_decrypts_what_the_browser_encrypted(page: Page, live: LiveApp, tmp_path: Path) -> None:
    plaintext = os.urandom(2 * MIB + 4321)  # over the page's tus threshold
    link = encrypt_on_upload_page(page, NAME, plaintext, "application/pdf")
    absolute = link if link.startswith("http") else live.base + link

    pulled = run_pf("pull", absolute, "-o", "out.pdf", env=pf_env(tmp_path / "home"), cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "out.pdf").read_bytes() == plaintext
    _absent_from_server(live, plaintext[:4096], NAME.encode(), fragment(link).key.encode())


def test_the_browser_decrypts_what_pf_encrypted(page: Page, live: LiveApp, tmp_path: Path) -> None:
    plaintext = os.urandom(3 * MIB + 17)
    (tmp_path / NAME).write_bytes(plaintext)
    env = pf_env(tmp_path / "home")
    pushed = run_pf("--server", live.base, "push", "--encrypt", NAME, env=env, cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stderr
    link = pushed.stdout.strip().splitlines()[-1]
    assert fragment(link).name == NAME and fragment(link).key.startswith("AGE-SECRET-KEY-1")

    open_card(page, link)
    name, saved = save_from_card(page, "worker")
    assert (name, saved) == (NAME, plaintext)
    _absent_from_server(live, plaintext[:4096], NAME.encode(), fragment(link).key.encode())
