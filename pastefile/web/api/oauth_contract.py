"""The OpenAPI paths of the device flow (RFC 8628, pastefile/web/oauth.py), merged into
the API's document. Its errors are OAuth's JSON (``{"error": …}``), not problem+json,
except the rate limit's 429 and what the HTTP layer refuses before the route runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from pastefile.web.api.openapi_parts import RATE_HEADERS, REF, schema_ref
from pastefile.web.api.schemas import Problem, Strict


class DeviceAuthorizationForm(Strict):
    client_id: Literal["pf"] = Field(description="the client; this server knows 'pf'")
    scope: str = Field(
        "",
        max_length=64,
        pattern=r"^[a-z ]*$",
        description="space-separated among read upload delete admin; empty: read upload delete",
    )
    device_name: str = Field("", max_length=64, description="names the token (not in RFC 8628)")


class DeviceAuthorization(BaseModel):
    device_code: str = Field(description="the client's secret for polling /oauth/token")
    user_code: str = Field(description="what the person confirms at /device: WDJB-MJHT")
    verification_uri: str
    verification_uri_complete: str = Field(description="verification_uri with the user code")
    expires_in: int = Field(description="seconds: 600")
    interval: int = Field(description="seconds between polls: 5")


class DeviceTokenForm(Strict):
    grant_type: Literal["urn:ietf:params:oauth:grant-type:device_code"]
    device_code: str = Field(max_length=128)
    client_id: Literal["pf"]


class AccessToken(BaseModel):
    access_token: str = Field(description="an ordinary API token: send it as a Bearer token")
    token_type: Literal["Bearer"]
    scope: str


class OAuthError(BaseModel):
    """RFC 6749 §5.2 and RFC 8628 §3.5."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "invalid_scope",
        "unsupported_grant_type",
        "authorization_pending",
        "slow_down",
        "access_denied",
        "expired_token",
    ]
    error_description: str


class ServerMetadata(BaseModel):
    """RFC 8414."""

    issuer: str
    device_authorization_endpoint: str
    token_endpoint: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    scopes_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]


MODELS: list[type[BaseModel]] = [
    DeviceAuthorizationForm,
    DeviceAuthorization,
    DeviceTokenForm,
    AccessToken,
    OAuthError,
    ServerMetadata,
]


def oauth_schemas() -> dict[str, Any]:
    _, defs = models_json_schema([(m, "validation") for m in MODELS], ref_template=REF)
    return dict(defs["$defs"])


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": schema_ref(model)}}


def _answers(success: str, model: type[BaseModel]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": schema_ref(Problem)}}
    headers = {"Cache-Control": {"schema": {"type": "string"}}, **RATE_HEADERS}
    return {
        "200": {"description": success, "headers": headers, "content": _json(model)},
        "400": {
            "description": "an OAuth error (RFC 6749 §5.2, RFC 8628 §3.5), or a malformed request",
            "content": {**_json(OAuthError), **problem},
        },
        "405": {"description": "method not allowed", "content": problem},
        "413": {"description": "the body is too large", "content": problem},
        "429": {"description": "rate limited (see Retry-After)", "content": problem},
    }


def _form(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": schema_ref(model)}},
    }


def oauth_paths() -> dict[str, Any]:
    return {
        "/oauth/device_authorization": {
            "post": {
                "operationId": "startDeviceAuthorization",
                "summary": "Device flow, step 1: a device code and a user code (RFC 8628 §3.1)",
                "security": [{}],
                "requestBody": _form(DeviceAuthorizationForm),
                "responses": _answers("the codes", DeviceAuthorization),
            }
        },
        "/oauth/token": {
            "post": {
                "operationId": "pollDeviceToken",
                "summary": "Device flow, step 3: poll until approved; then an API token "
                "(RFC 8628 §3.4); the device code works once",
                "security": [{}],
                "requestBody": _form(DeviceTokenForm),
                "responses": _answers("approved: the token", AccessToken),
            }
        },
        "/.well-known/oauth-authorization-server": {
            "get": {
                "operationId": "getAuthorizationServerMetadata",
                "summary": "RFC 8414 metadata: where the device flow's endpoints are",
                "security": [{}],
                "responses": {
                    "200": {"description": "the metadata", "content": _json(ServerMetadata)}
                },
            }
        },
    }
