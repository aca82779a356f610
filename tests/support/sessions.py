"""Signing a test client in as a browser would be: a server-side session record and
its id in the signed cookie, plus the session's CSRF token."""

from __future__ import annotations

from flask.testing import FlaskClient

from pastefile.composition import Services
from pastefile.web.auth import SESSION_CSRF, SESSION_ID


def sign_in(client: FlaskClient, services: Services, user_id: int, csrf: str = "") -> str:
    """Sign ``client`` in as ``user_id``; returns the session id the cookie carries."""
    session_id = services.accounts.open_session(user_id)
    with client.session_transaction() as session:
        session[SESSION_ID] = session_id
        if csrf:
            session[SESSION_CSRF] = csrf
    return session_id
