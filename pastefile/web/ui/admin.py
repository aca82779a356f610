"""Admin: ``GET /admin`` (storage at a glance), ``GET /admin/users`` (paged, usage against
quota), ``GET /admin/files`` (paged and filtered: owner, visibility, expiry),
``GET /admin/moderation`` (the blocklist, removal by id); ``POST /admin/users/<n>``
(disable, enable, promote, demote), ``POST /admin/files/<id>/delete`` and
``POST /admin/moderation/remove``. The stats pages are in dashboards.py; jobs in jobs.py."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from pastefile.services.accounts import ROLE_ADMIN, ROLE_USER
from pastefile.services.files import AdminFileQuery
from pastefile.services.upload_options import VISIBILITIES
from pastefile.web.auth import admin_required, caller, check_csrf, principal
from pastefile.web.context import services

bp = Blueprint("admin", __name__)

PER_PAGE = 25
ACTIONS: dict[str, dict[str, Any]] = {
    "disable": {"disabled": True},
    "enable": {"disabled": False},
    "promote": {"roles": ROLE_ADMIN},
    "demote": {"roles": ROLE_USER},
}
# What a page keeps across its forms and pages; anything else a client adds is dropped.
KEPT_ARGS = ("q", "page", "visibility", "owner", "expiring")


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _state() -> dict[str, Any]:
    return {k: v for k, v in request.args.items() if k in KEPT_ARGS and v}


def _back(endpoint: str) -> BaseResponse:
    return redirect(url_for(endpoint, **_state()), code=303)


@bp.get("/admin")
@admin_required()
def admin() -> str:
    svc = services()
    _users, user_count = svc.accounts.list_users(0, 1)
    storage = {**svc.files.storage_summary(), "users": user_count}
    return render_template("admin.html", storage=storage, section="storage")


@bp.get("/admin/users")
@admin_required()
def users() -> str:
    svc, page, q = services(), _page(), request.args.get("q", "").strip() or None
    rows, total = svc.accounts.list_users((page - 1) * PER_PAGE, PER_PAGE, q)
    usage = svc.policy.usage_of([u.id for u in rows])
    return render_template(
        "admin_users.html", users=rows, total=total, page=page, pages=_pages(total), state=_state(),
        usage=usage, limits={u.id: svc.policy.limits_of(u) for u in rows}, section="users",
        admin_ids={u.id for u in rows if u.roles & ROLE_ADMIN == ROLE_ADMIN},
    )  # fmt: skip


@bp.get("/admin/files")
@admin_required()
def files() -> str:
    args = request.args
    expiring = {"yes": True, "no": False}.get(args.get("expiring", ""))
    visibility = args.get("visibility") if args.get("visibility") in VISIBILITIES else None
    query = AdminFileQuery(
        page=_page(), per_page=PER_PAGE, q=args.get("q", "").strip() or None,
        visibility=visibility, owner=args.get("owner", "").strip() or None, expiring=expiring,
    )  # fmt: skip
    rows, total = services().files.admin_page(query)
    return render_template(
        "admin_files.html", rows=rows, total=total, page=query.page, pages=_pages(total),
        state=_state(), visibilities=VISIBILITIES, section="files",
    )  # fmt: skip


@bp.get("/admin/moderation")
@admin_required()
def moderation() -> str:
    page = _page()
    blocked, total = services().policy.blocked((page - 1) * PER_PAGE, PER_PAGE)
    return render_template(
        "admin_moderation.html", blocked=blocked, total=total, page=page, pages=_pages(total),
        state=_state(), section="moderation",
    )  # fmt: skip


def _pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


@bp.post("/admin/users/<int:user_id>")
@admin_required()
def admin_user(user_id: int) -> BaseResponse:
    check_csrf()
    action = request.form.get("action") or ""
    changes = ACTIONS.get(action, {})
    if changes:
        user = services().accounts.update_user(user_id, **changes, actor_id=principal().user_id)
        flash(_DONE[action](user.username), "ok")
    return _back("admin.users")


_DONE = {
    "disable": lambda name: _("Disabled %(name)s; their sessions ended.", name=name),
    "enable": lambda name: _("Enabled %(name)s.", name=name),
    "promote": lambda name: _("%(name)s is now an administrator.", name=name),
    "demote": lambda name: _("%(name)s is no longer an administrator.", name=name),
}


@bp.post("/admin/files/<ident>/delete")
@admin_required()
def admin_delete(ident: str) -> BaseResponse:
    check_csrf()
    services().access.delete(ident, caller())
    flash(_("Deleted the file %(id)s.", id=ident), "ok")
    return _back("admin.files")


@bp.post("/admin/moderation/remove")
@admin_required()
def remove() -> BaseResponse:
    check_csrf()
    ident = request.form.get("ident", "").strip().rsplit("/", 1)[-1]
    reason = request.form.get("reason", "").strip()
    removed = services().access.remove_for_abuse(ident, principal(), reason)
    flash(_("Removed %(num)s file(s) with this content and blocked it.", num=removed), "ok")
    return _back("admin.moderation")
