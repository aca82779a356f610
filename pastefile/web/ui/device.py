"""``GET|POST /device``: where a signed-in person approves or denies a device login
(RFC 8628's verification URI; the client's side is pastefile/web/oauth.py).

The page takes the user code (typed, or from ``?user_code=`` in the link the client
shows), shows who asks for what (the client, the device's name, the scopes), and
records the person's decision. Each look-up spends the login budget (a wrong code is a
guess); the decision is a CSRF-protected POST.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from pastefile.errors import Forbidden, NotFound
from pastefile.web.auth import check_csrf, current_principal, rate_key
from pastefile.web.context import services

bp = Blueprint("device", __name__)
DECISIONS = {"approve": True, "deny": False}


@bp.route("/device", methods=["GET", "POST"])
def device() -> str:
    who = current_principal()
    code = (request.values.get("user_code") or "").strip()[:32]
    if who is None:
        login = url_for("account.login", next=request.full_path.rstrip("?"))
        return render_template("device.html", step="login", login_url=login, code=code)
    if request.method == "POST":
        check_csrf()
    if not code:
        return render_template("device.html", step="enter", code="")
    decision = request.form.get("decision") if request.method == "POST" else None
    try:
        if decision in DECISIONS:
            approve = DECISIONS[decision]
            services().device_auth.decide(code, who, approve, rate_key())
            return render_template("device.html", step="approved" if approve else "denied")
        asked = services().device_auth.pending(code, rate_key())
    except (NotFound, Forbidden) as refused:
        return render_template("device.html", step="enter", code=code, error=refused.detail)
    return render_template(
        "device.html", step="confirm", code=asked.user_code, asked=asked, scope_label=scope_label
    )


def scope_label(scope: str) -> str:
    """What each scope lets the device do, in words."""
    labels = {
        "read": _("see your files and account"),
        "upload": _("upload files as you"),
        "delete": _("delete your files"),
        "admin": _("administer this server"),
    }
    return str(labels.get(scope, scope))
