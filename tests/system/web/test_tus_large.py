"""200 MB over tus through a real server process: cut off halfway, resumed with tuspy.

The server is ``pastefile serve`` in a subprocess (SQLite, the local disk), so
its memory can be watched from outside: a thread samples VmRSS from
``/proc/<pid>/status`` the whole time. The upload goes in three acts:

1. tuspy sends the first six 16 MiB chunks with sha256 checksums, then stops;
2. a raw PATCH announces the rest but the connection dies 40 MiB in, as a
   dropped link would; the server keeps what arrived (no checksum was sent);
3. a fresh tuspy uploader resumes from the offset HEAD reports, to the end.

The stored file must hash to the source, and the server's RSS must stay under
``RSS_LIMIT_MB`` throughout: the bytes are streamed, never held.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from tusclient.client import TusClient
from tusclient.uploader import Uploader

from pastefile.composition import build_services
from pastefile.db import migrate
from tests.support.settings import make_settings

MIB = 1024 * 1024
SIZE = 200 * MIB
CHUNK = 16 * MIB
FIRST_CHUNKS = 6  # 96 MiB by tuspy, then the cut
CUT_AFTER = 40 * MIB  # sent before the connection drops
RSS_LIMIT_MB = 150
# Above the idle server: a server holding the cut-off PATCH's 40 MiB would cross it.
RSS_GROWTH_LIMIT_MB = 32
PASTEFILE = str(Path(sys.executable).with_name("pastefile"))

pytestmark = pytest.mark.slow


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


class RssSampler(threading.Thread):
    """The peak VmRSS of a process, sampled every few milliseconds."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.first_kb = 0
        self.peak_kb = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except FileNotFoundError:
                return
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                    self.first_kb = self.first_kb or rss
                    self.peak_kb = max(self.peak_kb, rss)
                    self.samples += 1
            time.sleep(0.01)

    def stop(self) -> None:
        self._done.set()
        self.join(5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(settings_dir: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASTEFILE_")}
    env.update(
        {
            "APP_ENV": "testing",
            "PASTEFILE_DATA_DIR": str(settings_dir / "var"),
            "PASTEFILE_DATABASE_URL": db_url,
            "PASTEFILE_STORAGE_URL": f"file://{settings_dir / 'files'}",
            "PASTEFILE_SECRET_KEY": "test-secret-key-0123456789",
            "PASTEFILE_LOG_LEVEL": "WARNING",
            "PASTEFILE_API_RATE_LIMIT": "100000/minute",
            "PASTEFILE_MAX_UPLOAD_SIZE": "256MiB",
        }
    )
    return env


def _wait_until_serving(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited during start-up"
        try:
            if requests.options(f"{url}/api/v1/uploads", timeout=2).status_code == 204:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, object]]:
    db_url = f"sqlite:///{tmp_path / 'large.db'}"
    services = build_services(make_settings(tmp_path, db_url))
    migrate.upgrade(services.db)
    user = services.accounts.create_user("bigfile", "big-file-user-pw")
    principal = services.accounts.session_principal(user)
    _, token = services.accounts.create_token(principal, "tus", ["read", "upload"])
    services.close()
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [PASTEFILE, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
        env=_env(tmp_path, db_url),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, proc)
        yield {"url": url, "pid": proc.pid, "token": token, "files": tmp_path / "files"}
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def _source(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(SIZE // (8 * MIB)):
            block = os.urandom(8 * MIB)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _cut_off_patch(upload_url: str, token: str, source: Path, offset: int) -> None:
    """Announce every remaining byte, send CUT_AFTER of them, then drop the connection."""
    parts = urlsplit(upload_url)
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {SIZE - offset}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port)) as sock, source.open("rb") as f:
        sock.sendall(head.encode("ascii"))
        f.seek(offset)
        left = CUT_AFTER
        while left:
            block = f.read(min(MIB, left))
            sock.sendall(block)
            left -= len(block)
    # The socket closes here, mid-body: the server sees the client vanish.


def _offset(upload_url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    response = requests.head(upload_url, headers=headers, timeout=30)
    assert response.status_code == 200, response.status_code
    return int(response.headers["Upload-Offset"])


def _wait_for_offset(upload_url: str, token: str, before: int) -> int:
    deadline = time.monotonic() + 60
    while (now := _offset(upload_url, token)) == before:
        assert time.monotonic() < deadline, "the server never recorded the cut-off chunk"
        time.sleep(0.05)
    return now


def _stored_sha256(files: Path, sha: str) -> str:
    digest = hashlib.sha256()
    with (files / "objects" / sha[:2] / sha[2:4] / sha).open("rb") as stored:
        while block := stored.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


def test_200_mb_cut_off_halfway_and_resumed_with_bounded_server_memory(
    server: dict[str, object], tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    source = tmp_path / "source.bin"
    expected = _source(source)
    token = str(server["token"])
    client = TusClient(
        f"{server['url']}/api/v1/uploads", headers={"Authorization": f"Bearer {token}"}
    )
    sampler = RssSampler(int(str(server["pid"])))
    sampler.start()
    try:
        first = Sha256Uploader(
            str(source),
            client=client,
            chunk_size=CHUNK,
            metadata={"filename": "big.bin"},
            upload_checksum=True,
        )
        first.upload(stop_at=FIRST_CHUNKS * CHUNK)  # a client that stops after six chunks
        assert _offset(first.url, token) == FIRST_CHUNKS * CHUNK
        _cut_off_patch(first.url, token, source, FIRST_CHUNKS * CHUNK)
        kept = _wait_for_offset(first.url, token, FIRST_CHUNKS * CHUNK)
        assert kept == FIRST_CHUNKS * CHUNK + CUT_AFTER  # what arrived before the cut is kept
        resumed = Sha256Uploader(
            str(source), url=first.url, client=client, chunk_size=CHUNK, upload_checksum=True
        )
        assert resumed.offset == kept  # tuspy asked HEAD where to go on from
        resumed.upload()
    finally:
        sampler.stop()
    headers = resumed.request.response_headers
    card = requests.get(
        headers["location"], headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    assert card["size"] == SIZE and card["filename"] == "big.bin"
    assert card["sha256"] == expected
    assert _stored_sha256(Path(str(server["files"])), card["sha256"]) == expected
    assert os.listdir(Path(str(server["files"])) / "tus") == []  # the part went
    peak_mb, idle_mb = sampler.peak_kb / 1024, sampler.first_kb / 1024
    record_property("server_peak_rss_mb", round(peak_mb, 1))
    print(
        f"\nserver RSS during the 200 MB tus upload: {idle_mb:.1f} MB idle, {peak_mb:.1f} MB peak"
    )
    assert sampler.samples > 50
    assert peak_mb < RSS_LIMIT_MB, f"the server's RSS reached {peak_mb:.1f} MB"
    assert peak_mb - idle_mb < RSS_GROWTH_LIMIT_MB, f"RSS grew {peak_mb - idle_mb:.1f} MB"
