"""The Thrift service over real TCP, on SQLite, MariaDB and PostgreSQL.

Every method and every declared exception, including hostile input. The
plain thriftpy2 client (as in the book) and ``pastefile.rpc.client`` both talk
to a real server on a free port; the database and disk are real too.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TApplicationException

from pastefile.composition import Services, build_services
from pastefile.db.models import Blob, File
from pastefile.rpc.client import PasteFileClient
from pastefile.rpc.schema import idl
from pastefile.rpc.server import RpcServer
from pastefile.services.links import build_links
from tests.support.files import stored_blobs, temp_files
from tests.support.images import image_bytes
from tests.support.rpc import rpc_server

TEXT = b"hello from the rpc service\n" * 100


@pytest.fixture
def server(services: Services) -> Iterator[RpcServer]:
    with rpc_server(services) as running:
        yield running


@pytest.fixture
def rpc(server: RpcServer) -> Iterator[PasteFileClient]:
    client = PasteFileClient("127.0.0.1", server.port, read_timeout=30, retries=1)
    yield client
    client.close()


@pytest.fixture
def book_client(server: RpcServer) -> Iterator[object]:
    """The book's way: thriftpy2's own client, one connection."""
    client = make_client(idl.PasteFileService, "127.0.0.1", server.port, timeout=30000)
    yield client
    client.close()


def place(rpc: PasteFileClient, data: bytes, filename: str = "notes.txt") -> str:
    token, path = rpc.get_file_info(filename, "text/plain")
    Path(path).write_bytes(data)
    return token


def request(token: str, filename: str = "notes.txt", **size: int | None) -> object:
    return idl.CreatePasteFileRequest(
        filehash=token, filename=filename, mimetype="application/octet-stream", **size
    )


def incoming_dir(services: Services) -> Path:
    return Path(services.settings.storage_url.removeprefix("file://")) / "incoming"


def count_files(services: Services) -> int:
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(File)) or 0)


# get_file_info -------------------------------------------------------------


def test_get_file_info_hands_out_a_fresh_token_and_a_path_in_incoming(book_client, services):
    token, path = book_client.get_file_info("../../etc/passwd", "text/html")
    again, _ = book_client.get_file_info("../../etc/passwd", "text/html")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert token != again
    # Built from our token only: the client's name appears nowhere.
    assert Path(path) == incoming_dir(services).resolve() / token
    assert not Path(path).exists()


# create and get ------------------------------------------------------------


def test_create_fills_every_field_and_get_returns_the_same(book_client, services):
    token, path = book_client.get_file_info("notes.txt", "text/plain")
    Path(path).write_bytes(TEXT)
    created = book_client.create(request(token, "notes.txt"))
    for name in (spec[1] for spec in idl.PasteFile.thrift_spec.values()):
        assert getattr(created, name) is not None, name
    stored = services.files.find_by_sha256(created.filehash)
    assert stored is not None and created.id == stored.id
    links = build_links(stored, "http://files.test")
    assert (created.url_i, created.url_d, created.url_p, created.url_s, created.quoteurl) == (
        links.url_i,
        links.url_d,
        links.url_p,
        links.url_s,
        links.quoteurl,
    )
    assert created.filename == "notes.txt"
    assert created.filehash == hashlib.sha256(TEXT).hexdigest()
    assert created.filemd5 == hashlib.md5(TEXT).hexdigest()
    assert created.size == len(TEXT)
    assert created.size_humanize == "2.64 kB"
    assert (created.mimetype, created.type) == ("text/plain", "text")
    assert created.image_size == []
    assert datetime.fromisoformat(created.uploadtime).tzinfo is not None
    assert book_client.get(created.id) == created
    assert not Path(path).exists()
    assert temp_files_clean(services)


def temp_files_clean(services: Services) -> bool:
    return temp_files(services.settings) == [] and list(incoming_dir(services).iterdir()) == []


def test_image_gets_its_size_and_is_resized_on_request(rpc):
    png = image_bytes(size=(64, 48))
    original = rpc.create(request(place(rpc, png, "cat.png"), "cat.png"))
    assert original.image_size == [64, 48]
    assert (original.mimetype, original.type) == ("image/png", "image")
    resized = rpc.create(request(place(rpc, png, "cat.png"), "cat.png", width=20, height=10))
    assert resized.image_size == [20, 10]
    assert resized.filehash != original.filehash
    assert resized.id != original.id


def test_a_second_identical_file_returns_the_first(rpc, services, settings):
    first = rpc.create(request(place(rpc, TEXT), "first.txt"))
    second = rpc.create(request(place(rpc, TEXT), "second.txt"))
    assert second == first
    assert second.filename == "first.txt"
    assert count_files(services) == 1
    assert len(stored_blobs(settings)) == 1
    assert temp_files_clean(services)


def test_files_created_over_rpc_are_served_by_the_web_app(rpc, client):
    created = rpc.create(request(place(rpc, TEXT)))
    response = client.get(created.url_i.removeprefix("http://files.test"))
    assert response.status_code == 200
    assert response.data == TEXT


# declared exceptions -------------------------------------------------------


@pytest.mark.parametrize("pid", [987654, 0, -1, 2**31 - 1, -(2**31)])
def test_get_of_a_missing_file_is_not_found_404(book_client, pid):
    with pytest.raises(idl.NotFound) as caught:
        book_client.get(pid)
    assert caught.value.code == 404


def test_a_non_image_with_a_size_is_image_not_supported(rpc, services):
    token = place(rpc, TEXT)
    with pytest.raises(idl.ImageNotSupported, match="not_an_image"):
        rpc.create(request(token, width=10, height=10))
    # The bytes were judged and refused: the placed file is gone.
    assert temp_files_clean(services)
    assert count_files(services) == 0


def test_a_corrupt_image_with_a_size_is_upload_image_error(rpc, services):
    token = place(rpc, image_bytes(size=(300, 200))[:300], "broken.png")
    with pytest.raises(idl.UploadImageError, match="corrupt_image"):
        rpc.create(request(token, "broken.png", width=10, height=10))
    assert temp_files_clean(services)
    assert count_files(services) == 0


def test_a_missing_incoming_file_is_upload_image_error(rpc, services):
    token, _ = rpc.get_file_info("never-written.txt", "text/plain")
    with pytest.raises(idl.UploadImageError, match="missing_file"):
        rpc.create(request(token))
    assert count_files(services) == 0


def test_an_empty_file_is_upload_image_error(rpc, services):
    with pytest.raises(idl.UploadImageError, match="empty_file"):
        rpc.create(request(place(rpc, b"")))
    assert temp_files_clean(services)


@pytest.mark.parametrize("settings_overrides", [{"max_upload_size": 1000}])
def test_a_file_over_the_limit_is_upload_image_error(rpc, services):
    with pytest.raises(idl.UploadImageError, match="too_large"):
        rpc.create(request(place(rpc, b"x" * 1001)))
    assert temp_files_clean(services)


@pytest.mark.parametrize("settings_overrides", [{"allowed_types": ["image/*"]}])
def test_a_type_the_config_refuses_is_image_not_supported(rpc, services):
    with pytest.raises(idl.ImageNotSupported, match="unsupported_type"):
        rpc.create(request(place(rpc, TEXT)))
    assert count_files(services) == 0


HOSTILE_TOKENS = [
    "",
    "../../etc/passwd",
    "../" * 10 + "etc/passwd",
    "/etc/passwd",
    "A" * 32,
    "0" * 31,
    "0" * 33,
    "0" * 31 + "/",
    "0" * 16 + "\x00" + "0" * 15,
    "0" * 64,
    "0" * 32 + "\n",
    "\uff41" * 32,  # fullwidth "a": looks hex, is not
    "x" * 100_000,
]


def test_hostile_tokens_are_upload_image_error_and_the_server_stays_up(rpc, services, tmp_path):
    bait = tmp_path / "secret.txt"
    bait.write_bytes(b"do not publish")
    for token in [*HOSTILE_TOKENS, str(bait), f"../../../../{bait}"]:
        with pytest.raises(idl.UploadImageError, match="invalid_input"):
            rpc.create(request(token))
    assert count_files(services) == 0
    assert rpc.pool.opened == 1  # every answer left the connection usable
    assert rpc.create(request(place(rpc, TEXT))).size == len(TEXT)


def test_a_symlink_fifo_or_directory_at_the_incoming_path_is_refused(rpc, services, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root-only bytes")
    makers = {
        "symlink": lambda path: path.symlink_to(secret),
        "fifo": os.mkfifo,
        "directory": os.mkdir,
    }
    for kind, make in makers.items():
        token, path = rpc.get_file_info(f"{kind}.txt", "text/plain")
        make(Path(path))
        with pytest.raises(idl.UploadImageError, match="invalid_input"):
            rpc.create(request(token))
    assert count_files(services) == 0


@pytest.mark.parametrize(
    ("width", "height"),
    [(0, 0), (-1, 10), (10, -1), (2**31 - 1, 2**31 - 1), (-(2**31), 5), (10, None), (None, 10)],
)
def test_absurd_dimensions_are_upload_image_error_and_keep_the_file(rpc, services, width, height):
    token = place(rpc, image_bytes(), "cat.png")
    with pytest.raises(idl.UploadImageError, match="invalid_dimensions"):
        rpc.create(request(token, "cat.png", width=width, height=height))
    # Nothing was wrong with the bytes: the caller may fix the size and retry.
    assert rpc.create(request(token, "cat.png", width=8, height=8)).image_size == [8, 8]


def test_create_without_a_request_is_upload_image_error(book_client):
    with pytest.raises(idl.UploadImageError, match="invalid_input"):
        book_client.create(None)


def test_an_unexpected_failure_is_an_application_error_not_a_dead_connection(
    rpc, services, settings
):
    created = rpc.create(request(place(rpc, TEXT)))
    for blob in stored_blobs(settings):
        blob.unlink()  # a row whose bytes vanished: a bug, not a client error
    fresh = build_services(settings)
    try:
        with rpc_server(fresh) as other:
            client = PasteFileClient("127.0.0.1", other.port, retries=0)
            with pytest.raises(TApplicationException, match="internal error"):
                client.get(created.id)
            with pytest.raises(idl.NotFound):
                client.get(created.id + 1000)
            assert client.pool.opened == 1
            client.close()
    finally:
        fresh.close()


def test_blob_rows_are_not_duplicated_by_rpc(rpc, services):
    rpc.create(request(place(rpc, TEXT)))
    rpc.create(request(place(rpc, TEXT)))
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == 1


def test_cleanup_temp_sweeps_placed_files_nobody_registered(rpc, services):
    token, path = rpc.get_file_info("forgotten.txt", "text/plain")
    Path(path).write_bytes(b"never registered")
    os.utime(path, (0, 0))
    _, fresh = rpc.get_file_info("recent.txt", "text/plain")
    Path(fresh).write_bytes(b"being written right now")
    _, odd = rpc.get_file_info("odd", "x")
    os.mkdir(odd)  # an old directory is not ours to remove, and must not stop the sweep
    os.utime(odd, (0, 0))
    assert services.storage.cleanup_temp(3600) == 1
    assert not Path(path).exists()
    assert Path(fresh).exists()
    with pytest.raises(idl.UploadImageError, match="missing_file"):
        rpc.create(request(token))
