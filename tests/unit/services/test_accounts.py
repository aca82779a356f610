"""Accounts and upload policy without a database: role bits and the retention curve."""

from __future__ import annotations

import pytest

from pastefile.services.accounts import ROLE_ADMIN, Permission, Principal
from pastefile.services.policy import retention_seconds


def test_role_bits_follow_the_book():
    admin = Principal(1, "root", ROLE_ADMIN, frozenset({"admin"}))
    editor = Principal(2, "ed", Permission.LOGIN | Permission.EDITOR, frozenset({"read"}))
    assert admin.can(Permission.OPERATOR) and admin.is_admin
    assert editor.can(Permission.EDITOR) and not editor.can(Permission.OPERATOR)
    assert not editor.is_admin


def test_retention_follows_0x0():
    day = 86400
    assert retention_seconds(0, 512, 30, 365) == 365 * day
    assert retention_seconds(512, 512, 30, 365) == 30 * day
    half = retention_seconds(256, 512, 30, 365) / day
    assert half == pytest.approx(30 + (30 - 365) * (-0.5) ** 3)  # 71.875 days
    assert retention_seconds(10**9, 512, 30, 365) == 30 * day
