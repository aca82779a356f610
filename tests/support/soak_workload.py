"""The soak's clients: a mixed workload through nginx, and the ledger of what it was told.

Each client is a thread with its own files (so no client changes another's file under
it), and every request it makes declares the answers it expects. An answer outside
them is an error; a 4xx the client asked for on purpose (a deleted file, a range past
the end, an unknown id) is counted as provoked. Every acknowledged upload goes in the
ledger with its sha256 and the seed its bytes come from, so the bytes can be made again
to check a range or a read-back.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyvips

from tests.support.uploads import multipart_body

TIMEOUT = 30.0  # no request may take longer
GONE = (404, 410)
WIDTHS = (16, 24, 32, 48)
TUS = {"Tus-Resumable": "1.0.0"}
FETCH_SECONDS = 180.0  # a fetch waits behind the Celery worker's backlog of upload jobs


def payload(seed: int, size: int, image: bool) -> bytes:
    """The bytes an upload sent: random bytes, or a PNG of random pixels."""
    rng = random.Random(seed)
    if not image:
        return rng.randbytes(size)
    width, height = 24 + seed % 41, 16 + seed % 29
    pixels = rng.randbytes(width * height * 3)
    picture = pyvips.Image.new_from_memory(pixels, width, height, 3, "uchar")
    return bytes(picture.pngsave_buffer(compression=1))


@dataclass
class Entry:
    """One acknowledged upload."""

    id: str
    sha256: str
    seed: int
    size: int
    kind: str
    auth: dict[str, str]
    owned: bool  # the soak's user owns it: API listing, renames, expiries
    image: bool = False
    state: str = "live"  # live, deleted, expired
    gone_after: float = 0.0  # when a deleted or expired file must answer 404/410

    def data(self) -> bytes:
        return payload(self.seed, self.size, self.image)


@dataclass
class Tally:
    """Requests by kind, and every answer nobody asked for."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    provoked: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, expected: tuple[int, ...], note: str) -> None:
        with self.lock:
            self.requests[kind] += 1
            self.statuses[status] += 1
            if status not in expected:
                self.errors.append(f"{kind}: {status} (expected {expected}) {note}"[:400])
            elif status >= 400:
                self.provoked[status] += 1

    def fail(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors.append(f"{kind}: {message}"[:400])

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


class Origin:
    """A local web server for uploads from a URL: ``/blob/<seed>/<size>`` is ``payload``."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                _, _, seed, size = self.path.split("/")
                body = payload(int(seed), int(size), False)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Origin:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value

    def json_list(self) -> list[dict[str, object]]:
        value = json.loads(self.body)
        assert isinstance(value, list)
        return value


class Client:
    """One soak client: a thread's loop of weighted actions until its deadline."""

    def __init__(
        self,
        number: int,
        port: int,
        token: str,
        origin: int,
        tally: Tally,
        seed: int,
        tus: bool = True,
    ) -> None:
        self.number, self.port, self.origin, self.tally = number, port, origin, tally
        self.tus = tus  # resumable uploads need a local part area (not on S3)
        self.bearer = {"Authorization": f"Bearer {token}"}
        self.rng = random.Random(seed)
        self.files: list[Entry] = []
        self.jobs: dict[str, list[int]] = {}  # an image's id: its upload jobs
        self.fetches: list[tuple[int, int, int, float]] = []  # job, seed, size, deadline
        self.count = 0

    # --- HTTP -------------------------------------------------------------------------

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        expect: tuple[int, ...],
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            answer = Answer(response.status, dict(response.getheaders()), response.read())
        except OSError as exc:
            self.tally.fail(kind, f"{method} {path}: {exc!r}")
            return Answer(0, {}, b"")
        finally:
            conn.close()
        took = time.monotonic() - started
        note = f"{method} {path} {answer.body[:200]!r}"
        self.tally.record(kind, answer.status, expect, note)
        if took > TIMEOUT / 2:
            self.tally.fail(kind, f"{method} {path} took {took:.1f} s")
        return answer

    def _new(self, size_max: int = 64_000) -> tuple[int, int, str]:
        seed = self.rng.getrandbits(48)
        self.count += 1
        return seed, self.rng.randint(1, size_max), f"soak-c{self.number}-{self.count}.bin"

    def _ack(self, entry: Entry, data: bytes, answered_sha: str | None) -> None:
        if answered_sha is not None and answered_sha != hashlib.sha256(data).hexdigest():
            self.tally.fail(entry.kind, f"{entry.id}: the server's sha256 is not the bytes'")
        self.files.append(entry)

    # --- uploads ----------------------------------------------------------------------

    def upload_multipart(self) -> None:
        seed, size, name = self._new()
        data = payload(seed, size, False)
        body, ctype = multipart_body(data, name)
        headers = {"Content-Type": ctype, "Accept": "application/json"}
        answer = self.call("upload multipart", "POST", "/", (201,), body, headers)
        if answer.status == 201:
            got = answer.json()
            auth = {"X-Token": str(got["token"])}
            entry = Entry(str(got["id"]), str(got["sha256"]), seed, size, "multipart", auth, False)
            self._ack(entry, data, entry.sha256)

    def upload_put(self) -> None:
        seed, size, name = self._new()
        data = payload(seed, size, False)
        answer = self.call("upload PUT", "PUT", f"/{name}", (201,), data)
        if answer.status == 201:
            ident = answer.headers["Location"].rstrip("/").rsplit("/", 1)[1]
            auth = {"X-Token": answer.headers["X-Token"]}
            sha = hashlib.sha256(data).hexdigest()
            self._ack(Entry(ident, sha, seed, size, "put", auth, False), data, None)

    def upload_image(self) -> None:
        seed, _, name = self._new()
        data = payload(seed, 0, True)
        body, ctype = multipart_body(data, name.replace(".bin", ".png"))
        headers = {**self.bearer, "Content-Type": ctype}
        answer = self.call("upload image (API)", "POST", "/api/v1/files", (201,), body, headers)
        if answer.status == 201:
            got = answer.json()
            entry = Entry(str(got["id"]), str(got["sha256"]), seed, 0, "image", self.bearer, True)
            entry.image = True
            self._ack(entry, data, entry.sha256)
            self.jobs[entry.id] = []

    def upload_tus(self) -> None:
        seed, size, name = self._new(200_000)
        data = payload(seed, size, False)
        meta = "filename " + base64.b64encode(name.encode()).decode()
        headers = {**self.bearer, **TUS, "Upload-Length": str(size), "Upload-Metadata": meta}
        created = self.call("tus create", "POST", "/api/v1/uploads", (201,), b"", headers)
        if created.status != 201:
            return
        path = "/api/v1/uploads/" + created.headers["Location"].rsplit("/", 1)[1]
        cuts = sorted({0, size, *self.rng.sample(range(1, size), min(2, size - 1))})
        last = Answer(0, {}, b"")
        for start, end in itertools.pairwise(cuts):
            time.sleep(self.rng.uniform(0.1, 0.8))  # a client that pauses between chunks
            patch = {**self.bearer, **TUS, "Upload-Offset": str(start)}
            patch["Content-Type"] = "application/offset+octet-stream"
            last = self.call("tus PATCH", "PATCH", path, (204,), data[start:end], patch)
            if last.status != 204:
                self.call("tus DELETE", "DELETE", path, (204, 404), None, {**self.bearer, **TUS})
                return
        sha = hashlib.sha256(data).hexdigest()
        entry = Entry(last.headers["X-File-Id"], sha, seed, size, "tus", self.bearer, True)
        self._ack(entry, data, None)

    def upload_url(self) -> None:
        """Start a fetch job; its file joins the ledger once the job says so (``poll_fetches``)."""
        self.poll_fetches(0)
        seed, size, _ = self._new()
        url = f"http://127.0.0.1:{self.origin}/blob/{seed}/{size}"
        headers = {**self.bearer, "Content-Type": "application/json"}
        body = json.dumps({"url": url}).encode()
        started = self.call("upload from URL", "POST", "/api/v1/files", (202,), body, headers)
        if started.status == 202:
            job = int(str(started.json()["id"]))
            self.fetches.append((job, seed, size, time.monotonic() + FETCH_SECONDS))

    def poll_fetches(self, wait: float) -> None:
        """Look at each fetch job once (or wait up to ``wait`` s for it); ledger the done."""
        for fetch in list(self.fetches):
            job_id, seed, size, deadline = fetch
            job = self.wait_job(job_id, wait)
            if job is None and time.monotonic() < deadline:
                continue
            self.fetches.remove(fetch)
            if job is None or job.get("status") != "succeeded":
                self.tally.fail("upload from URL", f"fetch job {job_id} ended {job}")
                continue
            result = job["result"]
            assert isinstance(result, dict)
            data = payload(seed, size, False)
            sha = hashlib.sha256(data).hexdigest()
            self._ack(
                Entry(str(result["file"]), sha, seed, size, "url", self.bearer, True), data, None
            )

    def wait_job(self, job_id: int, seconds: float) -> dict[str, object] | None:
        """The job once finished; None when it is not within ``seconds`` (0: look once)."""
        deadline = time.monotonic() + seconds
        while True:
            answer = self.call(
                "job status", "GET", f"/api/v1/jobs/{job_id}", (200,), None, self.bearer
            )
            if answer.status != 200:
                return None
            job = answer.json()
            if job.get("status") in ("succeeded", "failed", "cancelled"):
                return job
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.3)

    # --- reads ------------------------------------------------------------------------

    def _live(self, owned: bool = False, image: bool = False) -> Entry | None:
        live = [
            f
            for f in self.files
            if f.state == "live" and (f.owned or not owned) and (f.image or not image)
        ]
        return self.rng.choice(live) if live else None

    def download_range(self) -> None:
        entry = self._live()
        if entry is None:
            return
        data = entry.data()
        start = self.rng.randrange(len(data))
        end = min(len(data) - 1, start + self.rng.randint(0, 4096))
        headers = {"Range": f"bytes={start}-{end}"}
        answer = self.call("download Range", "GET", f"/d/{entry.id}", (206,), None, headers)
        if answer.status == 206 and answer.body != data[start : end + 1]:
            self.tally.fail("download Range", f"{entry.id} bytes {start}-{end} differ")

    def transform(self) -> None:
        entry = self._live(image=True)
        if entry is not None:
            width = self.rng.choice(WIDTHS)
            answer = self.call("transform", "GET", f"/i/{entry.id}?w={width}", (200,))
            if answer.status == 200 and not answer.body.startswith(b"\x89PNG"):
                self.tally.fail("transform", f"/i/{entry.id}?w={width} is not a PNG")

    def card(self) -> None:
        entry = self._live()
        if entry is not None:
            accept = self.rng.choice(("text/html", "application/json"))
            self.call("card", "GET", f"/p/{entry.id}", (200,), None, {"Accept": accept})

    def list_files(self) -> None:
        page = self.rng.randint(1, 3)
        path = f"/api/v1/files?per_page=20&page={page}"
        self.call("API list", "GET", path, (200,), None, self.bearer)

    def search(self) -> None:
        q = f"soak-c{self.number}-"
        answer = self.call("API search", "GET", f"/api/v1/files?q={q}", (200,), None, self.bearer)
        if answer.status == 200:
            names = [str(f["filename"]) for f in json.loads(answer.body)]
            if any(q not in name for name in names):
                self.tally.fail("API search", f"q={q} answered {names}")

    def jobs_of_image(self) -> None:
        entry = self._live(image=True)
        if entry is not None:
            path = f"/api/v1/jobs?file={entry.id}"
            answer = self.call("API jobs", "GET", path, (200,), None, self.bearer)
            if answer.status == 200:
                self.jobs[entry.id] = [int(j["id"]) for j in json.loads(answer.body)]

    # --- changes ----------------------------------------------------------------------

    def _patch(self, kind: str, entry: Entry, change: dict[str, object]) -> bool:
        got = self.call(kind, "GET", f"/api/v1/files/{entry.id}", (200,), None, entry.auth)
        if got.status != 200:
            return False
        headers = {**entry.auth, "If-Match": got.headers["ETag"]}
        headers["Content-Type"] = "application/json"
        body = json.dumps(change).encode()
        return (
            self.call(kind, "PATCH", f"/api/v1/files/{entry.id}", (200,), body, headers).status
            == 200
        )

    def rename(self) -> None:
        entry = self._live(owned=True)
        if entry is not None:
            self.count += 1
            self._patch("rename", entry, {"filename": f"soak-c{self.number}-r{self.count}.bin"})

    def expire(self) -> None:
        entry = self._live(owned=True)
        if entry is None:
            return
        choice = self.rng.random()
        if choice < 0.4 and self._patch("expiry", entry, {"expires_in": 2}):
            entry.state, entry.gone_after = "expired", time.monotonic() + 3.5
        elif choice < 0.7:
            self._patch("expiry", entry, {"expires_in": 7 * 86400})
        else:
            self._patch("expiry", entry, {"expires_in": None})

    def delete(self) -> None:
        entry = self._live()
        if entry is None:
            return
        path = f"/api/v1/files/{entry.id}"
        if self.call("delete", "DELETE", path, (204,), None, entry.auth).status == 204:
            # nginx's micro-cache may answer for a second more (docs/operations.md)
            entry.state, entry.gone_after = "deleted", time.monotonic() + 1.5

    def provoke(self) -> None:
        """Errors asked for: a gone file, a range past the end, an unknown id."""
        now = time.monotonic()
        gone = [f for f in self.files if f.state != "live" and f.gone_after < now]
        if gone:
            self.call("provoked: gone", "GET", f"/i/{self.rng.choice(gone).id}", GONE)
        entry = self._live()
        if entry is not None:
            past = {"Range": f"bytes={len(entry.data()) + 10}-"}
            self.call("provoked: range", "GET", f"/d/{entry.id}", (416,), None, past)
        self.call("provoked: unknown", "GET", "/p/zzzzzzzzzz", (404,))

    # --- the loop ---------------------------------------------------------------------

    def actions(self) -> list[tuple[Callable[[], None], int]]:
        return [
            (self.upload_multipart, 4),
            (self.upload_put, 3),
            (self.upload_image, 1),
            (self.upload_tus, 1 if self.tus else 0),
            (self.upload_url, 1),
            (self.download_range, 6),
            (self.transform, 4),
            (self.card, 4),
            (self.list_files, 2),
            (self.search, 1),
            (self.jobs_of_image, 1),
            (self.rename, 1),
            (self.expire, 1),
            (self.delete, 2),
            (self.provoke, 1),
        ]

    def run(self, deadline: float, max_actions: int) -> None:
        choices, weights = zip(*self.actions(), strict=True)
        for _ in range(max_actions):
            if time.monotonic() >= deadline:
                break
            action = self.rng.choices(choices, weights)[0]
            try:
                action()
            except Exception as exc:  # a broken answer is a finding, not a crash
                self.tally.fail(action.__name__, repr(exc))
        self.poll_fetches(FETCH_SECONDS)
