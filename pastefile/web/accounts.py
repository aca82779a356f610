"""Account pages: register, log in, log out, API tokens, and unlocking files.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax); every form
carries the session's CSRF token and every POST here checks it.
"""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import RouteCallable
from werkzeug.wrappers import Response as BaseResponse

from pastefile.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    PasswordRequired,
    RegistrationClosed,
    Unauthorized,
    WrongPassword,
)
from pastefile.services.accounts import SCOPES
from pastefile.web.access import resolve_file, unlock
from pastefile.web.auth import (
    check_csrf,
    csrf_token,
    current_principal,
    log_in,
    log_out,
    login_required,
    principal,
)
from pastefile.web.context import PasteFileApp, services

bp = Blueprint("accounts", __name__)


def password_form(
    ident: str, error: PasswordRequired | WrongPassword, status: int = 403
) -> Response:
    html = render_template("unlock.html", ident=ident, error=error.detail)
    return Response(html, status=status, mimetype="text/html")


@bp.post("/p/<ident>/unlock")
def unlock_file(ident: str) -> BaseResponse:
    check_csrf()
    try:
        found = resolve_file(ident, password=request.form.get("password") or None)
    except (PasswordRequired, WrongPassword) as exc:  # wrong ones are rate limited
        return password_form(ident, exc)
    unlock(found.public_id)
    return redirect(url_for("core.preview", ident=found.public_id), code=303)


@bp.route("/register", methods=["GET", "POST"])
def register() -> BaseResponse | str:
    if not services().settings.open_registration:
        raise RegistrationClosed("ask an administrator for an account")
    error = None
    if request.method == "POST":
        check_csrf()
        try:
            user = services().accounts.create_user(
                request.form.get("username", "").strip(), request.form.get("password", "")
            )
        except (InvalidInput, Conflict) as exc:
            error = exc.detail
        else:
            log_in(user.id)
            return redirect(url_for("accounts.tokens"), code=303)
    return render_template("register.html", error=error)


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str:
    error = None
    if request.method == "POST":
        check_csrf()
        try:
            user = services().accounts.authenticate(
                request.form.get("username", "").strip(), request.form.get("password", "")
            )
        except (Unauthorized, Forbidden) as exc:
            error = exc.detail
        else:
            log_in(user.id)
            return redirect(url_for("accounts.tokens"), code=303)
    return render_template("login.html", error=error)


@bp.post("/logout")
def logout() -> BaseResponse:
    check_csrf()
    log_out()
    return redirect(url_for("core.index"), code=303)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> str:
    who = principal()
    created, error = None, None
    if request.method == "POST":
        check_csrf()
        scopes = [s for s in request.form.getlist("scopes") if s in SCOPES]
        try:
            _, created = services().accounts.create_token(who, request.form.get("name", ""), scopes)
        except (InvalidInput, Forbidden) as exc:
            error = exc.detail
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
    return redirect(url_for("accounts.tokens"), code=303)


def install_accounts(app: PasteFileApp) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_principal
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    settings = app.services.settings
    app.config["SESSION_COOKIE_SECURE"] = settings.base_url.startswith("https://")
    limit = app.limiter.limit(lambda: settings.login_rate_limit, methods=["POST"])
    for endpoint in ("accounts.login", "accounts.register"):
        app.view_functions[endpoint] = cast(RouteCallable, limit(app.view_functions[endpoint]))
