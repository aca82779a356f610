"""The account, token, policy and access services, on every database, no HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.db.users import ApiToken
from pastefile.errors import (
    Blocked,
    Conflict,
    Forbidden,
    Gone,
    InsufficientScope,
    InvalidInput,
    NotFound,
    PasswordRequired,
    PreconditionFailed,
    QuotaExceeded,
    QuotaTooLarge,
    Unauthorized,
    WrongPassword,
)
from pastefile.services.access import Caller, FileChanges
from pastefile.services.accounts import ROLE_ADMIN, Permission, Principal
from pastefile.services.files import FileQuery
from pastefile.services.policy import UploadRequest
from tests.support.files import stored_blobs


def _user(services, name: str = "alice", roles: int = Permission.LOGIN) -> Principal:
    user = services.accounts.create_user(name, "correct horse battery", roles)
    return services.accounts.session_principal(user)


def _store(services, data: bytes, who: Principal | None = None, name: str = "f.txt", **asked):
    prepared = services.policy.prepare(who, UploadRequest(**asked))
    writer = services.uploads.new_writer()
    writer.write(data)
    result = services.uploads.finish(writer, name, options=prepared.options)
    return result, prepared.manage_token


# --- users and passwords ---------------------------------------------------------


def test_passwords_are_argon2_and_login_checks_them(services):
    services.accounts.create_user("alice", "correct horse battery")
    user = services.accounts.authenticate("alice", "correct horse battery")
    assert user.password_hash.startswith("$argon2id$")
    with pytest.raises(Unauthorized):
        services.accounts.authenticate("alice", "wrong password!")
    with pytest.raises(Unauthorized):
        services.accounts.authenticate("nobody", "correct horse battery")


def test_usernames_are_unique_and_disabled_users_cannot_log_in(services):
    alice = _user(services)
    with pytest.raises(Conflict):
        services.accounts.create_user("alice", "another password")
    services.accounts.update_user(alice.user_id, disabled=True)
    with pytest.raises(Forbidden):
        services.accounts.authenticate("alice", "correct horse battery")
    assert services.accounts.active_user(alice.user_id) is None


# --- API tokens ----------------------------------------------------------------


def test_token_value_is_shown_once_and_only_its_hash_is_stored(services):
    alice = _user(services)
    row, value = services.accounts.create_token(alice, "laptop", ["read", "upload"])
    assert value.startswith("pf_") and len(value) > 40
    with services.db.read() as session:
        stored = session.scalar(select(ApiToken).where(ApiToken.id == row.id))
    assert stored is not None and value not in (stored.token_hash, stored.prefix)
    who = services.accounts.principal_for_token(value)
    assert who.user_id == alice.user_id and who.scopes == {"read", "upload"}


def test_revoked_token_fails_at_once(services):
    alice = _user(services)
    row, value = services.accounts.create_token(alice, "ci", ["read"])
    services.accounts.principal_for_token(value)
    services.accounts.revoke_token(alice.user_id, row.id)
    with pytest.raises(Unauthorized, match="revoked"):
        services.accounts.principal_for_token(value)


def test_tokens_fail_for_disabled_users_and_unknown_values(services):
    alice = _user(services)
    _, value = services.accounts.create_token(alice, "ci", ["read"])
    with pytest.raises(Unauthorized):
        services.accounts.principal_for_token(value[:-1] + ("A" if value[-1] != "A" else "B"))
    services.accounts.update_user(alice.user_id, disabled=True)
    with pytest.raises(Unauthorized, match="disabled"):
        services.accounts.principal_for_token(value)


def test_a_token_cannot_mint_a_stronger_token(services):
    alice = _user(services)
    _, value = services.accounts.create_token(alice, "weak", ["read"])
    weak = services.accounts.principal_for_token(value)
    with pytest.raises(Forbidden):
        services.accounts.create_token(weak, "escalate", ["read", "delete"])
    with pytest.raises(Forbidden):
        services.accounts.create_token(alice, "admin", ["admin"])
    with pytest.raises(InvalidInput):
        services.accounts.create_token(alice, "bad", ["everything"])


def test_users_cannot_revoke_each_others_tokens(services):
    alice, bob = _user(services, "alice"), _user(services, "bob")
    row, _ = services.accounts.create_token(alice, "mine", ["read"])
    with pytest.raises(NotFound):
        services.accounts.revoke_token(bob.user_id, row.id)


# --- link dedup never crosses owners -------------------------------------------


def test_link_dedup_is_per_owner_and_storage_dedup_is_global(services, settings):
    alice, bob = _user(services, "alice"), _user(services, "bob")
    a1, _ = _store(services, b"shared bytes", alice)
    a2, _ = _store(services, b"shared bytes", alice)
    b1, _ = _store(services, b"shared bytes", bob)
    anon1, token1 = _store(services, b"shared bytes", name="first.txt")
    anon2, token2 = _store(services, b"shared bytes", name="second.txt")
    assert a1.created and not a2.created and a1.file.public_id == a2.file.public_id
    assert b1.created and b1.file.public_id != a1.file.public_id
    assert b1.file.short_code != a1.file.short_code
    # Two anonymous uploaders are two people: each keeps their own name and record.
    assert anon1.created and anon2.created
    assert anon1.file.public_id != anon2.file.public_id
    assert (anon1.file.filename, anon2.file.filename) == ("first.txt", "second.txt")
    assert anon1.file.public_id not in (a1.file.public_id, b1.file.public_id)
    assert a1.file.dedup_key == f"{alice.user_id}:{a1.file.sha256}"
    assert len(stored_blobs(settings)) == 1
    # A second anonymous uploader's token does not manage the first uploader's file.
    assert token1 and token2 and token1 != token2
    with pytest.raises(Forbidden):
        services.access.delete(anon1.file.public_id, Caller(manage_token=token2))


@pytest.mark.parametrize(
    "asked",
    [
        {"visibility": "private"},
        {"visibility": "unlisted"},
        {"password": "sesame"},
        {"expires_in": 60},
        {"max_downloads": 3},
    ],
)
def test_restricted_uploads_never_share_links(services, asked):
    alice = _user(services)
    first, _ = _store(services, b"secret bytes", alice, **asked)
    second, _ = _store(services, b"secret bytes", alice, **asked)
    assert first.file.dedup_key is None
    assert first.file.public_id != second.file.public_id


def test_anonymous_uploads_cannot_be_private_and_can_be_turned_off(services, settings):
    with pytest.raises(InvalidInput):
        services.policy.prepare(None, UploadRequest(visibility="private"))
    settings.allow_anonymous_uploads = False
    with pytest.raises(Unauthorized):
        services.policy.prepare(None, UploadRequest())


# --- visibility, passwords, expiry, download limits --------------------------------


def test_private_files_are_invisible_to_others_by_id_and_short_code(services):
    alice, bob = _user(services, "alice"), _user(services, "bob")
    admin = _user(services, "root", ROLE_ADMIN)
    result, _ = _store(services, b"alice only", alice, visibility="private")
    file = result.file
    for who in (None, bob):
        with pytest.raises(NotFound):
            services.access.resolve(file.public_id, Caller(who))
        with pytest.raises(NotFound):
            services.access.resolve(file.short_code, Caller(who), by_short_code=True)
        with pytest.raises(NotFound):
            services.access.delete(file.public_id, Caller(who))
    assert services.access.resolve(file.public_id, Caller(alice)).id == file.id
    assert services.access.resolve(file.public_id, Caller(admin)).id == file.id


def test_passwords_protect_files_except_from_their_owner(services):
    alice = _user(services)
    result, _ = _store(services, b"locked", alice, password="open sesame")
    ident = result.file.public_id
    with pytest.raises(PasswordRequired):
        services.access.resolve(ident, Caller())
    with pytest.raises(WrongPassword):
        services.access.resolve(ident, Caller(password="guess"))
    assert services.access.resolve(ident, Caller(password="open sesame")).id == result.file.id
    assert services.access.resolve(ident, Caller(alice)).id == result.file.id


def test_expired_files_are_gone_before_any_sweep(services, settings):
    result, _ = _store(services, b"short lived", expires_in=60)
    with services.db.write() as session:
        session.execute(
            update(File)
            .where(File.id == result.file.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(Gone):
        services.access.resolve(result.file.public_id, Caller())
    assert len(stored_blobs(settings)) == 1  # nothing swept yet
    assert services.access.sweep() == 1
    assert stored_blobs(settings) == []
    with pytest.raises(Gone):
        services.access.resolve(result.file.public_id, Caller())
    with pytest.raises(Gone):
        services.access.resolve(result.file.short_code, Caller(), by_short_code=True)


def test_expiry_has_a_configurable_maximum(services, settings):
    settings.max_expiry_seconds = 3600
    with pytest.raises(InvalidInput, match="3600"):
        services.policy.prepare(None, UploadRequest(expires_in=3601))
    with pytest.raises(InvalidInput):
        services.policy.prepare(None, UploadRequest(expires_in=0))
    assert services.policy.prepare(None, UploadRequest(expires_in=3600)).options.expires_at


def test_download_counter_is_atomic_under_concurrency(services):
    result, _ = _store(services, b"five downloads only", max_downloads=5)
    file = services.access.resolve(result.file.public_id, Caller())
    outcomes: list[str] = []
    barrier = threading.Barrier(12)

    def take() -> None:
        barrier.wait()
        try:
            services.access.count_download(file)
            outcomes.append("ok")
        except Gone:
            outcomes.append("gone")

    threads = [threading.Thread(target=take) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 5 and outcomes.count("gone") == 7
    with services.db.read() as session:
        assert session.get(File, file.id).downloads == 5
    with pytest.raises(Gone):
        services.access.resolve(file.public_id, Caller())


# --- changing and deleting -----------------------------------------------------------


def test_update_needs_the_current_version(services):
    alice = _user(services)
    result, _ = _store(services, b"to rename", alice)
    ident = result.file.public_id
    changed = services.access.update(ident, Caller(alice), 1, FileChanges(filename="new.txt"))
    assert changed.filename == "new.txt" and changed.version == 2
    with pytest.raises(PreconditionFailed):
        services.access.update(ident, Caller(alice), 1, FileChanges(filename="stale.txt"))


def test_scopes_and_management_tokens_decide_who_deletes(services):
    alice = _user(services)
    _, value = services.accounts.create_token(alice, "ro", ["read", "upload"])
    read_only = services.accounts.principal_for_token(value)
    mine, _ = _store(services, b"owned", alice)
    with pytest.raises(InsufficientScope):
        services.access.delete(mine.file.public_id, Caller(read_only))
    anon, manage = _store(services, b"anonymous")
    with pytest.raises(Forbidden):
        services.access.delete(anon.file.public_id, Caller(manage_token="pf_wrong"))
    services.access.delete(anon.file.public_id, Caller(manage_token=manage))
    with pytest.raises(Gone):
        services.access.resolve(anon.file.public_id, Caller())


def test_moderation_blocks_the_content_everywhere(services, settings):
    alice = _user(services)
    admin = _user(services, "root", ROLE_ADMIN)
    anon, _ = _store(services, b"abusive bytes")
    owned, _ = _store(services, b"abusive bytes", alice, visibility="private")
    with pytest.raises(Forbidden):
        services.access.remove_for_abuse(anon.file.public_id, alice, "no")
    assert services.access.remove_for_abuse(anon.file.public_id, admin, "abuse") == 2
    with pytest.raises(Blocked):
        services.access.resolve(anon.file.public_id, Caller())
    with pytest.raises(Blocked):
        _store(services, b"abusive bytes", alice)
    with pytest.raises(Blocked):
        _store(services, b"abusive bytes")
    with pytest.raises(NotFound):  # a private tombstone still reveals nothing
        services.access.resolve(owned.file.public_id, Caller())
    assert stored_blobs(settings) == []


# --- quotas and retention -------------------------------------------------------------


def test_quotas_on_bytes_and_files(services, settings):
    settings.user_quota_bytes = 100
    settings.user_quota_files = 2
    alice = _user(services)
    with pytest.raises(QuotaTooLarge):
        _store(services, b"x" * 101, alice)
    _store(services, b"a" * 60, alice)
    with pytest.raises(QuotaExceeded, match="free"):
        _store(services, b"b" * 60, alice)
    _store(services, b"c" * 10, alice)
    with pytest.raises(QuotaExceeded, match="2 files"):
        _store(services, b"d", alice)
    _store(services, b"anonymous uploads have no quota" * 10)


def test_size_retention_applies_to_anonymous_uploads(services, settings):
    settings.retention_policy = "size"
    result, _ = _store(services, b"retained")
    assert result.file.expires_at is not None
    assert result.file.expires_at - utcnow() > timedelta(days=364)
    alice = _user(services)
    owned, _ = _store(services, b"retained too", alice)
    assert owned.file.expires_at is None


# --- listing ------------------------------------------------------------------------------


def test_listing_is_per_owner_with_search_filters_and_order(services):
    alice, bob = _user(services, "alice"), _user(services, "bob")
    for name, data in [("Report_2024.txt", b"r1"), ("holiday.txt", b"h1"), ("100%.txt", b"p1")]:
        _store(services, data, alice, name=name)
    _store(services, b"bob's report", bob, name="report-bob.txt")
    files, total = services.files.owned(alice.user_id, FileQuery(q="report"))
    assert total == 1 and files[0].filename == "Report_2024.txt"
    files, total = services.files.owned(alice.user_id, FileQuery(q="%"))
    assert [f.filename for f in files] == ["100%.txt"]
    files, _ = services.files.owned(alice.user_id, FileQuery(q="t_2"))
    assert [f.filename for f in files] == ["Report_2024.txt"]
    files, total = services.files.owned(alice.user_id, FileQuery(sort="filename", order="asc"))
    # Letter case orders by each database's collation; digits come first everywhere.
    assert total == 3 and files[0].filename == "100%.txt"
    files, _ = services.files.owned(alice.user_id, FileQuery(sort="size", order="desc"))
    assert len(files) == 3
    files, _ = services.files.owned(alice.user_id, FileQuery(per_page=2, page=2))
    assert len(files) == 1
    files, total = services.files.owned(alice.user_id, FileQuery(type="image"))
    assert total == 0
