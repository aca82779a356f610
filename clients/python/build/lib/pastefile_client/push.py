"""``pf push``: files (or stdin) to the server over tus, resumably, optionally encrypted."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pastefile_client import crypto, state, tus
from pastefile_client.api import Api
from pastefile_client.errors import Failure, read_failure, write_failure
from pastefile_client.links import Secret, fragment
from pastefile_client.progress import Bars, note


@dataclass
class PushOptions:
    expires_in: int | None = None
    max_downloads: int | None = None
    password: str | None = None
    private: bool = False
    encrypt: bool = False
    passphrase: str | None = None
    collection: str | None = None
    chunk_size: int = 8 * 1024 * 1024
    limit_rate: int | None = None

    @property
    def encrypted(self) -> bool:
        return self.encrypt or self.passphrase is not None

    def fingerprint(self) -> dict[str, Any]:
        """What decides the upload's bytes and metadata; the passphrase is checked apart."""
        return {
            "expires_in": self.expires_in,
            "max_downloads": self.max_downloads,
            "password": _digest(self.password),
            "private": self.private,
            "encrypt": self.encrypt,
            "passphrase": self.passphrase is not None,
            "collection": self.collection,
        }

    def metadata(self, name: str) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.encrypted:
            values["encryption"] = "age"  # the name travels in the link's fragment only
        else:
            values["filename"] = name
        optional = {
            "expires_in": self.expires_in,
            "max_downloads": self.max_downloads,
            "password": self.password,
            "visibility": "private" if self.private else None,
            "collection": self.collection,
        }
        values.update({k: str(v) for k, v in optional.items() if v is not None})
        return values


@dataclass
class Source:
    path: Path
    name: str
    identity: dict[str, Any]
    temporary: bool = False


@dataclass
class Pushed:
    name: str
    file_id: str
    link: str
    file: dict[str, Any] = field(default_factory=dict)
    token: str | None = None


def _digest(value: str | None) -> str | None:
    return hashlib.sha256(value.encode("utf-8")).hexdigest() if value is not None else None


def file_source(arg: str) -> Source:
    path = Path(arg).absolute()
    try:
        info = path.stat()
    except OSError as exc:
        raise read_failure(arg, exc) from None
    if not path.is_file():
        raise Failure(f"cannot read {arg}: not a regular file")
    identity = {"path": str(path), "size": info.st_size, "mtime": info.st_mtime_ns}
    return Source(path, path.name, identity)


def stdin_source(name: str) -> Source:
    """stdin spooled to the state dir under its sha256, so the same input resumes too."""
    temp = state.spool_path(f"stdin-{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with state.private_file(temp) as out:
            for chunk in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        final = state.spool_path(f"stdin-{digest.hexdigest()[:32]}")
        os.replace(temp, final)
    except OSError as exc:
        raise write_failure(temp, exc) from None
    return Source(final, name, {"stdin": digest.hexdigest()}, temporary=True)


class Pusher:
    def __init__(self, api: Api, options: PushOptions, progress: Bars, who: str) -> None:
        self.api = api
        self.options = options
        self.progress = progress
        self.who = who

    def push(self, source: Source) -> Pushed:
        fp = state.fingerprint(
            server=self.api.server,
            who=self.who,
            source=source.identity,
            options=self.options.fingerprint(),
        )
        record = self._resumable(state.load(fp))
        status = tus.status(self.api, record.upload_url) if record and record.upload_url else None
        if record is not None and status is None:
            note(f"{source.name}: the server no longer has the unfinished upload; starting again")
            state.drop(record)
        if record is None or status is None:
            record = self._start(fp, source)
            status = tus.Status(0, record.length, None)
        elif status.offset:
            note(f"{source.name}: resuming at byte {status.offset} of {status.length}")
        if status.file_id is None:
            status = self._send(record, source, status)
        state.drop(record)
        if source.temporary:
            source.path.unlink()
        return self._result(source, record, status)

    def _resumable(self, record: state.Record | None) -> state.Record | None:
        """A record whose spool is intact and, with --passphrase, whose phrase is the same."""
        if record is None:
            return None
        phrase = self.options.passphrase
        same_phrase = phrase is None or (
            record.passphrase_salt is not None
            and crypto.passphrase_check(phrase, bytes.fromhex(record.passphrase_salt))
            == record.passphrase_check
        )
        spool_ok = record.spool is None or (
            Path(record.spool).is_file() and Path(record.spool).stat().st_size == record.length
        )
        if same_phrase and spool_ok:
            return record
        if record.upload_url:
            tus.terminate(self.api, record.upload_url)
        state.drop(record)
        return None

    def _start(self, fp: str, source: Source) -> state.Record:
        record = state.Record(fingerprint=fp)
        if self.options.encrypted:
            self._encrypt(record, source)
        else:
            record.length = source.path.stat().st_size
        metadata = self.options.metadata(source.name)
        try:
            record.upload_url = tus.create(self.api, record.length, metadata)
        except BaseException:  # refused (413, 401…) or interrupted: no spool left behind
            state.drop(record)
            raise
        state.save(record)
        return record

    def _encrypt(self, record: state.Record, source: Source) -> None:
        spool = state.spool_path(f"{record.fingerprint}.age")
        size = source.path.stat().st_size
        task = self.progress.add_task(f"encrypting {source.name}", total=size)

        def advance(count: int) -> None:
            self.progress.advance(task, count)

        with state.private_file(spool) as out:
            if self.options.passphrase is not None:
                salt = secrets.token_bytes(16)
                record.passphrase_salt = salt.hex()
                record.passphrase_check = crypto.passphrase_check(self.options.passphrase, salt)
                crypto.encrypt_passphrase(source.path, out, self.options.passphrase, advance)
            else:
                record.key = crypto.new_identity()
                crypto.encrypt_file(source.path, out, record.key, advance)
        record.spool = str(spool)
        record.length = spool.stat().st_size

    def _send(self, record: state.Record, source: Source, status: tus.Status) -> tus.Status:
        path = Path(record.spool) if record.spool else source.path
        task = self.progress.add_task(
            f"uploading {source.name}", total=status.length, completed=status.offset
        )

        def advance(count: int) -> None:
            self.progress.advance(task, count)

        assert record.upload_url is not None
        try:
            with open(path, "rb") as data:
                return tus.send(
                    self.api,
                    record.upload_url,
                    data,
                    status,
                    self.options.chunk_size,
                    advance,
                    tus.Throttle(self.options.limit_rate),
                )
        except OSError as exc:
            raise read_failure(path, exc) from None

    def _result(self, source: Source, record: state.Record, status: tus.Status) -> Pushed:
        file_id = status.file_id or ""
        headers = {"X-File-Password": self.options.password} if self.options.password else {}
        found = self.api.request(
            "GET", f"/api/v1/files/{file_id}", ok=(401, 403, 404), headers=headers
        )
        info: dict[str, Any] = found.json() if found.status_code == 200 else {}
        preview = info.get("links", {}).get("preview") or self.api.url(f"/p/{file_id}")
        if self.options.encrypted:
            mimetype = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
            secret = Secret(
                key=record.key, passphrase=record.key is None, name=source.name, mimetype=mimetype
            )
            preview = f"{preview}#{fragment(secret)}"
        return Pushed(source.name, file_id, preview, info, status.token)
