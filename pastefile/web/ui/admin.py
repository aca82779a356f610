"""Admin: ``GET /admin`` (storage, users, every file), ``POST /admin/users/<n>``
(disable, enable, promote, demote) and ``POST /admin/files/<id>/delete``.
The stats dashboards are in dashboards.py; the jobs console in jobs.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from pastefile.services.accounts import ROLE_ADMIN, ROLE_USER
from pastefile.web.auth import admin_required, caller, check_csrf, principal
from pastefile.web.context import services
from pastefile.web.ui.my_files import back_to

bp = Blueprint("admin", __name__)

ACTIONS: dict[str, dict[str, Any]] = {
    "disable": {"disabled": True},
    "enable": {"disabled": False},
    "promote": {"roles": ROLE_ADMIN},
    "demote": {"roles": ROLE_USER},
}


@bp.get("/admin")
@admin_required()
def admin() -> str:
    svc = services()
    q = request.args.get("q", "").strip()
    users, user_count = svc.accounts.list_users(0, 200)
    storage = {**svc.files.storage_summary(), "users": user_count}
    return render_template(
        "admin.html", users=users, files=svc.files.search_all(q), q=q, storage=storage,
        admin_ids={u.id for u in users if u.roles & ROLE_ADMIN == ROLE_ADMIN},
    )  # fmt: skip


@bp.post("/admin/users/<int:user_id>")
@admin_required()
def admin_user(user_id: int) -> BaseResponse:
    check_csrf()
    changes = ACTIONS.get(request.form.get("action") or "", {})
    if changes:
        services().accounts.update_user(user_id, **changes, actor_id=principal().user_id)
    return back_to("admin.admin")


@bp.post("/admin/files/<ident>/delete")
@admin_required()
def admin_delete(ident: str) -> BaseResponse:
    check_csrf()
    services().access.delete(ident, caller())
    return back_to("admin.admin")
