"""The server side of end-to-end encryption's pages without a browser: the upload page's
option and the encrypted card carry the bundles and their words in the reader's language
(the browser tests: tests/system/web/test_e2e_browser.py)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.support.e2e import form_upload, seal

BROWSER = {"Accept": "text/html"}
CHINESE = {**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_the_upload_page_offers_encryption_only_with_its_script(client: FlaskClient) -> None:
    html = client.get("/", headers=BROWSER).get_data(as_text=True)
    # Hidden in the markup: upload.js shows it once static/e2e/encrypt.js has run.
    assert '<fieldset class="e2e-options" id="e2e-options" hidden>' in html
    assert "/static/e2e/encrypt.js" in html
    assert html.index("/static/e2e/encrypt.js") < html.index("/static/upload.js")
    assert "端到端加密" in client.get("/", headers=CHINESE).get_data(as_text=True)


def test_the_encrypted_card_carries_decrypt_js_and_its_words(client: FlaskClient) -> None:
    made = form_upload(client, seal(b"secret").ciphertext)
    page = f"/p/{made.get_json()['id']}"
    html = client.get(page, headers=BROWSER).get_data(as_text=True)
    assert "/static/e2e/decrypt.js" in html and 'id="e2e-messages"' in html
    assert 'data-wrong-passphrase="Wrong passphrase."' in html
    chinese = client.get(page, headers=CHINESE).get_data(as_text=True)
    assert 'data-save="解密并保存"' in chinese


def test_the_bundles_are_served(client: FlaskClient) -> None:
    for name in ("encrypt.js", "decrypt.js", "sw.js"):
        response = client.get(f"/static/e2e/{name}")
        assert response.status_code == 200, name
        assert response.mimetype in ("text/javascript", "application/javascript"), name
