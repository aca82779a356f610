"""CollectionService on every database: creating, the read gate, members' own rules,
changes with If-Match, adding others' files, counting downloads."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import update

from pastefile.composition import Services
from pastefile.db.collections import Collection
from pastefile.db.types import utcnow
from pastefile.errors import (
    Forbidden,
    Gone,
    NotFound,
    PasswordRequired,
    PreconditionFailed,
    WrongPassword,
)
from pastefile.services.access import Caller, unlock_key
from pastefile.services.accounts import AccountService, Principal
from pastefile.services.collections import CollectionChanges, NewCollection
from pastefile.services.policy import UploadRequest


def _user(services: Services, name: str) -> Principal:
    return AccountService.session_principal(services.accounts.create_user(name, "horse battery 9"))


def _upload(
    services: Services, who: Principal | None, data: bytes, name: str, **asked: object
) -> str:
    prepared = services.policy.prepare(who, UploadRequest(**asked))  # type: ignore[arg-type]
    result = services.uploads.save_stream(io.BytesIO(data), name, options=prepared.options)
    return result.file.public_id


def _expire(services: Services, collection_id: int) -> None:
    """Past its expiry (an edit only sets expiries in the future)."""
    with services.db.write() as session:
        session.execute(
            update(Collection)
            .where(Collection.id == collection_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


@pytest.fixture
def alice(services: Services) -> Principal:
    return _user(services, "alice")


def test_create_read_and_list_in_order(services: Services, alice: Principal) -> None:
    me = Caller(alice)
    a = _upload(services, alice, b"first file", "a.txt")
    b = _upload(services, alice, b"second file", "b.txt")
    made = services.collections.create(me, NewCollection(title=" Trip ", file_ids=(b, a)))
    assert made.manage_token is None
    found = services.collections.resolve(made.collection.public_id, Caller())
    assert found.title == "Trip"
    assert [f.public_id for f in services.collections.readable(found, Caller())] == [b, a]
    same = services.collections.resolve(found.short_code, Caller(), by_short_code=True)
    assert same.id == found.id and len(found.short_code) == 8
    rows, total = services.collections.owned(alice.user_id)
    assert total == 1 and rows[0].public_id == found.public_id


def test_members_keep_their_own_rules(services: Services, alice: Principal) -> None:
    me = Caller(alice)
    public = _upload(services, alice, b"public bytes", "pub.txt")
    private = _upload(services, alice, b"private bytes", "priv.txt", visibility="private")
    locked = _upload(services, alice, b"locked bytes", "lock.txt", password="sesame")
    made = services.collections.create(me, NewCollection(file_ids=(public, private, locked)))
    coll = made.collection
    stranger = Caller(password="sesame")  # the file's password never unlocks it via the collection
    assert [f.public_id for f in services.collections.readable(coll, stranger)] == [public]
    # A session that unlocked the file (with its current password) sees it.
    unlocked = Caller(unlocked=frozenset({unlock_key(services.files.lookups.by_public_id(locked))}))
    assert [f.public_id for f in services.collections.readable(coll, unlocked)] == [public, locked]
    assert len(services.collections.readable(coll, me)) == 3


def test_password_private_and_expiry_of_the_collection(
    services: Services, alice: Principal
) -> None:
    me = Caller(alice)
    locked = services.collections.create(me, NewCollection(password="open sesame")).collection
    with pytest.raises(PasswordRequired):
        services.collections.resolve(locked.public_id, Caller())
    with pytest.raises(WrongPassword):
        services.collections.resolve(locked.public_id, Caller(password="nope"))
    assert services.collections.resolve(locked.public_id, Caller(password="open sesame"))
    assert services.collections.resolve(
        locked.public_id, Caller(unlocked=frozenset({unlock_key(locked)}))
    )
    hidden = services.collections.create(me, NewCollection(visibility="private")).collection
    with pytest.raises(NotFound):
        services.collections.resolve(hidden.public_id, Caller())
    assert services.collections.resolve(hidden.public_id, me)
    soon = services.collections.create(me, NewCollection(expires_in=60)).collection
    _expire(services, soon.id)
    with pytest.raises(Gone):
        services.collections.resolve(soon.public_id, Caller())


def test_update_with_version_and_delete(services: Services, alice: Principal) -> None:
    me = Caller(alice)
    coll = services.collections.create(me, NewCollection(title="old")).collection
    changed = services.collections.update(
        coll.public_id, me, coll.version, CollectionChanges(title="new")
    )
    assert changed.title == "new" and changed.version == coll.version + 1
    with pytest.raises(PreconditionFailed):
        services.collections.update(coll.public_id, me, coll.version, CollectionChanges(title="x"))
    with pytest.raises(Forbidden):
        services.collections.update(
            coll.public_id, Caller(), changed.version, CollectionChanges(title="x")
        )
    with pytest.raises(Forbidden):
        services.collections.delete(coll.public_id, Caller())
    services.collections.delete(coll.public_id, me)
    with pytest.raises(NotFound):
        services.collections.resolve(coll.public_id, me)


def test_nobody_adds_someone_elses_files(services: Services, alice: Principal) -> None:
    mallory = _user(services, "mallory")
    hers = _upload(services, alice, b"alice's bytes", "hers.txt")
    theirs = services.collections.create(Caller(mallory), NewCollection()).collection
    with pytest.raises(Forbidden):
        services.collections.add_files(theirs, [hers], Caller(mallory))
    with pytest.raises(Forbidden):
        services.collections.create(Caller(mallory), NewCollection(file_ids=(hers,)))
    assert services.collections.owned(mallory.user_id)[1] == 1  # the refused one was never made
    mine = services.collections.create(Caller(alice), NewCollection()).collection
    with pytest.raises(Forbidden):  # nor into someone else's collection
        services.collections.add_files(mine, [hers], Caller(mallory))
    with pytest.raises(NotFound):
        services.collections.add_files(mine, ["../etc", "x" * 40], Caller(alice))


def test_anonymous_token_manages_files_and_collection(services: Services) -> None:
    prepared = services.policy.prepare(None, UploadRequest())
    token = prepared.manage_token
    assert token is not None
    result = services.uploads.save_stream(
        io.BytesIO(b"anon bytes"), "x.txt", options=prepared.options
    )
    anon = Caller(manage_token=token)
    made = services.collections.create(anon, NewCollection(file_ids=(result.file.public_id,)))
    assert made.manage_token is None  # the upload's token manages the collection too
    coll = made.collection
    services.collections.remove_files(coll, [result.file.public_id], anon)
    assert services.collections.files(coll) == []
    with pytest.raises(Forbidden):
        services.collections.add_files(coll, [result.file.public_id], Caller(manage_token="guess"))


def test_add_remove_reorder_bump_version(services: Services, alice: Principal) -> None:
    me = Caller(alice)
    ids = [_upload(services, alice, f"bytes {i}".encode(), f"{i}.txt") for i in range(3)]
    coll = services.collections.create(me, NewCollection(file_ids=(ids[0],))).collection
    coll = services.collections.add_files(coll, [ids[1], ids[2], ids[0]], me)
    assert [f.public_id for f in services.collections.files(coll)] == ids
    coll = services.collections.reorder(coll, [ids[2]], me)
    assert [f.public_id for f in services.collections.files(coll)] == [ids[2], ids[0], ids[1]]
    before = coll.version
    coll = services.collections.remove_files(coll, [ids[0]], me)
    assert coll.version > before
    services.files.delete(ids[1])  # a deleted file leaves its collections
    assert [f.public_id for f in services.collections.files(coll)] == [ids[2]]


def test_download_limit_counts_atomically(services: Services, alice: Principal) -> None:
    coll = services.collections.create(Caller(alice), NewCollection(max_downloads=1)).collection
    services.collections.count_download(coll)
    with pytest.raises(Gone):
        services.collections.count_download(coll)
    with pytest.raises(Gone):
        services.collections.resolve(coll.public_id, Caller())


def test_crc32_kept_at_upload_and_backfilled(services: Services, alice: Principal) -> None:
    import zlib

    from sqlalchemy import update

    from pastefile.db.models import Blob

    data = b"bytes whose crc the zip needs" * 1000
    ident = _upload(services, alice, data, "c.txt")
    sha = services.files.get(ident).sha256
    assert services.blobs.crc32_of(sha) == zlib.crc32(data)
    with services.db.write() as session:  # as stored before migration 0007
        session.execute(update(Blob).values(crc32=None))
    assert services.blobs.backfill_crc32() == (1, 0)
    assert services.blobs.backfill_crc32() == (0, 0)
    with services.db.read() as session:
        assert session.get(Blob, sha).crc32 == zlib.crc32(data)  # type: ignore[union-attr]


def test_sweep_removes_expired_and_used_up_collections(
    services: Services, alice: Principal
) -> None:
    me = Caller(alice)
    kept_file = _upload(services, alice, b"stays", "stays.txt")
    old = services.collections.create(
        me, NewCollection(file_ids=(kept_file,), expires_in=60)
    ).collection
    _expire(services, old.id)
    used = services.collections.create(me, NewCollection(max_downloads=1)).collection
    services.collections.count_download(used)
    alive = services.collections.create(me, NewCollection()).collection
    assert services.collections.sweep() == 2
    assert [c.public_id for c in services.collections.owned(alice.user_id)[0]] == [alive.public_id]
    assert services.files.get(kept_file).filename == "stays.txt"
