"""RPC ``get`` goes through the same read gate as the web: a file the caller
could not read on ``/p/`` is ``NotFound`` over RPC, with the reason in ``code``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from thriftpy2.rpc import make_client

from pastefile.composition import Services
from pastefile.db.models import File
from pastefile.db.types import utcnow
from pastefile.rpc.schema import idl
from pastefile.services.accounts import ROLE_ADMIN, ROLE_USER
from pastefile.services.policy import UploadRequest
from tests.support.rpc import rpc_server


@pytest.fixture
def client(services: Services) -> Iterator[object]:
    with rpc_server(services) as server:
        made = make_client(idl.PasteFileService, "127.0.0.1", server.port, timeout=30000)
        yield made
        made.close()


def _upload(services: Services, asked: UploadRequest, text: bytes = b"rpc rules\n") -> File:
    alice = services.accounts.create_user("alice", "a long password", ROLE_USER)
    prepared = services.policy.prepare(services.accounts.session_principal(alice), asked)
    return services.uploads.save_stream(io.BytesIO(text), "n.txt", options=prepared.options).file


def _code(client: object, row_id: int) -> int:
    with pytest.raises(idl.NotFound) as caught:
        client.get(row_id)  # type: ignore[attr-defined]
    return int(caught.value.code)


def test_a_public_file_is_returned(client: object, services: Services) -> None:
    file = _upload(services, UploadRequest())
    assert client.get(file.id).url_p.endswith(file.public_id)  # type: ignore[attr-defined]


def test_a_private_file_is_not_found(client: object, services: Services) -> None:
    assert _code(client, _upload(services, UploadRequest(visibility="private")).id) == 404


def test_a_password_protected_file_is_refused(client: object, services: Services) -> None:
    assert _code(client, _upload(services, UploadRequest(password="open sesame")).id) == 403


def test_an_expired_file_is_gone(client: object, services: Services) -> None:
    file = _upload(services, UploadRequest(expires_in=3600))
    with services.db.write() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(update(File).where(File.id == file.id).values(expires_at=past))
    services.files.lookups.forget(file)
    assert _code(client, file.id) == 410


def test_a_used_up_file_is_gone(client: object, services: Services) -> None:
    file = _upload(services, UploadRequest(max_downloads=1))
    services.access.count_download(file)
    assert _code(client, file.id) == 410


def test_removed_content_is_not_found(client: object, services: Services) -> None:
    file = _upload(services, UploadRequest())
    root = services.accounts.create_user("root", "a long password", ROLE_ADMIN)
    services.access.remove_for_abuse(file.public_id, services.accounts.session_principal(root), "x")
    # A removed file has no row left: its id is simply not found.
    assert _code(client, file.id) == 404
