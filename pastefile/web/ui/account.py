"""``/register``, ``/login``, ``POST /logout`` and the tokens page
``/account/tokens`` (with ``POST /account/tokens/<n>/revoke``).

Every POST here checks the session's CSRF token; login and register are rate
limited (the factory gives ``LIMITED`` a budget).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from pastefile.db.users import User
from pastefile.errors import Conflict, Forbidden, InvalidInput, RegistrationClosed, Unauthorized
from pastefile.services.accounts import SCOPES
from pastefile.web.auth import (
    check_csrf,
    log_in,
    log_out,
    log_out_everywhere,
    login_required,
    principal,
)
from pastefile.web.context import services
from pastefile.web.ui.language import safe_next

bp = Blueprint("account", __name__)
# Endpoints under the login rate limit (a guessed password costs a try).
LIMITED = ("account.login", "account.register")
# A token just created, kept in the session for the one page that shows it (post/redirect/get:
# reloading that page must not create a second token).
SHOWN_ONCE = "shown_once"


@bp.route("/register", methods=["GET", "POST"])
def register() -> BaseResponse | str:
    if not services().settings.open_registration:
        raise RegistrationClosed("ask an administrator for an account")
    return _sign_in_form("register.html", services().accounts.create_user)


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str:
    return _sign_in_form("login.html", services().accounts.authenticate)


def _sign_in_form(template: str, account: Callable[[str, str], User]) -> BaseResponse | str:
    """The register and login forms: on success a fresh session and My files,
    otherwise the form again with the reason (a taken name, a wrong password…)."""
    error = None
    if request.method == "POST":
        check_csrf()
        try:
            user = account(
                request.form.get("username", "").strip(), request.form.get("password", "")
            )
        except (InvalidInput, Conflict, Unauthorized, Forbidden) as exc:
            error = exc.detail
        else:
            log_in(user.id)
            # Back where the sign-in was asked for (a device's approval page), on this site.
            back = request.form.get("next")
            return redirect(safe_next(back) if back else url_for("my_files.my_files"), code=303)
    return render_template(template, error=error, next=safe_next(request.values.get("next")))


@bp.post("/logout")
def logout() -> BaseResponse:
    check_csrf()
    log_out()
    flash(_("You are logged out."), "ok")
    return redirect(url_for("upload.index"), code=303)


@bp.post("/logout/everywhere")
@login_required
def logout_everywhere() -> BaseResponse:
    """End every session of this account, on every device (a lost laptop, say)."""
    check_csrf()
    log_out_everywhere(principal().user_id)
    return redirect(url_for("upload.index"), code=303)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> BaseResponse | str:
    who = principal()
    created, error = session.pop(SHOWN_ONCE, None), None
    if request.method == "POST":
        check_csrf()
        scopes = [s for s in request.form.getlist("scopes") if s in SCOPES]
        name = request.form.get("name", "")
        try:
            _row, value = services().accounts.create_token(who, name, scopes)
        except (InvalidInput, Forbidden) as exc:
            error = exc.detail
        else:
            session[SHOWN_ONCE] = value
            flash(_("Created the token %(name)s.", name=name.strip()), "ok")
            return redirect(url_for("account.tokens"), code=303)
    rows = services().accounts.list_tokens(who.user_id)
    scopes = [s for s in SCOPES if s in who.scopes]
    return render_template(
        "tokens.html", who=who, tokens=rows, created=created, error=error, scopes=scopes
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> BaseResponse:
    check_csrf()
    services().accounts.revoke_token(principal().user_id, token_id)
    flash(_("Revoked the token."), "ok")
    return redirect(url_for("account.tokens"), code=303)
