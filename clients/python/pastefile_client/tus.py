"""A small tus 1.0 client on httpx: create, ask the offset, append chunks with a sha256
``Upload-Checksum`` each (so a chunk is all or nothing on the server).

Why not tuspy: it brings requests, aiohttp and tinydb (three more stacks beside httpx),
reports progress only per chunk through subclassing, and its URL store keys uploads by a
hash of the file's first bytes, while pf must key them by what the user asked (the file, the
options, the encryption key and its ciphertext spool) to resume the right bytes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import httpx

from pastefile_client.api import Api, http_failure
from pastefile_client.errors import NETWORK, Failure

TUS = {"Tus-Resumable": "1.0.0"}
PIECE = 64 * 1024


@dataclass
class Status:
    offset: int
    length: int
    file_id: str | None
    token: str | None = None


def encode_metadata(values: dict[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
        for key, value in values.items()
    )


def create(api: Api, length: int, metadata: dict[str, str]) -> str:
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": encode_metadata(metadata)}
    response = api.request("POST", "/api/v1/uploads", headers=headers)
    return response.headers["Location"]


def status(api: Api, url: str) -> Status | None:
    """Where the upload stands; None when the server no longer has it (404/410)."""
    response = api.request("HEAD", url, ok=(404, 410), headers=TUS)
    if response.status_code in (404, 410):
        return None
    return Status(
        offset=int(response.headers["Upload-Offset"]),
        length=int(response.headers.get("Upload-Length", "0")),
        file_id=response.headers.get("X-File-Id"),
    )


class Throttle:
    """``--limit-rate``: sleep so that the average stays under ``rate`` bytes a second."""

    def __init__(self, rate: int | None) -> None:
        self.rate = rate
        self.start = time.monotonic()
        self.done = 0

    def spend(self, count: int) -> None:
        self.done += count
        if self.rate:
            ahead = self.done / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


def _pieces(data: bytes, advance: Callable[[int], None], throttle: Throttle) -> Iterator[bytes]:
    for start in range(0, len(data), PIECE):
        piece = data[start : start + PIECE]
        throttle.spend(len(piece))
        yield piece
        advance(len(piece))


RETRIES = 5


def send(
    api: Api,
    url: str,
    source: BinaryIO,
    state: Status,
    chunk_size: int,
    progress: tuple[Callable[[int], None], Callable[[int], None]],
    throttle: Throttle,
) -> Status:
    """PATCH from ``state.offset`` to the end; returns the final status (with the file id).

    ``progress`` is (advance by n bytes, set to an offset). A dropped connection, or a 409
    (the server's offset is not ours, or a killed run's request still holds the upload),
    is retried from the offset the server gives, a few times with a growing pause."""
    advance, rewind = progress
    offset, failures = state.offset, 0
    while offset < state.length:
        source.seek(offset)
        chunk = source.read(min(chunk_size, state.length - offset))
        try:
            response = _patch(api, url, offset, chunk, advance, throttle)
        except _Retry as retry:
            failures += 1
            if failures > RETRIES:
                raise retry.failure from None
            time.sleep(min(2 ** (failures - 1), 8))
            found = status(api, url)
            if found is None:
                raise retry.failure from None
            offset = found.offset
            rewind(offset)
            continue
        failures = 0
        offset = int(response.headers["Upload-Offset"])
        if offset >= state.length:
            headers = response.headers
            return Status(offset, state.length, headers.get("X-File-Id"), headers.get("X-Token"))
    return _finished(api, url, state)


class _Retry(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _patch(
    api: Api,
    url: str,
    offset: int,
    chunk: bytes,
    advance: Callable[[int], None],
    throttle: Throttle,
) -> httpx.Response:
    digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode("ascii")
    headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(chunk)),
        "Upload-Checksum": f"sha256 {digest}",
    }
    try:
        response = api.request(
            "PATCH", url, ok=(409,), headers=headers, content=_pieces(chunk, advance, throttle)
        )
    except Failure as failed:
        if failed.code == NETWORK:
            raise _Retry(failed) from None
        raise
    if response.status_code == 409:
        raise _Retry(http_failure(response))
    return response


def _finished(api: Api, url: str, state: Status) -> Status:
    """Every byte was already there: an empty PATCH at the end answers the file (docs/api.md)."""
    headers = {
        **TUS,
        "Upload-Offset": str(state.length),
        "Content-Type": "application/offset+octet-stream",
    }
    response = api.request("PATCH", url, headers=headers, content=b"")
    return Status(
        state.length,
        state.length,
        response.headers.get("X-File-Id"),
        response.headers.get("X-Token"),
    )


def terminate(api: Api, url: str) -> None:
    with contextlib.suppress(Failure):  # best effort: the server expires it anyway
        api.request("DELETE", url, ok=(404, 410), headers=TUS)
