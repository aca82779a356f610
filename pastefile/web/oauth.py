"""OAuth 2.0 for clients without a browser: the device authorization grant (RFC 8628).

``POST /oauth/device_authorization`` (a device and a user code), ``POST /oauth/token``
(polled until the code is approved at ``/device``; then an ordinary API token) and
``GET /.well-known/oauth-authorization-server`` (RFC 8414 metadata). Errors here are
OAuth's own JSON (``{"error": …}``, RFC 6749 §5.2), not problem+json; every answer is
``no-store``. The approval page is pastefile/web/ui/device.py.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from pastefile.errors import DeviceGrantError
from pastefile.services.accounts import SCOPES
from pastefile.services.device_auth import DEVICE_GRANT
from pastefile.web.context import base_url, services
from pastefile.web.negotiation import json_response

bp = Blueprint("oauth", __name__)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/oauth/device_authorization")
def device_authorization() -> Response:
    form = request.form
    grant = services().device_auth.start(
        form.get("client_id", ""), form.get("scope"), form.get("device_name")
    )
    verify = base_url() + url_for("device.device")
    body = {
        "device_code": grant.device_code,
        "user_code": grant.user_code,
        "verification_uri": verify,
        "verification_uri_complete": f"{verify}?user_code={grant.user_code}",
        "expires_in": grant.expires_in,
        "interval": grant.interval,
    }
    return _no_store(json_response(body))


@bp.post("/oauth/token")
def token() -> Response:
    form = request.form
    grant_type = form.get("grant_type")
    if not grant_type:
        raise DeviceGrantError("invalid_request", "grant_type is required")
    if grant_type != DEVICE_GRANT:
        raise DeviceGrantError("unsupported_grant_type", f"the only grant here is {DEVICE_GRANT}")
    issued = services().device_auth.poll(form.get("client_id", ""), form.get("device_code", ""))
    body = {"access_token": issued.value, "token_type": "Bearer", "scope": " ".join(issued.scopes)}
    return _no_store(json_response(body))


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    """RFC 8414: where the device flow's endpoints are, for clients that look."""
    root = base_url()
    body = {
        "issuer": root,
        "device_authorization_endpoint": f"{root}/oauth/device_authorization",
        "token_endpoint": f"{root}/oauth/token",
        "grant_types_supported": [DEVICE_GRANT],
        "response_types_supported": [],
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": ["none"],
    }
    return json_response(body)


@bp.errorhandler(DeviceGrantError)
def oauth_error(error: DeviceGrantError) -> Response:
    body = {"error": error.error, "error_description": error.detail}
    return _no_store(json_response(body, status=400))
