"""moto's standalone S3 server on a free port; the unchanged boto3 client talks to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

from tests.support.servers import free_port

S3_KEYS = {"s3_access_key": "testing", "s3_secret_key": "testing", "s3_region": "us-east-1"}


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's threaded S3 server on a free port; its endpoint URL."""
    server_module = pytest.importorskip("moto.server")
    port = free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def new_bucket(endpoint: str) -> str:
    name = f"pf-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, **extra: object) -> dict[str, object]:
    bucket = new_bucket(endpoint)
    return {"storage_url": f"s3://{bucket}/blobs", "s3_endpoint_url": endpoint, **S3_KEYS, **extra}
