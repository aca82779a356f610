"""Users, roles, passwords and personal API tokens.

Passwords are argon2id hashes. API tokens are 256 random bits shown once;
only their sha256 is stored. A slow hash would add nothing for a value that
cannot be guessed, and sha256 lets a token be found by an indexed lookup.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.types import utcnow
from pastefile.db.users import ApiToken, User, UserSession
from pastefile.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    SecondFactorRequired,
    Unauthorized,
)


class Permission:
    """Bit-flag permissions (LOGIN 0x01 … ADMINISTER 0xff); a role is the OR of its flags."""

    LOGIN = 0x01
    EDITOR = 0x02
    OPERATOR = 0x04
    ADMINISTER = 0xFF


ROLE_USER = Permission.LOGIN
ROLE_ADMIN = Permission.ADMINISTER
SCOPES = ("read", "upload", "delete", "admin")
TOKEN_PREFIX = "pf_"  # noqa: S105 - a public marker, not a secret
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, through a session (all scopes) or a token."""

    user_id: int
    username: str
    roles: int
    scopes: frozenset[str]
    token_id: int | None = None

    def can(self, permission: int) -> bool:
        return self.roles & permission == permission

    @property
    def is_admin(self) -> bool:
        return self.can(Permission.ADMINISTER) and "admin" in self.scopes

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(presented: str, stored_hash: str | None) -> bool:
    """Timing-safe check of a presented token against a stored sha256."""
    if not stored_hash:
        return False
    return hmac.compare_digest(hash_token(presented), stored_hash)


def user_version(user: User) -> str:
    """The user's ETag: a digest of what the API shows and PATCH changes."""
    state = f"{user.id}:{user.username}:{user.roles}:{int(user.disabled)}"
    return hashlib.sha256(state.encode("utf-8")).hexdigest()[:20]


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def make_password_hasher(settings: Settings) -> PasswordHasher:
    # The testing profile hashes thousands of passwords; production uses the
    # library's RFC 9106 defaults.
    if settings.app_env == "testing":
        return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    return PasswordHasher()


def parse_scopes(scopes: Sequence[str]) -> frozenset[str]:
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise InvalidInput(f"scopes must be a non-empty subset of {', '.join(SCOPES)}")
    return frozenset(scopes)


class AccountService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.hasher = make_password_hasher(settings)

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the user does not exist, so that takes as long.

        Made on first use: an argon2 hash touches 64 MiB, which every process
        (job workers, the CLI) would otherwise hold at start for nothing."""
        return self.hasher.hash(secrets.token_hex(16))

    # --- passwords ------------------------------------------------------------

    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify_password(self, stored: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(stored or self._dummy_hash, password) and bool(stored)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # --- users ----------------------------------------------------------------

    def create_user(self, username: str, password: str, roles: int = ROLE_USER) -> User:
        if not _USERNAME.match(username):
            raise InvalidInput("usernames are 3-64 of A-Z a-z 0-9 _ . -")
        if not 8 <= len(password) <= 1024:
            raise InvalidInput("passwords are 8 to 1024 characters")
        user = User(username=username, password_hash=self.hash_password(password), roles=roles)
        try:
            with self.db.write() as session:
                session.add(user)
                session.flush()
        except IntegrityError as exc:
            raise Conflict(f"the username {username!r} is taken") from exc
        return user

    def authenticate(self, username: str, password: str) -> User:
        with self.db.read() as session:
            user = session.scalar(select(User).where(User.username == username))
        if not self.verify_password(user.password_hash if user else None, password):
            raise Unauthorized("wrong username or password")
        assert user is not None
        if user.disabled or not user.roles & Permission.LOGIN:
            raise Forbidden("this account is disabled")
        return user

    def get_user(self, user_id: int) -> User:
        with self.db.read() as session:
            user = session.get(User, user_id)
        if user is None:
            raise NotFound("no such user")
        return user

    # --- browser sessions -------------------------------------------------------

    def open_session(self, user_id: int) -> str:
        """A new signed-in session: its random id for the cookie; only the hash is kept."""
        session_id = secrets.token_urlsafe(32)
        with self.db.write() as session:
            session.add(UserSession(id_hash=hash_token(session_id), user_id=user_id))
        return session_id

    def session_user(self, session_id: str) -> User | None:
        """The user a session belongs to, while it is open and the account active."""
        query = (
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.id_hash == hash_token(session_id))
        )
        with self.db.read() as session:
            user = session.scalar(query)
        if user is None or user.disabled or not user.roles & Permission.LOGIN:
            return None
        return user

    def end_session(self, session_id: str) -> None:
        with self.db.write() as session:
            session.execute(
                delete(UserSession).where(UserSession.id_hash == hash_token(session_id))
            )

    def end_all_sessions(self, user_id: int) -> int:
        """Log a user out everywhere; returns how many sessions ended."""
        with self.db.write() as session:
            result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def active_user(self, user_id: int) -> User | None:
        """The user behind a session, or None once disabled or gone."""
        with self.db.read() as session:
            user = session.get(User, user_id)
        if user is None or user.disabled or not user.roles & Permission.LOGIN:
            return None
        return user

    def list_users(self, offset: int, limit: int, q: str | None = None) -> tuple[list[User], int]:
        """A page of users by id, and the total; ``q`` is a part of the username."""
        from sqlalchemy import func

        conditions = [func.lower(User.username).contains(q.lower(), autoescape=True)] if q else []
        with self.db.read() as session:
            total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
            page = select(User).where(*conditions).order_by(User.id).offset(offset).limit(limit)
            return list(session.scalars(page)), total

    def update_user(
        self,
        user_id: int,
        disabled: bool | None = None,
        roles: int | None = None,
        if_version: str | None = None,
        actor_id: int | None = None,
    ) -> User:
        """Change a user; with ``if_version`` only if it is still ``user_version`` (else 412).

        ``actor_id`` is who asks: nobody disables themselves or changes their own roles,
        so the last administrator cannot lock everyone out by accident.
        """
        if actor_id == user_id and (disabled or roles is not None):
            raise Forbidden("administrators cannot disable or demote themselves")
        with self.db.write() as session:
            user = session.get(User, user_id, with_for_update=True)
            if user is None:
                raise NotFound("no such user")
            if if_version is not None and not hmac.compare_digest(if_version, user_version(user)):
                raise PreconditionFailed("the user changed since that ETag; read it again")
            if disabled is not None:
                user.disabled = disabled
            if roles is not None:
                user.roles = roles
            session.flush()
        return user

    @staticmethod
    def session_principal(user: User) -> Principal:
        is_admin = user.roles & Permission.ADMINISTER == Permission.ADMINISTER
        scopes = SCOPES if is_admin else SCOPES[:3]
        return Principal(user.id, user.username, user.roles, frozenset(scopes))

    # --- API tokens -----------------------------------------------------------

    def create_token(
        self, owner: Principal, name: str, scopes: Sequence[str]
    ) -> tuple[ApiToken, str]:
        """A new token and its value; the value is never retrievable again."""
        wanted = parse_scopes(scopes)
        # A token can only mint tokens with less or equal power than its own.
        if not wanted <= owner.scopes:
            raise Forbidden("a token cannot grant scopes its creator does not have")
        if not 1 <= len(name.strip()) <= 100:
            raise InvalidInput("token names are 1 to 100 characters")
        value = new_token()
        row = ApiToken(
            user_id=owner.user_id,
            name=name.strip(),
            token_hash=hash_token(value),
            prefix=value[:10],
            scopes=" ".join(sorted(wanted)),
        )
        with self.db.write() as session:
            session.add(row)
            session.flush()
        return row, value

    def exchange_password(
        self, username: str, password: str, name: str, scopes: Sequence[str]
    ) -> tuple[ApiToken, str]:
        """A token for a username and password (scripts, ``pf login --username``).

        The caller spends the login budget first, as a web login does. A disabled
        account is refused, and so is any account with a second factor: a password
        alone must not be enough there, so such a user makes tokens on the tokens page
        or through the device flow, from a browser session that passed the second factor.
        """
        user = self.authenticate(username, password)
        if user.second_factor is not None:
            raise SecondFactorRequired(
                "this account uses a second factor: approve a device login (pf login) "
                "or create a token on /account/tokens"
            )
        return self.create_token(self.session_principal(user), name, scopes)

    def list_tokens(self, user_id: int) -> list[ApiToken]:
        with self.db.read() as session:
            query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            return list(session.scalars(query))

    def get_token(self, user_id: int, token_id: int) -> ApiToken:
        with self.db.read() as session:
            row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user_id:
            raise NotFound("no such token")
        return row

    def revoke_token(self, user_id: int, token_id: int) -> None:
        with self.db.write() as session:
            row = session.get(ApiToken, token_id, with_for_update=True)
            if row is None or row.user_id != user_id:
                raise NotFound("no such token")
            if row.revoked_at is None:
                row.revoked_at = utcnow()

    def principal_for_token(self, value: str) -> Principal:
        """The caller behind a bearer token; checked on every request, never cached,
        so a revoked token or a disabled user fails at once."""
        digest = hash_token(value)
        with self.db.read() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
            user = session.get(User, row.user_id) if row is not None else None
        # The lookup is by the hash of a 256-bit secret, so its timing says
        # nothing useful; the digest compare is constant-time all the same.
        if row is None or user is None or not hmac.compare_digest(row.token_hash, digest):
            raise Unauthorized("the token is not valid")
        if row.revoked_at is not None:
            raise Unauthorized("the token was revoked")
        if user.disabled or not user.roles & Permission.LOGIN:
            raise Unauthorized("the account is disabled")
        self._touch(row)
        return Principal(user.id, user.username, user.roles, frozenset(row.scopes.split()), row.id)

    def _touch(self, row: ApiToken) -> None:
        now = utcnow()
        if row.last_used_at is not None and now - row.last_used_at < _LAST_USED_RESOLUTION:
            return
        with self.db.write() as session:
            session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
