"""Request and response bodies of /api/v1, as pydantic models.

The OpenAPI document is generated from these, so the contract and the code
cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from pastefile.services.file_requests import MAX_MESSAGE as MAX_REQUEST_MESSAGE
from pastefile.services.file_requests import MAX_REQUEST_BYTES, MAX_REQUEST_FILES
from pastefile.services.file_requests import MAX_TITLE as MAX_REQUEST_TITLE
from pastefile.services.file_requests import MAX_TYPES as MAX_REQUEST_TYPES
from pastefile.services.policy import MAX_DOWNLOADS, MAX_PASSWORD

Visibility = Literal["public", "unlisted", "private"]
Scope = Literal["read", "upload", "delete", "admin"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; ``code`` is stable."""

    type: str
    title: str
    status: int
    code: str
    detail: str


class FileLinks(BaseModel):
    self: str = Field(description="this resource in the API")
    raw: str = Field(description="the bytes, inline (/i/)")
    download: str = Field(description="the bytes as an attachment (/d/)")
    preview: str = Field(description="the file card (/p/)")
    short: str = Field(description="the short link (/s/)")


class ImageInfo(BaseModel):
    width: int
    height: int


class FileOut(BaseModel):
    id: str
    filename: str
    size: int = Field(description="bytes")
    mimetype: str
    type: str = Field(description="the MIME type's first part: image, text, …")
    sha256: str
    visibility: Visibility
    created_at: datetime
    updated_at: datetime | None
    expires_at: datetime | None
    max_downloads: int | None
    downloads: int
    password_protected: bool
    owner_id: int | None
    image: ImageInfo | None
    encrypted: bool = Field(
        description="end-to-end encrypted (age): the bytes are ciphertext; the key is "
        "in the link's fragment, never on the server"
    )
    links: FileLinks


class FileCreated(FileOut):
    token: str | None = Field(
        None, description="anonymous uploads only: the management token, shown once"
    )


class FileUploadForm(Strict):
    """Multipart form fields; the same names work as query parameters for a raw body."""

    # Form fields cannot be null, so None is the default but not in the schema.
    file: bytes = Field(min_length=1, json_schema_extra={"format": "binary"})
    expires_in: int | SkipJsonSchema[None] = Field(
        None, ge=1, description="seconds until the file expires (at most the server's maximum)"
    )
    max_downloads: int | SkipJsonSchema[None] = Field(None, ge=1, le=MAX_DOWNLOADS)
    password: str | SkipJsonSchema[None] = Field(None, max_length=MAX_PASSWORD)
    visibility: Visibility | SkipJsonSchema[None] = None
    encryption: Literal["age"] | SkipJsonSchema[None] = Field(
        None,
        description="the file is age ciphertext made by the client: no type detection, "
        "preview or jobs; stored as <id>.age (docs/encryption.md)",
    )
    collection: str | SkipJsonSchema[None] = Field(
        None, max_length=32, description="a collection to upload into (you must manage it)"
    )


class RulePatch(Strict):
    """The rules a file and a collection share; only the fields sent change, and
    ``null`` removes an expiry, a password or a limit."""

    visibility: Visibility | None = None
    expires_in: int | None = Field(
        None, ge=1, description="seconds from now; null removes the expiry"
    )
    password: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_PASSWORD,
        description="a new password (sessions that had unlocked it must give it "
        "again); null removes the password",
    )
    max_downloads: int | None = Field(
        None,
        ge=1,
        le=MAX_DOWNLOADS,
        description="more than the downloads so far; null removes the limit",
    )

    def rule_changes(self) -> dict[str, Any]:
        """The ``RuleChange`` fields of ``FileChanges`` / ``CollectionChanges``."""
        sent = self.model_fields_set  # a field sent as null removes what it names
        return {
            "visibility": self.visibility,
            "expires_in": self.expires_in,
            "clear_expiry": "expires_in" in sent and self.expires_in is None,
            "password": self.password,
            "clear_password": "password" in sent and self.password is None,
            "max_downloads": self.max_downloads,
            "clear_max_downloads": "max_downloads" in sent and self.max_downloads is None,
        }


class FilePatch(RulePatch):
    """Only the fields sent change; ``null`` removes an expiry, a password or a limit."""

    filename: str | None = Field(None, min_length=1, max_length=255)


class RemovalIn(Strict):
    reason: str = Field(min_length=1, max_length=255)


class RemovalOut(BaseModel):
    sha256: str
    removed: int = Field(description="how many files with this content were removed")


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=4)


class TokenExchange(Strict):
    """A token for a username and password, without a session (scripts, ``pf login``)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=4)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the first characters, to recognise the token")
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="the token's value; shown only this once")


class UserOut(BaseModel):
    id: int
    username: str
    roles: int = Field(description="bit flags: LOGIN 0x01, EDITOR 0x02, OPERATOR 0x04, 0xff admin")
    disabled: bool
    created_at: datetime


class UserPatch(Strict):
    disabled: bool | None = None
    roles: int | None = Field(None, ge=0, le=255)


class Usage(BaseModel):
    files: int
    bytes: int
    quota_files: int | None = Field(description="null: no limit")
    quota_bytes: int | None = Field(description="null: no limit")


class Me(UserOut):
    scopes: list[Scope]
    usage: Usage


class FileListQuery(Strict):
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(20, ge=1, le=100)
    sort: Literal["created_at", "filename", "size"] = "created_at"
    order: Literal["asc", "desc"] = "desc"
    type: str | None = Field(
        None,
        pattern=r"^[a-z0-9.+-]+(/[a-z0-9.+-]+)?$",
        max_length=127,
        description="image or image/png",
    )
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = Field(None, min_length=1, max_length=100, description="filename contains")


class PageQuery(Strict):
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(20, ge=1, le=100)


# --- file requests (/api/v1/requests, /u/<code>) ----------------------------------------


class RequestCreate(Strict):
    title: str = Field(min_length=1, max_length=MAX_REQUEST_TITLE)
    message: str | None = Field(None, max_length=MAX_REQUEST_MESSAGE)
    max_files: int | None = Field(None, ge=1, le=MAX_REQUEST_FILES)
    max_bytes: int | None = Field(None, ge=1, le=MAX_REQUEST_BYTES)
    allowed_types: list[str] = Field(
        default_factory=list,
        max_length=MAX_REQUEST_TYPES,
        description="MIME types or patterns (image/*); empty: whatever the server accepts",
    )
    expires_in: int | None = Field(None, ge=1, description="seconds from now")
    password: str | None = Field(None, min_length=1, max_length=MAX_PASSWORD)


class RequestPatch(Strict):
    """Only the fields sent change; ``null`` removes a message, limit, expiry or password."""

    title: str | None = Field(None, min_length=1, max_length=MAX_REQUEST_TITLE)
    message: str | None = Field(None, max_length=MAX_REQUEST_MESSAGE)
    max_files: int | None = Field(None, ge=1, le=MAX_REQUEST_FILES)
    max_bytes: int | None = Field(None, ge=1, le=MAX_REQUEST_BYTES)
    allowed_types: list[str] | None = Field(None, max_length=MAX_REQUEST_TYPES)
    expires_in: int | None = Field(None, ge=1)
    password: str | None = Field(None, min_length=1, max_length=MAX_PASSWORD)
    closed: bool | None = Field(None, description="true closes the link, false opens it again")


class RequestLinks(BaseModel):
    self: str
    upload: str = Field(description="the link to hand out: /u/<code>")


class RequestOut(BaseModel):
    id: str
    title: str
    message: str | None
    max_files: int | None
    max_bytes: int | None
    allowed_types: list[str]
    expires_at: datetime | None
    password_protected: bool
    open: bool = Field(description="takes uploads now: not closed, not expired")
    closed_at: datetime | None
    received_files: int
    received_bytes: int
    collection_id: str | None = Field(description="the collection the files land in")
    created_at: datetime
    updated_at: datetime | None
    links: RequestLinks


class RequestUploadForm(Strict):
    file: bytes = Field(min_length=1, json_schema_extra={"format": "binary"})


class ReceiptOut(BaseModel):
    """What the uploader gets back: never a link to the file."""

    filename: str
    size: int = Field(description="bytes")
    sha256: str
    received_at: datetime


class CollectionLinks(BaseModel):
    self: str = Field(description="this collection in the API")
    page: str = Field(description="the collection page (/c/)")
    zip: str = Field(description="every readable file as one zip (/c/<id>.zip), resumable")
    short: str = Field(description="the short link (/s/)")


class CollectionOut(BaseModel):
    id: str
    title: str
    description: str | None
    visibility: Visibility
    created_at: datetime
    updated_at: datetime | None
    expires_at: datetime | None
    max_downloads: int | None
    downloads: int = Field(description="zip downloads")
    password_protected: bool
    owner_id: int | None
    files: list[FileOut] = Field(description="the files you may read, in order")
    size: int = Field(description="bytes of the files listed")
    zip_size: int = Field(description="bytes of the zip of the files listed")
    links: CollectionLinks


class CollectionCreated(CollectionOut):
    token: str | None = Field(
        None, description="anonymous collections only: the management token, shown once"
    )


FileIds = list[Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$")]]


class CollectionCreate(Strict):
    title: str = Field("", max_length=200)
    description: str | None = Field(None, max_length=10_000)
    files: FileIds = Field(default_factory=list, max_length=1000, description="file ids, in order")
    expires_in: int | None = Field(None, ge=1, description="seconds until it expires")
    max_downloads: int | None = Field(None, ge=1, le=1_000_000)
    password: str | None = Field(None, max_length=1024)
    visibility: Visibility | None = None


class CollectionPatch(RulePatch):
    """Only the fields sent change; ``null`` removes an expiry, a password or a limit."""

    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    order: FileIds | None = Field(
        None, max_length=1000, description="file ids to put first, in this order"
    )


class CollectionFiles(Strict):
    files: FileIds = Field(min_length=1, max_length=1000, description="file ids")
