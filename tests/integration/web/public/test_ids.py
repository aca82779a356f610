"""Public ids and short codes are exact: another spelling is another id."""

from __future__ import annotations

from tests.support.uploads import upload


def _swap_case(value: str) -> str:
    return value.swapcase()


def test_public_id_lookup_is_case_sensitive_on_every_database(client):
    body = upload(client, b"case matters", "case.txt").get_json()
    ident = body["id"]
    assert any(c.isalpha() for c in ident)
    assert client.get(f"/i/{ident}").status_code == 200
    assert client.get(f"/i/{_swap_case(ident)}").status_code == 404


def test_short_code_lookup_is_case_sensitive_on_every_database(client):
    body = upload(client, b"short case", "short.txt").get_json()
    code = body["url_s"].rsplit("/", 1)[1]
    if not any(c.isalpha() for c in code):  # pragma: no cover - 1 in ~10^7
        return
    assert client.get(f"/s/{code}").status_code == 302
    assert client.get(f"/s/{_swap_case(code)}").status_code == 404
