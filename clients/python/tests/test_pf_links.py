"""The link layout pf shares with the browser bundle (frontend/src/fragment.js)."""

from __future__ import annotations

import pytest

from pastefile_client.errors import Failure
from pastefile_client.links import Secret, fragment, parse_fragment, parse_target

pytestmark = pytest.mark.unit
KEY = "AGE-SECRET-KEY-1" + "Q" * 58


def test_the_fragment_round_trips_with_unicode_names():
    secret = Secret(key=KEY, name="报告 2026 (final).pdf", mimetype="application/pdf")
    text = fragment(secret)
    assert text.startswith(f"k={KEY}&n=") and "=" not in text.split("&n=")[1].split("&")[0]
    assert parse_fragment(text) == secret


def test_passphrase_links_carry_no_key():
    text = fragment(Secret(passphrase=True, name="a.txt"))
    assert text == "p=1&n=YS50eHQ"
    assert parse_fragment(text) == Secret(passphrase=True, name="a.txt")


def test_a_bare_identity_is_a_key_without_a_name():
    assert parse_fragment(KEY) == Secret(key=KEY)


@pytest.mark.parametrize(
    ("link", "server", "ident", "short"),
    [
        ("https://h.example/p/abc123#k=" + KEY, "https://h.example", "abc123", None),
        ("https://h.example/pf/i/abc123.png", "https://h.example/pf", "abc123", None),
        ("http://h.example:8080/d/abc123", "http://h.example:8080", "abc123", None),
        ("https://h.example/s/Zx9", "https://h.example", None, "Zx9"),
        ("https://h.example/api/v1/files/abc123", "https://h.example", "abc123", None),
        ("abc123", None, "abc123", None),
    ],
)
def test_every_kind_of_file_link(link, server, ident, short):
    target = parse_target(link)
    assert (target.server, target.file_id, target.short_code) == (server, ident, short)


@pytest.mark.parametrize(
    "link",
    [
        "https://h.example/elsewhere",
        "ftp://h.example/p/a",
        "https://h.example/p/a#k=nope",
        "https://h.example/p/a#n=%%%",
    ],
)
def test_links_that_are_refused(link):
    with pytest.raises(Failure) as refused:
        parse_target(link)
    assert refused.value.code == 2
