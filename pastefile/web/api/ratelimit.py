"""The API's budget and the login forms' budget, per token or else per client address.

Both are spent from the service layer's one rate limiter (``services().limiter``),
in the store every other budget uses: ``ratelimits.db`` beside the data, or Redis
when ``PASTEFILE_REDIS_URL`` is set. Only the routes that have a budget pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, Response, g, request

from pastefile.ratelimit import RateLimited, Verdict, spend
from pastefile.web.auth import rate_key
from pastefile.web.context import services

# The hooks go on this app's table for each blueprint (what ``bp.before_request``
# fills in), so building a second app never adds them to a blueprint twice.


def limit_api(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    """One budget for the whole API per caller, not one per endpoint or blueprint;
    every answer says what is left of it (``X-RateLimit-*``)."""
    for bp in blueprints:
        app.before_request_funcs.setdefault(bp.name, []).insert(0, _spend_api_budget)
        app.after_request_funcs.setdefault(bp.name, []).append(_rate_headers)


def limit_logins(app: Flask, bp: Blueprint, endpoints: Iterable[str]) -> None:
    """Guessing passwords at the login and register forms costs a try each POST."""
    limited = frozenset(endpoints)

    def spend_on_forms() -> None:
        if request.method == "POST" and request.endpoint in limited:
            spend_login_budget()

    app.before_request_funcs.setdefault(bp.name, []).insert(0, spend_on_forms)


def spend_login_budget() -> None:
    """One try at a password: the login and register forms, and the API's exchange of a
    password for a token, all from one budget per client (``PASTEFILE_LOGIN_RATE_LIMIT``)."""
    rate = services().settings.login_rate_limit
    spend(services().limiter, rate, "login", rate_key(), refusal="too many attempts")


def _spend_api_budget() -> None:
    rate = services().settings.api_rate_limit
    try:
        g.api_budget = spend(
            services().limiter, rate, "api", rate_key(), refusal=f"more than {rate} API calls"
        )
    except RateLimited as refused:
        g.api_budget = refused.verdict
        raise


def _rate_headers(response: Response) -> Response:
    verdict: Verdict | None = g.get("api_budget")
    if verdict is not None:
        response.headers["X-RateLimit-Limit"] = str(verdict.limit)
        response.headers["X-RateLimit-Remaining"] = str(verdict.remaining)
        response.headers["X-RateLimit-Reset"] = str(int(verdict.reset_at))
    return response
