"""Guessing passwords, of files and of accounts, costs a try each from a budget that
concurrency, extra workers and made-up tokens cannot refill."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support.production import ProductionServer, put_file

SERVER_SETTINGS = {
    "PASTEFILE_PASSWORD_RATE_LIMIT": "5/minute",
    "PASTEFILE_LOGIN_RATE_LIMIT": "10/minute",
}


def test_thirty_concurrent_guesses_get_five_checks(server: ProductionServer) -> None:
    ident = put_file(server, "locked.txt", b"behind a password", password="right one")

    def guess(n: int) -> int:
        headers = {"X-File-Password": f"guess {n}"}
        return requests.get(server.url(f"/i/{ident}"), headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(guess, range(30)))
    assert statuses.count(403) == 5 and statuses.count(429) == 25, statuses


def test_the_api_and_made_up_tokens_share_the_budget(server: ProductionServer) -> None:
    ident = put_file(server, "api-locked.txt", b"also behind a password", password="right one")
    url = server.url(f"/api/v1/files/{ident}")
    wrong = {"X-File-Password": "wrong"}
    first = [requests.get(url, headers=wrong, timeout=10).status_code for _ in range(5)]
    tokens = [{**wrong, "Authorization": f"Bearer pf_made_up_{n}"} for n in range(5)]
    later = [requests.get(url, headers=h, timeout=10).status_code for h in tokens]
    assert first == [403] * 5
    assert 403 not in later, later  # no token, real or not, checks another password
    right = requests.get(url, headers={"X-File-Password": "right one"}, timeout=10)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_logins_are_limited_across_both_workers(server: ProductionServer) -> None:
    server.create_user("victim", "a long and right password")
    browser, csrf = server.login_form()
    form = {"username": "victim", "csrf_token": csrf}
    tries = [
        browser.post(server.url("/login"), data={**form, "password": f"guess {n}"}, timeout=10)
        for n in range(20)
    ]
    statuses = [t.status_code for t in tries]
    assert statuses == [200] * 10 + [429] * 10, statuses  # the form again, then refusals
    right = browser.post(
        server.url("/login"), data={**form, "password": "a long and right password"}, timeout=10
    )
    assert right.status_code == 429, "the budget is spent for the right password too"
