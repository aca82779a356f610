"""``pf pull``: a file to disk or stdout; resumes with Range from a ``.part`` file, checks the
sha256 the server gives, and decrypts when the link's fragment carries a key."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

import httpx

from pastefile_client import crypto
from pastefile_client.api import Api, http_failure
from pastefile_client.config import state_dir
from pastefile_client.errors import CRYPTO, USAGE, Failure, read_failure, write_failure
from pastefile_client.links import Target
from pastefile_client.progress import Bars, note
from pastefile_client.tus import Throttle

_UNSAFE = re.compile(r"[\x00-\x1f/\\]")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ANY_ERROR = tuple(range(400, 600))


@dataclass
class PullOptions:
    output: str | None = None
    password: str | None = None
    passphrase: str | None = None
    force: bool = False
    limit_rate: int | None = None


def safe_name(name: str, fallback: str) -> str:
    """A name from the server or the link becomes one plain file name, never a path."""
    cleaned = _UNSAFE.sub("_", name).strip().lstrip(".")
    return cleaned[:200] or fallback


def resolve_id(api: Api, target: Target) -> str:
    if target.file_id:
        return target.file_id
    response = api.request("GET", f"/s/{target.short_code}", follow_redirects=False)
    found = re.search(r"/p/([A-Za-z0-9]+)", response.headers.get("Location", ""))
    if not found:
        raise Failure(f"the short link /s/{target.short_code} leads to no file")
    return found.group(1)


class Puller:
    def __init__(self, api: Api, options: PullOptions, progress: Bars) -> None:
        self.api = api
        self.options = options
        self.progress = progress
        self.headers = {"X-File-Password": options.password} if options.password else {}

    def pull(self, target: Target) -> str:
        if target.secret.key:
            crypto.check_identity(target.secret.key)  # before any byte is fetched
        file_id = resolve_id(self.api, target)
        head = self._head(file_id)
        name = target.secret.name or disposition_name(head.headers.get("Content-Disposition", ""))
        out = self._output(safe_name(name or file_id, file_id))
        part = self._part_path(out, file_id)
        self._download(file_id, _Remote.of(head), part)
        if target.secret.encrypted:
            self._deliver(out, lambda sink: self._decrypt(part, sink, target.secret.key))
        else:
            if name and name.endswith(".age"):
                note("the link carries no key: saved the age ciphertext as it is")
            self._deliver(out, lambda sink: self._copy(part, sink))
        part.unlink()
        return out

    def _head(self, file_id: str) -> httpx.Response:
        """Size, sha256 (the ETag) and name, from HEAD: it uses up no download, and it
        answers even once the download limit is reached, so a started pull can finish."""
        head = self.api.request("HEAD", f"/d/{file_id}", headers=self.headers, ok=_ANY_ERROR)
        if head.status_code >= 400:  # a HEAD has no problem body: ask the API why
            self.api.request("GET", f"/api/v1/files/{file_id}", headers=self.headers)
            raise http_failure(head)
        return head

    def _output(self, name: str) -> str:
        out = self.options.output or name
        if out == "-" or _is_special(out):
            return out
        if os.path.isdir(out):
            out = os.path.join(out, name)
        if os.path.exists(out) and not self.options.force:
            raise Failure(f"{out} exists: pass --force to replace it, or -o another path", USAGE)
        return out

    def _part_path(self, out: str, file_id: str) -> Path:
        if out == "-" or _is_special(out):
            folder = state_dir() / "downloads"
            folder.mkdir(exist_ok=True, mode=0o700)
            return folder / f"{file_id}.part"
        return Path(out + ".part")

    def _download(self, file_id: str, remote: _Remote, part: Path) -> None:
        total = remote.size
        have = part.stat().st_size if part.exists() else 0
        if have > total:
            part.unlink()
            have = 0
        digest = _hash_of(part) if have else hashlib.sha256()
        headers = dict(self.headers)
        if 0 < have < total:
            headers["Range"] = f"bytes={have}-"
            if remote.etag:
                headers["If-Range"] = remote.etag
        if have < total or not total:
            digest = self._fetch(file_id, part, headers, digest, (have, total))
        expected = remote.sha256
        if expected and digest.hexdigest() != expected:
            part.unlink()
            raise Failure("the download does not match the file's sha256: run pf pull again")

    def _fetch(
        self, file_id: str, part: Path, headers: dict[str, str], digest: Any, span: tuple[int, int]
    ) -> Any:
        have, total = span
        task = self.progress.add_task(f"downloading {part.name[:-5]}", total=total or None)
        with self.api.stream("GET", f"/d/{file_id}", headers=headers) as response:
            if response.status_code != 206:  # the whole file: start the part again
                have, digest = 0, hashlib.sha256()
            self.progress.update(task, completed=have)
            throttle = Throttle(self.options.limit_rate)
            try:
                with open(part, "ab" if have else "wb") as sink:
                    for chunk in response.iter_bytes(256 * 1024):
                        sink.write(chunk)
                        digest.update(chunk)
                        self.progress.advance(task, len(chunk))
                        throttle.spend(len(chunk))
            except OSError as exc:
                raise write_failure(part, exc) from None
        return digest

    def _decrypt(self, part: Path, sink: BinaryIO, key: str | None) -> None:
        advance = self._task(f"decrypting {part.name[:-5]}", part.stat().st_size)
        if key:
            crypto.decrypt_file(part, sink, key, advance)
            return
        phrase = self.options.passphrase
        if phrase is None:
            raise Failure(
                "this link needs a passphrase: pass --passphrase (or set PF_PASSPHRASE)", CRYPTO
            )
        crypto.decrypt_passphrase(part, sink, phrase, advance)

    def _copy(self, part: Path, sink: BinaryIO) -> None:
        with open(part, "rb") as source:
            shutil.copyfileobj(source, sink, 1 << 20)

    def _task(self, label: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(label, total=total)
        return lambda count: self.progress.advance(task, count)

    def _deliver(self, out: str, write: Callable[[BinaryIO], None]) -> None:
        """Write through a temp file beside ``out``, renamed once whole: never half a file."""
        try:
            with _sink(out) as (sink, done):
                write(sink)
                done()
        except OSError as exc:
            raise write_failure(out, exc) from None


@dataclass
class _Remote:
    size: int
    etag: str | None
    sha256: str | None

    @classmethod
    def of(cls, head: httpx.Response) -> _Remote:
        etag = head.headers.get("ETag")
        value = (etag or "").removeprefix("W/").strip('"') if etag else ""
        sha = value if _SHA256.fullmatch(value) else None  # pastefile's ETag is the sha256
        return cls(int(head.headers.get("Content-Length") or 0), etag, sha)


def disposition_name(header: str) -> str | None:
    """The file name of ``Content-Disposition`` (RFC 6266, ``filename*`` first)."""
    extended = re.search(r"filename\*\s*=\s*UTF-8''([^;]+)", header, re.IGNORECASE)
    if extended:
        return unquote(extended.group(1).strip())
    quoted = re.search(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"', header, re.IGNORECASE)
    if quoted:
        return quoted.group(1)
    token = re.search(r"filename\s*=\s*([^;\s]+)", header, re.IGNORECASE)
    return token.group(1) if token else None


@contextmanager
def _sink(out: str) -> Iterator[tuple[BinaryIO, Callable[[], None]]]:
    if out == "-":
        yield sys.stdout.buffer, sys.stdout.buffer.flush
        return
    if _is_special(out):
        with open(out, "wb") as device:
            yield device, device.flush
        return
    temp = out + ".pf-tmp"
    finished = []
    try:
        with open(temp, "wb") as sink:
            yield sink, lambda: finished.append(True)
        os.replace(temp, out)
    finally:
        if not finished and os.path.exists(temp):
            os.unlink(temp)


def _is_special(path: str) -> bool:
    """A device such as /dev/null or /dev/full: written directly, no part file beside it."""
    try:
        return os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)
    except OSError:
        return False


def _hash_of(path: Path) -> Any:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as source:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise read_failure(path, exc) from None
    return digest
