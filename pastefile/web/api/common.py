"""Helpers shared by the API's routes: bodies in and out, pagination, row ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

import orjson
from flask import Response, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from pastefile.errors import InvalidInput, NotFound, PreconditionFailed, PreconditionRequired
from pastefile.services.rowids import is_row_id
from pastefile.web.context import base_url

M = TypeVar("M", bound=BaseModel)
_ETAG = re.compile(r'^(?:W/)?"([A-Za-z0-9]+)-v(\d+)"$')
MAX_JSON_BODY = 64 * 1024


def respond(body: BaseModel | list[Any], status: int = 200) -> Response:
    if isinstance(body, BaseModel):
        data = orjson.dumps(body.model_dump(mode="json"))
    else:
        data = orjson.dumps([item.model_dump(mode="json") for item in body])
    return Response(data, status=status, mimetype="application/json")


def no_content() -> Response:
    return Response(status=204)


def row_id(value: int) -> int:
    """Row ids from URLs: beyond the column's range nothing can exist."""
    if not is_row_id(value):
        raise NotFound("no such resource")
    return value


def json_body(model: type[M]) -> M:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_JSON_BODY:
        raise InvalidInput("the JSON body is too large")
    try:
        return model.model_validate(orjson.loads(raw or b"null"))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    except ValidationError as exc:
        raise _invalid(exc) from None


def query(model: type[M]) -> M:
    values = {key: request.args.get(key) for key in request.args}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> InvalidInput:
    problems = [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]
    summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems[:5])
    return InvalidInput(summary, errors=problems)


def aware(moment: datetime | None) -> datetime | None:
    """Query datetimes without a zone are taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def paginate(response: Response, page: int, per_page: int, total: int) -> Response:
    """RFC 8288 Link (first/prev/next/last) and X-Total-Count."""
    last = max((total + per_page - 1) // per_page, 1)
    params = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def url(number: int) -> str:
        return f"{base_url()}{request.path}?" + urlencode(
            {**params, "page": number, "per_page": per_page}
        )

    links = [f'<{url(1)}>; rel="first"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
    response.headers["Link"] = ", ".join(links)
    response.headers["X-Total-Count"] = str(total)
    return response


def respond_raw(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def version_etag(public_id: str, version: int) -> str:
    """The ETag of a record's version (a file, a collection): ``<id>-v<version>``."""
    return f"{public_id}-v{version}"


def if_match_version(ident: str, noun: str = "file") -> int:
    """The version a PATCH's If-Match names: 428 without one, 412 for another record's."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(f"PATCH needs If-Match with the {noun}'s current ETag")
    match = _ETAG.match(header.strip())
    if match is None or match.group(1) != ident or not is_row_id(int(match.group(2))):
        raise PreconditionFailed(f"If-Match does not name this {noun}'s current version")
    return int(match.group(2))


class Versioned(Protocol):
    """A record with a version the API's ETag names: a file, a collection."""

    @property
    def public_id(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def updated_at(self) -> datetime | None: ...


def with_validators(response: Response, record: Versioned) -> Response:
    """``ETag`` (``<id>-v<version>``, what If-Match names) and ``Last-Modified``."""
    response.set_etag(version_etag(record.public_id, record.version))
    response.last_modified = record.updated_at or record.created_at
    return response


def created(body: BaseModel, self_link: str, status: int, token: str | None) -> Response:
    """A created resource: ``Location``, and an anonymous creator's token, shown once."""
    response = respond(body, status)
    response.headers["Location"] = self_link
    if token:
        response.headers["X-Token"] = token
    return response
