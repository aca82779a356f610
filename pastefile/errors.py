"""Errors the service layer raises.

They carry a stable machine ``code`` and a human ``detail``. Adapters map
them to their own world: HTTP problem+json, Thrift exceptions, CLI exit codes.
"""

from __future__ import annotations


class PasteFileError(Exception):
    """Base of every expected failure. ``code`` is part of the public API."""

    code = "error"
    title = "Error"
    #: Seconds after which trying again may succeed (HTTP ``Retry-After``), when known.
    retry_after: int | None = None

    def __init__(self, detail: str = "", **extra: object) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class InvalidInput(PasteFileError):
    code = "invalid_input"
    title = "Invalid input"


class MissingFile(InvalidInput):
    code = "missing_file"
    title = "No file was sent"


class EmptyFile(InvalidInput):
    code = "empty_file"
    title = "The file is empty"


class InvalidDimensions(InvalidInput):
    code = "invalid_dimensions"
    title = "Width and height must be positive integers within bounds"


class NotFound(PasteFileError):
    code = "not_found"
    title = "Not found"


class TooLarge(PasteFileError):
    code = "too_large"
    title = "The upload is larger than the limit"


class UnsupportedType(PasteFileError):
    code = "unsupported_type"
    title = "This file type is not accepted"


class NotAnImage(UnsupportedType):
    code = "not_an_image"
    title = "The file is not an image this service can process"


class CorruptImage(PasteFileError):
    code = "corrupt_image"
    title = "The image could not be decoded"


class ImageTooLarge(CorruptImage):
    code = "image_too_large"
    title = "The image has more pixels than the limit"


class StorageFull(PasteFileError):
    code = "storage_full"
    title = "The server has no room left for this upload"


class InvalidTransform(InvalidInput):
    code = "invalid_transform"
    title = "The image transform parameters are not valid"


class TransformForbidden(PasteFileError):
    """A transform refused by the abuse policy (403); the file itself is fine."""

    code = "transform_forbidden"
    title = "This transform is not allowed"


class SizeNotAllowed(TransformForbidden):
    code = "size_not_allowed"
    title = "This size is not on the server's list of allowed sizes"


class SignatureRequired(TransformForbidden):
    code = "signature_required"
    title = "Transforms on this server need a signed URL"


class BadSignature(TransformForbidden):
    code = "bad_signature"
    title = "The transform URL's signature does not match"


class FetchRefused(InvalidInput):
    code = "fetch_refused"
    title = "This URL may not be fetched"


class FetchFailed(PasteFileError):
    code = "fetch_failed"
    title = "The URL could not be fetched"


# --- accounts, tokens and the REST API ---------------------------------


class DeviceGrantError(InvalidInput):
    """An OAuth 2.0 error of the device flow (RFC 6749 §5.2, RFC 8628 §3.5): ``error`` is
    the RFC's code (``authorization_pending``, ``slow_down``…), answered as its JSON."""

    code = "oauth_error"

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


class Unauthorized(PasteFileError):
    code = "unauthorized"
    title = "Authentication is required"


class Forbidden(PasteFileError):
    code = "forbidden"
    title = "You may not do this"


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
    title = "The token lacks the scope this needs"


class SecondFactorRequired(Forbidden):
    """A password alone cannot get a token for an account that has a second factor."""

    code = "second_factor_required"
    title = "This account needs a second factor"


class PasswordRequired(Forbidden):
    code = "password_required"
    title = "This file is protected by a password"


class WrongPassword(Forbidden):
    code = "wrong_password"
    title = "The password is wrong"


class Conflict(PasteFileError):
    code = "conflict"
    title = "This conflicts with the current state"


class Gone(PasteFileError):
    code = "gone"
    title = "The file is gone"


class Damaged(PasteFileError):
    """The stored bytes failed the storage scrub: the server lost them, the client did nothing."""

    code = "damaged"
    title = "The stored bytes of this file are damaged"


class Blocked(PasteFileError):
    code = "unavailable_for_legal_reasons"
    title = "This content was removed by moderation"


class PreconditionRequired(PasteFileError):
    code = "precondition_required"
    title = "Send If-Match with the ETag you last saw"


class PreconditionFailed(PasteFileError):
    code = "precondition_failed"
    title = "The resource changed since you last read it"


class QuotaTooLarge(TooLarge):
    code = "quota_too_large"
    title = "The file is larger than your whole quota"


class QuotaExceeded(PasteFileError):
    code = "quota_exceeded"
    title = "Your storage quota is used up"


class RegistrationClosed(Forbidden):
    code = "registration_closed"
    title = "Registration is closed on this server"


class AnonymousUploadsDisabled(Unauthorized):
    code = "anonymous_uploads_disabled"
    title = "Log in or send an API token to upload"


# --- resumable uploads (tus 1.0, /api/v1/uploads) ----------------------------------


class TusVersionUnsupported(PreconditionFailed):
    code = "tus_version_unsupported"
    title = "Send Tus-Resumable: 1.0.0"


class UploadExpired(Gone):
    code = "upload_expired"
    title = "This resumable upload expired"


class OffsetMismatch(Conflict):
    code = "offset_mismatch"
    title = "Upload-Offset is not where the upload stands"


class UploadBusy(Conflict):
    code = "upload_busy"
    title = "Another request is writing to this upload"


class ChecksumMismatch(PasteFileError):
    """tus' checksum extension: the chunk's bytes do not match Upload-Checksum (460)."""

    code = "checksum_mismatch"
    title = "The chunk does not match its Upload-Checksum"


class UnsupportedChecksum(InvalidInput):
    code = "unsupported_checksum_algorithm"
    title = "This checksum algorithm is not supported"


class TooManyAttempts(PasteFileError):
    """A budget (wrong passwords, logins, uploads) is spent for now."""

    code = "too_many_requests"
    title = "Too Many Requests"

    def __init__(self, detail: str = "", retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceBusy(PasteFileError):
    """Contention that outlasted our retries; the client should simply try again."""

    code = "busy"
    title = "The service is busy"
    retry_after = 1


class Unavailable(PasteFileError):
    """A part the request needs (the database, the storage) does not answer just now;
    nothing was stored by this request, and trying again later works."""

    code = "unavailable"
    title = "Service Unavailable"
    retry_after = 5


class NotReady(PasteFileError):
    """A part this process needs (the database and its schema, the storage, Redis, the
    broker) is not usable; the detail names each one and what to do."""

    code = "not_ready"
    title = "Not ready"


# --- file requests (/u/<code>) -------------------------------------------------------


class RequestClosed(Gone):
    code = "request_closed"
    title = "This file request is closed"


class RequestFull(Conflict):
    code = "request_full"
    title = "This file request has all the files it asked for"


class RequestBytesExceeded(TooLarge):
    code = "request_bytes_exceeded"
    title = "This file would go past the request's total size"
