"""Scale-out with real parts: nginx, two gunicorn nodes, a Celery worker, shared servers.

The nodes share this machine's MariaDB (a fresh database), Redis, RabbitMQ and a
storage directory. Each check goes through real sockets. Without nginx or one of
the servers the module skips, or fails under PASTEFILE_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.deploy import nginx_binary, require
from tests.support.images import image_bytes
from tests.support.s3 import s3_settings
from tests.support.scaleout import (
    BROKER_URL,
    REDIS_URL,
    Cluster,
    RssSampler,
    descendants,
    node_env,
    reachable,
    request,
    rss_kib,
    stale_for,
    stream_put,
    until,
)
from tests.support.settings import MARIADB_ADMIN_URL, server_database
from tests.support.uploads import multipart_body

RSS_LIMIT_KIB = 120 * 1024


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    yield from server_database(MARIADB_ADMIN_URL, "MariaDB")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Cluster]:
    require(nginx_binary() is not None, "nginx is not installed (apt-get install nginx)")
    require(reachable("127.0.0.1", 6379), f"Redis is not reachable at {REDIS_URL}")
    require(reachable("127.0.0.1", 5672), f"RabbitMQ is not reachable at {BROKER_URL}")
    root = tmp_path_factory.mktemp("scaleout")
    cluster = Cluster(root, node_env(root, database))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def _upload(port: int, data: bytes | None = None, name: str = "blob.bin") -> dict[str, str]:
    """A multipart upload of fresh bytes (``data``: 10 kB of random ones); its JSON."""
    data = data if data is not None else os.urandom(10_000)
    body, content_type = multipart_body(data, name)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/", body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    assert response.status == 201, payload
    file: dict[str, str] = json.loads(payload)
    file["data"] = (data or b"").hex()
    return file


def test_an_upload_through_a_is_readable_through_b_and_through_nginx(cluster):
    a, b = cluster.node_ports
    file = _upload(a)
    status, headers, body = request(b, "GET", f"/i/{file['id']}")
    assert status == 200
    assert body == b""  # B decides; nginx would send the bytes
    assert headers["X-Accel-Redirect"].endswith(file["sha256"])
    status, _, card = request(b, "GET", f"/p/{file['id']}", {"Accept": "application/json"})
    assert status == 200 and file["sha256"].encode() in card
    status, _, body = request(cluster.port, "GET", f"/i/{file['id']}")
    assert status == 200 and body.hex() == file["data"]


def test_nginx_sends_the_bytes_and_the_app_streams_none(cluster):
    file = _upload(cluster.node_ports[0])
    for route in ("i", "d"):
        rid = f"accel-{route}-{file['id']}"
        status, headers, body = request(
            cluster.port, "GET", f"/{route}/{file['id']}", {"X-Request-Id": rid}
        )
        assert status == 200 and hashlib.sha256(body).hexdigest() == file["sha256"]
        assert headers["X-Accel-Served"] == "nginx"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Security-Policy"].startswith("sandbox")
        # The node that answered logged a body of 0 bytes for this request id.
        lines = [
            line
            for node in range(cluster.nodes)
            for line in cluster.access_log(node).splitlines()
            if f"rid={rid} " in line
        ]
        assert len(lines) == 1 and f'"GET /{route}/{file["id"]}" 200 0 ' in lines[0], lines


def test_range_requests_are_answered_by_nginx(cluster):
    file = _upload(cluster.node_ports[0])
    status, headers, body = request(
        cluster.port, "GET", f"/d/{file['id']}", {"Range": "bytes=10-19"}
    )
    assert status == 206 and body.hex() == file["data"][20:40]
    assert headers["Content-Range"] == "bytes 10-19/10000"


def _delete(port: int, file: dict[str, str]) -> None:
    status, _, body = request(
        port, "DELETE", f"/api/v1/files/{file['id']}", {"X-Token": file["token"]}
    )
    assert status == 204, body


def test_a_delete_through_b_is_seen_by_a_and_nginx_within_a_second(cluster):
    a, b = cluster.node_ports
    file = _upload(a)
    path = f"/i/{file['id']}"
    assert request(a, "GET", path)[0] == 200  # cached on A
    assert request(cluster.port, "GET", path)[0] == 200  # and in nginx's micro-cache
    _delete(b, file)
    gone = (404, 410)
    assert stale_for(lambda: request(a, "GET", path)[0] in gone, timeout=2.0) <= 1.0
    assert stale_for(lambda: request(cluster.port, "GET", path)[0] in gone, timeout=2.0) <= 1.0


def test_the_celery_worker_runs_the_upload_jobs(cluster, database):
    # An image: the thumbnail job applies to it, and only the Celery worker runs jobs.
    file = _upload(cluster.node_ports[1], name="tiny.png", data=image_bytes(size=(40, 30)))
    engine = create_engine(database)

    def done() -> bool:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT j.status FROM jobs j JOIN files f ON j.file_id = f.id "
                    "WHERE f.public_id = :id"
                ),
                {"id": file["id"]},
            ).all()
        seen[:] = [row[0] for row in rows]
        return bool(rows) and all(row[0] == "succeeded" for row in rows)

    seen: list[str] = []
    try:
        until(done, timeout=60)
    except AssertionError:
        raise AssertionError(f"the upload's jobs: {seen}") from None
    finally:
        engine.dispose()


def test_a_200_mb_upload_through_nginx_keeps_nginx_and_the_nodes_under_120_mb(cluster):
    size = 200 * 1024 * 1024
    worker = descendants([cluster.processes["worker"].pid])
    before = {pid: rss_kib(pid) for pid in worker}
    with RssSampler(cluster) as rss:
        status, body = stream_put(cluster.port, "/big.bin", size, os.urandom(1024 * 1024))
    assert status == 201, body
    assert rss.peak, "no process was sampled"
    serving = {pid: kib for pid, kib in rss.peak.items() if pid not in worker}
    over = {rss.names[pid]: kib // 1024 for pid, kib in serving.items() if kib > RSS_LIMIT_KIB}
    assert not over, f"processes over 120 MB (MB): {over}"
    # The Celery worker takes no part in an upload; it starts at ~120 MB by itself (it
    # imports the whole CLI), so it is held to its own size before the upload.
    grown = {pid: (rss.peak.get(pid, 0) - kib) // 1024 for pid, kib in before.items()}
    assert all(mb < 8 for mb in grown.values()), f"the worker grew (MB): {grown}"
    stored = Path(cluster.env["PASTEFILE_STORAGE_URL"].removeprefix("file://")) / "objects"
    assert any(p.stat().st_size == size for p in stored.glob("??/??/*"))


# --- the same two nodes on S3 (moto's standalone server) ----------------------------------


@pytest.fixture(scope="module")
def s3_cluster(
    tmp_path_factory: pytest.TempPathFactory,
    database: str,
    moto_endpoint: str,
) -> Iterator[Cluster]:
    require(nginx_binary() is not None, "nginx is not installed (apt-get install nginx)")
    require(reachable("127.0.0.1", 6379), f"Redis is not reachable at {REDIS_URL}")
    root = tmp_path_factory.mktemp("scaleout-s3")
    settings = s3_settings(moto_endpoint)
    env = node_env(
        root,
        database,
        PASTEFILE_BROKER_URL="",
        PASTEFILE_UPLOAD_JOBS="",
        **{f"PASTEFILE_{key.upper()}": str(value) for key, value in settings.items()},
    )
    cluster = Cluster(root, env)
    try:
        yield cluster.start(worker=False)
    finally:
        cluster.stop()


def test_on_s3_an_upload_through_a_is_read_through_b_and_nginx(s3_cluster):
    a, b = s3_cluster.node_ports
    file = _upload(a, data=os.urandom(300_000))
    for port in (b, s3_cluster.port):
        status, headers, body = request(port, "GET", f"/i/{file['id']}")
        assert status == 200 and body.hex() == file["data"]
        assert "X-Accel-Redirect" not in headers  # no local path: the node streams from S3
    status, _, body = request(s3_cluster.port, "GET", f"/d/{file['id']}", {"Range": "bytes=5-9"})
    assert status == 206 and body.hex() == file["data"][10:20]
    _delete(b, file)
    gone = (404, 410)
    assert stale_for(lambda: request(a, "GET", f"/i/{file['id']}")[0] in gone, timeout=2.0) <= 1.0
