"""The OAuth 2.0 Device Authorization Grant (RFC 8628): a client without a browser
(``pf login``) gets an ordinary API token once a signed-in person approves its code.

1. The client asks (``start``): a device code (a secret it keeps) and a user code (what
   the person types or confirms at ``/device``), both stored as sha256 only.
2. The person, signed in, looks the user code up (``pending``) and approves or denies it
   (``decide``); each look-up and decision spends the client's login budget, so user
   codes (about 34.6 bits) cannot be guessed.
3. The client polls (``poll``) no faster than its interval; once approved, the device
   code is spent (single use) for an API token named after the device, hashed at rest
   and revocable on ``/account/tokens`` like any other.

Codes expire after ``LIFETIME`` seconds.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from pastefile.config import Settings
from pastefile.db.database import Database
from pastefile.db.device_auth import APPROVED, DENIED, PENDING, USED, DeviceAuthorization
from pastefile.db.types import utcnow
from pastefile.db.users import ApiToken
from pastefile.errors import DeviceGrantError, Forbidden, NotFound, ServiceBusy
from pastefile.ratelimit import RateLimiter, spend
from pastefile.services.accounts import SCOPES, AccountService, Principal, hash_token

# The clients this server knows: client_id -> the name a person is shown.
CLIENTS = {"pf": "pastefile command-line client"}
DEFAULT_SCOPES = ("read", "upload", "delete")
# RFC 8628 §6.1: consonants only: no vowels (so no words), no digits (so no 0/O, 1/I/L).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
LIFETIME = 600  # seconds a code lives
INTERVAL = 5  # seconds between polls; slow_down adds SLOW_DOWN
SLOW_DOWN = 5
_KEPT_AFTER_EXPIRY = timedelta(days=1)


@dataclass(frozen=True)
class DeviceGrant:
    """What ``start`` hands the client (RFC 8628 §3.2)."""

    device_code: str
    user_code: str  # as shown: WDJB-MJHT
    expires_in: int
    interval: int


@dataclass(frozen=True)
class PendingRequest:
    """What the approval page shows about a code before the person decides."""

    user_code: str
    client_name: str
    device_name: str | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class IssuedToken:
    row: ApiToken
    value: str
    scopes: tuple[str, ...]


def format_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalize_user_code(typed: str) -> str:
    """What a person typed, as stored: upper case, without dashes or spaces."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())[: USER_CODE_LENGTH * 2]


def parse_scope(scope: str | None) -> tuple[str, ...]:
    """The space-separated ``scope`` of RFC 6749 §3.3; empty asks for the defaults."""
    wanted = tuple(dict.fromkeys((scope or "").split()))
    if not wanted:
        return DEFAULT_SCOPES
    if not set(wanted) <= set(SCOPES):
        raise DeviceGrantError("invalid_scope", f"scopes are among {' '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in wanted)


class DeviceAuthService:
    def __init__(
        self, settings: Settings, db: Database, accounts: AccountService, limiter: RateLimiter
    ) -> None:
        self.settings = settings
        self.db = db
        self.accounts = accounts
        self.limiter = limiter

    # --- the client -------------------------------------------------------------------

    def start(self, client_id: str, scope: str | None, device_name: str | None) -> DeviceGrant:
        """A new device authorization (``POST /oauth/device_authorization``)."""
        _client_name(client_id)
        scopes = parse_scope(scope)
        device_code = secrets.token_urlsafe(32)
        now = utcnow()
        for _attempt in range(5):  # a user code collision: draw again
            user_code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
            row = DeviceAuthorization(
                device_code_hash=hash_token(device_code),
                user_code_hash=hash_token(user_code),
                client_id=client_id,
                device_name=_printable(device_name),
                scopes=" ".join(scopes),
                status=PENDING,
                interval=INTERVAL,
                created_at=now,
                expires_at=now + timedelta(seconds=LIFETIME),
            )
            try:
                with self.db.write() as session:
                    session.execute(
                        delete(DeviceAuthorization).where(
                            DeviceAuthorization.expires_at < now - _KEPT_AFTER_EXPIRY
                        )
                    )
                    session.add(row)
            except IntegrityError:
                continue
            return DeviceGrant(device_code, format_user_code(user_code), LIFETIME, INTERVAL)
        raise ServiceBusy("could not make a device code, try again")

    def poll(self, client_id: str, device_code: str) -> IssuedToken:
        """``POST /oauth/token``: the token once approved, else the RFC 8628 §3.5 error."""
        _client_name(client_id)
        outcome, row = self._polled(client_id, device_code)
        if outcome != APPROVED:
            raise DeviceGrantError(outcome, _POLL_ERRORS[outcome])
        assert row is not None and row.user_id is not None
        user = self.accounts.active_user(row.user_id)
        if user is None:
            raise DeviceGrantError("access_denied", "the approving account is disabled")
        scopes = tuple(row.scopes.split())
        token, value = self.accounts.create_token(
            self.accounts.session_principal(user), _token_name(row), scopes
        )
        return IssuedToken(token, value, scopes)

    def _polled(self, client_id: str, device_code: str) -> tuple[str, DeviceAuthorization | None]:
        """Record the poll and say what it found; an approved code is spent here, in
        the same locked transaction, so two polls never both get a token."""
        now = utcnow()
        query = select(DeviceAuthorization).where(
            DeviceAuthorization.device_code_hash == hash_token(device_code)
        )
        with self.db.write() as session:
            row = session.scalar(query.with_for_update())
            if row is None or row.client_id != client_id or row.status == USED:
                return "invalid_grant", None
            if now >= row.expires_at:
                return "expired_token", None
            too_soon = _too_soon(row.last_polled_at, row.interval, now)
            row.last_polled_at = now
            if too_soon:
                row.interval += SLOW_DOWN
                return "slow_down", None
            if row.status == APPROVED:
                row.status = USED
                return APPROVED, row
            return ("access_denied" if row.status == DENIED else "authorization_pending"), None

    # --- the person approving -----------------------------------------------------------

    def pending(self, typed: str, client: str) -> PendingRequest:
        """The request behind a user code, while it waits; 404 for anything else.

        Every look-up spends ``client``'s login budget: a wrong code is a guess."""
        row = self._find_pending(typed, client)
        return PendingRequest(
            format_user_code(normalize_user_code(typed)),
            _client_name(row.client_id),
            row.device_name,
            tuple(row.scopes.split()),
        )

    def decide(self, typed: str, who: Principal, approve: bool, client: str) -> None:
        """Approve (for ``who``) or deny the request behind a user code, once."""
        row = self._find_pending(typed, client)
        wanted = frozenset(row.scopes.split())
        if approve and not wanted <= who.scopes:
            raise Forbidden("the device asks for scopes your account does not have")
        with self.db.write() as session:
            result = session.execute(
                update(DeviceAuthorization)
                .where(DeviceAuthorization.id == row.id, DeviceAuthorization.status == PENDING)
                .values(status=APPROVED if approve else DENIED, user_id=who.user_id)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound("this code was already used")

    def _find_pending(self, typed: str, client: str) -> DeviceAuthorization:
        rate = self.settings.login_rate_limit
        spend(self.limiter, rate, "device_code", client, refusal="too many codes tried")
        code = normalize_user_code(typed)
        query = select(DeviceAuthorization).where(
            DeviceAuthorization.user_code_hash == hash_token(code)
        )
        with self.db.read() as session:
            row = session.scalar(query) if len(code) == USER_CODE_LENGTH else None
        if row is None or row.status != PENDING or utcnow() >= row.expires_at:
            raise NotFound("no device is waiting for this code; it may have expired (10 minutes)")
        return row


_POLL_ERRORS = {
    "invalid_grant": "unknown device code, another client's, or already exchanged",
    "expired_token": "the device code expired; start again",
    "slow_down": "polling too fast: wait the interval (now 5 seconds longer)",
    "access_denied": "the request was denied",
    "authorization_pending": "waiting for the user to approve the code",
}


def _client_name(client_id: str) -> str:
    name = CLIENTS.get(client_id)
    if name is None:
        raise DeviceGrantError("invalid_client", f"unknown client_id; known: {', '.join(CLIENTS)}")
    return name


def _printable(name: str | None) -> str | None:
    """A device's name as shown on the approval page: printable characters only."""
    kept = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    return kept[:64] or None


def _too_soon(last: datetime | None, interval: int, now: datetime) -> bool:
    return last is not None and (now - last).total_seconds() < interval


def _token_name(row: DeviceAuthorization) -> str:
    """``pf on laptop (device login)``: what the tokens page lists it as."""
    device = f" on {row.device_name}" if row.device_name else ""
    return f"{row.client_id}{device} (device login)"[:100]
