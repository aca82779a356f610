"""The language switcher only redirects to this site."""

from __future__ import annotations

import pytest

from pastefile.web.ui.language import safe_next


@pytest.mark.parametrize("target", ["//evil.test/", "https://evil.test/", "/\\evil.test", None])
def test_language_switcher_only_redirects_on_site(target):
    assert safe_next(target) == "/"
    assert safe_next("/help?x=1") == "/help?x=1"


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.test", "/\n/evil.test", "/\r\n/x", "/ /evil.test", "/\x0b/evil.test", "/x\\y"],
)
def test_control_characters_and_backslashes_never_lead_off_site(target):
    assert safe_next(target) == "/"
