"""Who may see, change and delete a file, and what is left when it is gone.

Every route that serves or changes a file asks ``FileAccess.resolve``, so
visibility, expiry, download limits and passwords are enforced in one place.
A private file is a 404 to everyone but its owner and admins: nobody can
tell it exists. Expired files answer 410 from the moment they expire, before
any sweep removes their bytes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from pastefile.db.collections import Collection
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.db.moderation import BlockedHash, FileTombstone
from pastefile.db.types import utcnow
from pastefile.errors import (
    Blocked,
    Damaged,
    Forbidden,
    Gone,
    InsufficientScope,
    InvalidInput,
    NotFound,
    PasswordRequired,
    PreconditionFailed,
    WrongPassword,
)
from pastefile.ratelimit import RateLimiter, spend
from pastefile.services import filetypes
from pastefile.services.accounts import AccountService, Principal, tokens_match
from pastefile.services.file_rules import Guarded, Rules, is_plain_public
from pastefile.services.files import FileService
from pastefile.services.ids import looks_like_id
from pastefile.services.names import sanitize_filename
from pastefile.services.notifications import Notifier
from pastefile.services.policy import UploadPolicy
from pastefile.services.rowids import get_by_row_id
from pastefile.services.scrub import DAMAGED
from pastefile.services.upload_options import VISIBILITIES, UploadOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """Everything a request can prove: a principal, a management token, a password."""

    principal: Principal | None = None
    manage_token: str | None = None
    password: str | None = None
    # Files this caller already proved the password for (a browser session), each
    # as ``unlock_key``: bound to the password it proved.
    unlocked: frozenset[str] = frozenset()
    # Where the request came from (an IP address): wrong passwords are limited per client.
    client: str = "-"


@dataclass(frozen=True)
class FileChanges:
    """What a change asks for: None leaves a field as it is, ``clear_*`` removes it.

    Values are as a client sends them (seconds from now, a password in clear);
    ``FileAccess.update`` validates them with the upload options' own rules.
    """

    filename: str | None = None
    visibility: str | None = None
    expires_in: int | None = None
    clear_expiry: bool = False
    password: str | None = None
    clear_password: bool = False
    max_downloads: int | None = None
    clear_max_downloads: bool = False


class RuleChange(Protocol):
    """The part of a change that touches the four rules, for a file or a collection
    (``FileChanges``, ``CollectionChanges``): ``FileAccess.rule_values`` checks it."""

    @property
    def visibility(self) -> str | None: ...

    @property
    def expires_in(self) -> int | None: ...

    @property
    def clear_expiry(self) -> bool: ...

    @property
    def password(self) -> str | None: ...

    @property
    def clear_password(self) -> bool: ...

    @property
    def max_downloads(self) -> int | None: ...

    @property
    def clear_max_downloads(self) -> bool: ...


def unlock_key(item: Guarded) -> str:
    """What a session keeps for a file whose password it proved.

    It names the file and the password hash it was proved against (a short
    digest of the argon2 string, salt included, so it tells nothing about the
    password): a new or removed password makes every earlier unlock worthless.
    """
    digest = hashlib.sha256((item.password_hash or "").encode()).hexdigest()[:16]
    return f"{item.public_id}:{digest}"


def _visibility(item: Guarded, wanted: str, noun: str) -> str:
    if wanted not in VISIBILITIES:
        raise InvalidInput(f"visibility must be one of {', '.join(VISIBILITIES)}")
    if item.owner_id is None and wanted == "private":
        raise InvalidInput(f"anonymous {noun}s cannot be private; use 'unlisted'")
    return wanted


def _rules_after(file: File, values: dict[str, Any]) -> Rules:
    """The file's four rules once ``values`` are written."""
    return Rules(
        values.get("visibility", file.visibility),
        values.get("expires_at", file.expires_at),
        values.get("max_downloads", file.max_downloads),
        values.get("password_hash", file.password_hash),
    )


def _limit_above(item: Guarded, asked: int, noun: str) -> int | None:
    limit = UploadPolicy.max_downloads(asked)
    if limit is not None and limit <= item.downloads:
        raise InvalidInput(
            f"this {noun} was downloaded {item.downloads} times already; max_downloads must be more"
        )
    return limit


def is_owner(item: Guarded, principal: Principal | None) -> bool:
    if principal is None or item.owner_id is None:
        return False
    return item.owner_id == principal.user_id


def sees_private(item: Guarded, principal: Principal | None) -> bool:
    return is_owner(item, principal) or (principal is not None and principal.is_admin)


def check_limits(item: Guarded, noun: str = "file") -> None:
    """410 once an item expired or used up its downloads, before any sweep removes it."""
    if item.expires_at is not None and item.expires_at <= utcnow():
        raise Gone(f"this {noun} has expired")
    if item.max_downloads is not None and item.downloads >= item.max_downloads:
        raise Gone(f"this {noun} reached its download limit")


class FileAccess:
    """The read gate and the rules for changing files.

    Every read of a file (``/i/``, ``/d/``, ``/p/``, variants, posters, the
    API, RPC ``get``) resolves it here: visibility, expiry, the download
    limit and the password, with wrong passwords limited per client and file.
    """

    def __init__(
        self,
        db: Database,
        files: FileService,
        accounts: AccountService,
        limiter: RateLimiter,
        password_rate: str,
        policy: UploadPolicy,
        notifier: Notifier | None = None,
    ) -> None:
        self.db = db
        self.files = files
        self.accounts = accounts
        self.limiter = limiter
        self.password_rate = password_rate
        self.policy = policy  # the upload options' validation, reused by changes
        # Told about downloads and deletes (webhooks, alerts, the owner's history).
        self.notifier = notifier

    # --- reading ----------------------------------------------------------------

    def resolve(
        self,
        ident: str,
        caller: Caller,
        by_short_code: bool = False,
        check_password: bool = True,
    ) -> File:
        """The file behind a public id or short code, if this caller may have it.

        ``check_password=False`` is for a redirect to the page that asks for it
        (``/s/``): everything else is still checked.
        """
        found = self._lookup(ident, by_short_code)
        if found is None:
            raise self._gone_or_missing(ident, caller.principal, by_short_code)
        if found.visibility == "private" and not sees_private(found, caller.principal):
            raise NotFound("no such file")
        if found.status == DAMAGED:
            raise Damaged(
                "the stored bytes of this file failed an integrity check and were set aside; "
                "the operator can restore them from a backup"
            )
        self.admit(found, ident, caller, check_password=check_password)
        return found

    def admit(
        self,
        item: Guarded,
        ident: str,
        caller: Caller,
        noun: str = "file",
        check_password: bool = True,
    ) -> None:
        """The rules every readable thing carries, for a file or a collection:
        visibility, expiry, the download limit, then the password (unless this
        caller unlocked it with its current password, or may see it anyway)."""
        if item.visibility == "private" and not sees_private(item, caller.principal):
            raise NotFound(f"no such {noun}")
        check_limits(item, noun)
        if check_password and item.password_hash and not self._unlocked(item, caller):
            # A collection's budget is its own: "c:<id>" never shares a file's.
            subject = item.public_id if noun == "file" else f"{noun[0]}:{item.public_id}"
            self._check_password(item, caller, subject, noun)

    @staticmethod
    def _unlocked(item: Guarded, caller: Caller) -> bool:
        """Whether the password is proved already: by this session, or by someone who
        may change it anyway (the owner, an admin, the management token's holder)."""
        if sees_private(item, caller.principal) or unlock_key(item) in caller.unlocked:
            return True
        token = caller.manage_token
        return token is not None and tokens_match(token, item.manage_token_hash)

    def resolve_row(self, row_id: int, caller: Caller) -> File:
        """The RPC ``get(pid)``: by integer row id, through the same rules."""
        found = get_by_row_id(self.files, row_id)
        return self.resolve(found.public_id, caller)

    def visible(self, ident: str, caller: Caller) -> File:
        """The file for management: no password asked, still no peeking at private files."""
        found = self._lookup(ident, False)
        if found is None:
            raise self._gone_or_missing(ident, caller.principal, False)
        if found.visibility == "private" and not sees_private(found, caller.principal):
            raise NotFound("no such file")
        return found

    def count_download(self, file: File, client: str = "-") -> None:
        """Take one download from a limited file, atomically, or answer 410; then tell
        the notifier (``client``, an address, only becomes a country in the history)."""
        if file.max_downloads is not None:
            self._take_download(file)
        if self.notifier is not None:
            self.notifier.downloaded(file, client)

    def _take_download(self, file: File) -> None:
        if not self.take_download(File, file.id):
            self.files.lookups.forget(file)
            raise Gone("this file reached its download limit")
        self.files.lookups.forget(file)  # the count changed

    def take_download(self, table: type[File] | type[Collection], row_id: int) -> bool:
        """Add one download to a row unless its limit is reached; False when it is.

        One conditional UPDATE: the database decides, so two concurrent last
        downloads can never both succeed, on any backend or node count.
        """
        room = or_(table.max_downloads.is_(None), table.downloads < table.max_downloads)
        with self.db.write() as session:
            result = session.execute(
                update(table)
                .where(table.id == row_id, room)
                .values(downloads=table.downloads + 1)
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def _lookup(self, ident: str, by_short_code: bool) -> File | None:
        if not looks_like_id(ident, max_length=16 if by_short_code else 32):
            return None
        lookups = self.files.lookups  # cached: plain rows, a new transient File each call
        return lookups.by_short_code(ident) if by_short_code else lookups.by_public_id(ident)

    def _gone_or_missing(
        self, ident: str, principal: Principal | None, by_short_code: bool
    ) -> Exception:
        if not looks_like_id(ident, max_length=32):
            return NotFound("no such file")
        column = FileTombstone.short_code if by_short_code else FileTombstone.public_id
        with self.db.read() as session:
            stone = session.scalar(select(FileTombstone).where(column == ident))
        if stone is None:
            return NotFound("no such file")
        if stone.visibility == "private" and not (
            principal is not None and (principal.user_id == stone.owner_id or principal.is_admin)
        ):
            return NotFound("no such file")
        if stone.reason == "removed":
            return Blocked("this file was removed by moderation")
        return Gone(f"this file is gone ({stone.reason})")

    def _check_password(self, item: Guarded, caller: Caller, subject: str, noun: str) -> None:
        if not caller.password:
            raise PasswordRequired(f"send the {noun}'s password")
        # Spend before checking, in one atomic step, so concurrent guesses cannot all
        # be checked; a right password gets its unit back. The budget is per client
        # address and file: a new or made-up token does not start a fresh one.
        budget = (self.password_rate, "password", caller.client, subject)
        spend(self.limiter, *budget, refusal=f"too many wrong passwords for this {noun}; wait")
        if not self.accounts.verify_password(item.password_hash, caller.password):
            raise WrongPassword("the password is wrong")
        self.limiter.refund(*budget)

    # --- changing -----------------------------------------------------------------

    def check_manage(self, item: Guarded, caller: Caller, scope: str, noun: str = "file") -> None:
        """Owner with ``scope``, an admin, or the anonymous creator's management token."""
        who = caller.principal
        if caller.manage_token and tokens_match(caller.manage_token, item.manage_token_hash):
            return
        if who is not None and who.is_admin:
            return
        if is_owner(item, who):
            assert who is not None
            if not who.has_scope(scope):
                raise InsufficientScope(f"this needs the '{scope}' scope")
            return
        raise Forbidden(f"only the {noun}'s owner can do this")

    def derived_options(self, source: File, caller: Caller) -> UploadOptions | None:
        """The options of a copy made from ``source`` (a ``/r/`` resize).

        A plain public, permanent file gives an anonymous public copy
        (None). Any other file's copy keeps its owner and every rule of the
        source (visibility, password, expiry, download limit, management token),
        and only someone who may manage the source makes one: 403 for others.
        """
        if is_plain_public(source):
            return None
        self.check_manage(source, caller, "upload")
        return UploadOptions(
            owner_id=source.owner_id,
            visibility=source.visibility,
            expires_at=source.expires_at,
            max_downloads=source.max_downloads,
            password_hash=source.password_hash,
            manage_token_hash=source.manage_token_hash,
        )

    def update(self, ident: str, caller: Caller, version: int, changes: FileChanges) -> File:
        """Apply changes if the file is still at ``version`` (If-Match), else 412.

        Every value is validated before anything is written: a bad one is a 400
        and the file stays as it was.
        """
        file = self.visible(ident, caller)
        self.check_manage(file, caller, "upload")
        values = self._changed_values(file, changes)
        condition = [File.id == file.id, File.version == version]
        if values.get("max_downloads") is not None:  # a download may land meanwhile
            condition.append(File.downloads < values["max_downloads"])
        values |= {"version": File.version + 1, "updated_at": utcnow()}
        with self.db.write() as session:
            result = session.execute(
                update(File)
                .where(*condition)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        self.files.lookups.forget(file)
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise PreconditionFailed("the file changed since that ETag; read it again")
        return self.visible(ident, caller)

    def _changed_values(self, file: File, changes: FileChanges) -> dict[str, Any]:
        """The columns a change sets, validated by the rules uploads follow."""
        values: dict[str, Any] = {}
        if changes.filename is not None and file.encrypted:
            raise InvalidInput("an encrypted file's name is inside its ciphertext; it stays")
        if changes.filename is not None:
            extension = filetypes.extension_for(file.mimetype)
            values["filename"] = sanitize_filename(changes.filename, extension)
        values |= self.rule_values(file, changes)
        if not is_plain_public(_rules_after(file, values)):
            values["dedup_key"] = None  # later uploads must not get a restricted file's links
        return values

    def rule_values(self, item: Guarded, changes: RuleChange, noun: str = "file") -> dict[str, Any]:
        """The rule columns a change sets (visibility, expiry, password, download limit),
        for a file or a collection, validated by the code that checks upload options.

        Raises before anything is written: a bad value is a 400 and nothing changes.
        A limit must be above the downloads so far (an edit never uses an item up);
        the writer also conditions its UPDATE on that, as a download may land meanwhile.
        """
        values: dict[str, Any] = {}
        if changes.visibility is not None:
            values["visibility"] = _visibility(item, changes.visibility, noun)
        if changes.clear_expiry:
            values["expires_at"] = None
        elif changes.expires_in is not None:
            values["expires_at"] = self.policy.expiry(changes.expires_in)
        if changes.clear_password:
            values["password_hash"] = None
        elif changes.password is not None:
            if not changes.password:
                raise InvalidInput("an empty password; to remove the password, clear it")
            values["password_hash"] = self.policy.password_hash(changes.password)
        if changes.clear_max_downloads:
            values["max_downloads"] = None
        elif changes.max_downloads is not None:
            values["max_downloads"] = _limit_above(item, changes.max_downloads, noun)
        return values

    def delete(self, ident: str, caller: Caller) -> None:
        file = self.visible(ident, caller)
        self.check_manage(file, caller, "delete")
        self.bury(file, "deleted")

    def bury(self, file: File, reason: str) -> None:
        """Leave a tombstone (so links answer 410/451), then delete the record."""
        stone = FileTombstone(
            public_id=file.public_id,
            short_code=file.short_code,
            owner_id=file.owner_id,
            visibility=file.visibility,
            reason=reason,
        )
        try:
            with self.db.write() as session:
                session.add(stone)
        except IntegrityError:
            log.info("file %s already has a tombstone", file.public_id)
        try:
            self.files.delete(file.public_id)
        except NotFound:
            return  # a concurrent delete won; the tombstone stands
        if self.notifier is not None:
            self.notifier.buried(file, reason)

    # --- moderation -----------------------------------------------------------------

    def remove_for_abuse(self, ident: str, admin: Principal, reason: str) -> int:
        """Block the content's sha256 and remove every file with it; returns how many."""
        if not admin.is_admin:
            raise Forbidden("moderation is for administrators")
        file = self.visible(ident, Caller(admin))
        try:
            with self.db.write() as session:
                session.add(BlockedHash(sha256=file.sha256, reason=reason[:255] or "abuse"))
        except IntegrityError:
            log.info("content %s was already blocked", file.sha256)
        with self.db.read() as session:
            same = list(session.scalars(select(File).where(File.sha256 == file.sha256)))
        for victim in same:
            self.bury(victim, "removed")
        return len(same)

    # --- sweeping -----------------------------------------------------------------

    def sweep(self, limit: int = 1000) -> int:
        """Remove expired and used-up files; their links already answer 410."""
        now = utcnow()
        with self.db.read() as session:
            expired = select(File).where(File.expires_at <= now).limit(limit)
            used_up = select(File).where(File.downloads >= File.max_downloads).limit(limit)
            doomed = {f.id: f for f in [*session.scalars(expired), *session.scalars(used_up)]}
        for file in doomed.values():
            self.bury(file, "expired")
        return len(doomed)
