"""The Thrift handler: RPC calls in, service-layer calls, Thrift answers out.

It calls the same services as the web app and imports no web framework.
Every failure leaves as a Thrift answer the client can read, declared or
``TApplicationException``, so no request can take a connection or the
server down.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from thriftpy2.thrift import TApplicationException

from pastefile.composition import Services
from pastefile.db.models import File
from pastefile.errors import (
    Blocked,
    CorruptImage,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PasteFileError,
    TooLarge,
    UnsupportedType,
)
from pastefile.logging_setup import request_id_var
from pastefile.rpc.schema import idl
from pastefile.services.access import Caller
from pastefile.services.humanize import humanize_bytes
from pastefile.services.imaging.params import parse_dimensions
from pastefile.services.links import build_links

log = logging.getLogger(__name__)
access_log = logging.getLogger("pastefile.access")

# Links need an absolute base and an RPC call has no Host header to borrow.
DEFAULT_BASE_URL = "http://localhost:5000"
MD5_CACHE_SIZE = 4096
_READ_CHUNK = 1024 * 1024
# A database that is down, refusing connections or out of pooled connections.
_DATABASE_DOWN = (DBAPIError, PoolTimeout)

Method = TypeVar("Method", bound=Callable[..., Any])


def _declared_exceptions(name: str) -> tuple[type[BaseException], ...]:
    result = getattr(idl.PasteFileService, f"{name}_result")
    return tuple(spec[2] for spec in result.thrift_spec.values() if spec[1] != "success")


def thrift_method(method: Method) -> Method:
    """Log the call and turn any failure into an exception the method declares."""
    name = method.__name__
    declared = _declared_exceptions(name)

    @functools.wraps(method)
    def wrapper(self: PasteFileHandler, *args: Any) -> Any:
        started = time.perf_counter()
        rid = request_id_var.set(uuid.uuid4().hex[:16])
        outcome = "ok"
        try:
            return method(self, *args)
        except Exception as exc:
            answer = _translate(name, exc, declared)
            outcome = type(answer).__name__
            raise answer from exc
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            access_log.info("rpc %s %s %.1fms", name, outcome, elapsed_ms)
            request_id_var.reset(rid)

    return wrapper  # type: ignore[return-value]


class PasteFileHandler:
    """Implements ``PasteFileService`` from pastefile.thrift."""

    def __init__(self, services: Services, base_url: str | None = None) -> None:
        self.services = services
        self.intake = services.intake
        self.base_url = base_url or services.settings.base_url or DEFAULT_BASE_URL
        # Keyed by sha256, so an entry can never go stale: content is immutable.
        self._md5: Callable[[str], str] = functools.lru_cache(maxsize=MD5_CACHE_SIZE)(
            self._compute_md5
        )

    @thrift_method
    def get(self, pid: int) -> Any:
        return self.to_struct(self.services.access.resolve_row(pid, Caller()))

    @thrift_method
    def get_file_info(self, filename: str, mimetype: str) -> list[str]:
        # Both are advisory: create() carries the name to keep,
        # and the type is detected from the bytes. Neither touches the path.
        reservation = self.intake.reserve()
        return [reservation.token, str(reservation.path)]

    @thrift_method
    def create(self, request: Any) -> Any:
        if request is None:
            raise InvalidInput("create needs a CreatePasteFileRequest")
        # thriftpy2 hands undecodable strings over as bytes rather than failing.
        if not isinstance(request.filename, str | None):
            raise InvalidInput("filename must be UTF-8 text")
        settings = self.services.settings
        resize = parse_dimensions(
            request.width, request.height, settings.max_resize_dimension, settings.max_image_pixels
        )
        result = self.intake.register(request.filehash, request.filename, resize)
        return self.to_struct(result.file)

    def to_struct(self, file: File) -> Any:
        links = build_links(file, self.base_url)
        return idl.PasteFile(
            id=file.id,
            filename=file.filename,
            filehash=file.sha256,
            filemd5=self._md5(file.sha256),
            uploadtime=file.created_at.isoformat(timespec="seconds"),
            mimetype=file.mimetype,
            size=file.size,
            url_s=links.url_s,
            url_i=links.url_i,
            # [] for anything without pixel dimensions: [0, 0] would read as an image.
            image_size=[file.width, file.height] if file.width and file.height else [],
            url_d=links.url_d,
            url_p=links.url_p,
            size_humanize=humanize_bytes(file.size),
            type=file.mimetype.split("/", 1)[0],
            quoteurl=links.quoteurl,
        )

    def _compute_md5(self, sha256: str) -> str:
        # filemd5 is part of the IDL. Nothing stores it, so it is read back from the
        # blob once per content and process; see docs/rpc.md for the cost.
        digest = hashlib.md5(usedforsecurity=False)
        with self.services.storage.open(sha256) as stream:
            while chunk := stream.read(_READ_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def _translate(name: str, exc: Exception, declared: tuple[type[BaseException], ...]) -> Exception:
    if isinstance(exc, _DATABASE_DOWN):
        log.error("rpc %s: the database is unavailable: %s", name, exc)
        answer: Exception = idl.ServiceUnavailable(message="the database is unavailable")
    elif isinstance(exc, PasteFileError):
        answer = _from_service_error(exc)
    else:
        log.error("rpc %s failed", name, exc_info=exc)
        return TApplicationException(TApplicationException.INTERNAL_ERROR, "internal error")
    if isinstance(answer, declared):
        return answer
    # Raising an undeclared exception would make thriftpy2 drop the connection.
    log.error("rpc %s cannot declare %s: %s", name, type(answer).__name__, exc)
    return TApplicationException(TApplicationException.INTERNAL_ERROR, str(exc))


_NOT_READABLE: tuple[tuple[type[PasteFileError], int], ...] = (
    (NotFound, 404),
    (Gone, 410),
    (Blocked, 451),
    (Forbidden, 403),
)


def _from_service_error(exc: PasteFileError) -> Any:
    message = f"{exc.code}: {exc.detail}"
    for error, code in _NOT_READABLE:
        if isinstance(exc, error):
            # The IDL's one answer for a file this caller cannot read; the code says why.
            return idl.NotFound(code=code)
    if isinstance(exc, UnsupportedType):
        return idl.ImageNotSupported(message=message)
    if isinstance(exc, InvalidInput | CorruptImage | TooLarge):
        return idl.UploadImageError(message=message)
    # StorageFull, or registration retries exhausted: on our side, worth a retry.
    log.error("rpc: service error %s", message)
    return idl.ServiceUnavailable(message=message)
