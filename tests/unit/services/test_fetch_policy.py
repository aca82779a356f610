"""The fetch policy, before any request: private addresses, other schemes, credentials."""

from __future__ import annotations

import ipaddress

import pytest

from pastefile.errors import FetchRefused
from pastefile.services.fetch import refusal_reason
from tests.support.fetch import Sink, fetcher


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.100.100.200",
        "100.64.0.1",
        "224.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
        "64:ff9b::7f00:1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.2/x",
        "gopher://127.0.0.2/",
        "http://user:pw@127.0.0.2/",
        "http:///nohost",
        "http://[::1",
    ],
)
def test_other_schemes_and_credentials_are_refused(url):
    with pytest.raises(FetchRefused):
        fetcher().fetch(url, Sink())
