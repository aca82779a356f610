"""The device flow's pure rules: how user codes look and are typed, and which scopes a
request may ask for (the flow itself: tests/integration/web/test_device_flow.py)."""

from __future__ import annotations

import pytest

from pastefile.errors import DeviceGrantError
from pastefile.services.device_auth import (
    DEFAULT_SCOPES,
    USER_CODE_ALPHABET,
    format_user_code,
    normalize_user_code,
    parse_scope,
)


def test_the_alphabet_has_no_vowels_and_no_look_alikes() -> None:
    assert len(set(USER_CODE_ALPHABET)) == 20
    assert not set(USER_CODE_ALPHABET) & set("AEIOUY0123456789")


@pytest.mark.parametrize("typed", ["wdjb-mjht", "WDJB MJHT", " wdjbmjht ", "W-D-J-B-M-J-H-T"])
def test_a_code_is_typed_in_any_case_with_any_separators(typed: str) -> None:
    assert normalize_user_code(typed) == "WDJBMJHT"
    assert format_user_code(normalize_user_code(typed)) == "WDJB-MJHT"


def test_a_typed_code_is_bounded() -> None:
    assert len(normalize_user_code("B" * 10_000)) == 16


def test_scopes_are_known_ones_in_a_fixed_order() -> None:
    assert parse_scope("upload read upload") == ("read", "upload")
    assert parse_scope("") == parse_scope(None) == DEFAULT_SCOPES
    with pytest.raises(DeviceGrantError) as refused:
        parse_scope("read everything")
    assert refused.value.error == "invalid_scope"
