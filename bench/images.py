#!/usr/bin/env python3
"""Image transforms through the production server, against vipsthumbnail and Pillow.

    .venv/bin/python bench/images.py             # the issue's images and targets
    .venv/bin/python bench/images.py --runs 3    # fewer rounds, a quick check

In one run, on this machine, it:

- generates photo-like test images (gradients plus Gaussian noise, not flat
  colour) of 12 MP (4000x3000) and 24 MP (6000x4000), each as JPEG and PNG;
- starts ``pastefile serve --workers 1`` (gunicorn, APP_ENV=production) with
  ``PASTEFILE_VARIANT_CACHE=0`` and uploads them;
- for each image, times ``GET /i/<id>?w=300&h=200`` (a 300x200 cover thumbnail)
  and reports the median, against, on the same file:
  * ``vipsthumbnail FILE --size 300x200 --smartcrop centre`` (Debian's
    libvips-tools; the process start is part of its time, as HTTP is of ours);
  * ``pyvips.Image.thumbnail`` of the file in this process, saved in the file's own
    format (the floor: libvips with no process start, no HTTP, no pipeline);
  * a naive Pillow ``open -> resize -> save`` in this process;
- reads the worker's peak RSS (VmHWM, reset through /proc/<pid>/clear_refs)
  over the 24 MP transforms;
- measures throughput with 4 concurrent clients (12 MP JPEG, cache off);
- starts a second server with the variant cache on and times cache hits;
- against a peer: thumbor (PyPI, into the bench's own venv ``bench/.thumbor-venv``,
  made on first use, never into the project's dependencies), one process with its
  shipped defaults (PIL engine), a file loader on the same files, no storage and no
  result storage. The same client asks it for the same 300x200 cover thumbnail
  (``/unsafe/300x200/<file>``: thumbor crops to fill, as ``?w=300&h=200`` does): its
  latency per image, its throughput with 4 concurrent clients, and its peak RSS over
  the whole run against the pastefile worker's over the same requests.

Targets: at most 1.5x vipsthumbnail, at most 1.2x the in-process
``pyvips.Image.thumbnail``, at least 3x faster than Pillow, peak RSS under 250 MB
(MB = 10^6 bytes); against thumbor: throughput with 4 clients at least 5x
thumbor's, peak RSS below thumbor's. The exit status is 0
when every target passes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyvips
from PIL import Image

MB = 1_000_000
PASTEFILE = Path(sys.executable).parent / "pastefile"
SIZES = {"12MP": (4000, 3000), "24MP": (6000, 4000)}
THUMB = "w=300&h=200"
TARGET_VIPS_RATIO = 1.5
TARGET_INPROCESS_RATIO = 1.2
TARGET_PILLOW_SPEEDUP = 3.0
TARGET_RSS = 250 * MB
TARGET_THUMBOR_SPEEDUP = 5.0
THUMBOR = "thumbor==7.8.0"
THUMBOR_VENV = Path(__file__).resolve().parent / ".thumbor-venv"
THUMBOR_CONF = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {root!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ALLOW_UNSAFE_URL = True
"""


@dataclass
class Row:
    name: str
    ours: float
    vips: float | None
    pillow: float
    thumbor: float
    inprocess: float


@dataclass
class Peer:
    """pastefile against thumbor, over the same requests."""

    ours_rate: float
    thumbor_rate: float
    ours_peak: int
    thumbor_peak: int


def photo_like(path: Path, size: tuple[int, int]) -> None:
    """Gradients plus noise: encoders and resamplers get real work."""
    width, height = size
    xy = pyvips.Image.xyz(width, height)
    gx, gy = xy[0] * (255 / width), xy[1] * (255 / height)
    bands = [
        gx + pyvips.Image.gaussnoise(width, height, sigma=10),
        gy + pyvips.Image.gaussnoise(width, height, sigma=10),
        (gx + gy) / 2 + pyvips.Image.gaussnoise(width, height, sigma=10),
    ]
    image = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    if path.suffix == ".jpg":
        image.jpegsave(str(path), Q=90)
    else:
        image.pngsave(str(path), compression=6)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(data_dir: Path, cache: bool) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        APP_ENV="production",
        PASTEFILE_SECRET_KEY=secrets.token_hex(16),
        PASTEFILE_DATA_DIR=str(data_dir),
        PASTEFILE_VARIANT_CACHE="1" if cache else "0",
        PASTEFILE_LOG_LEVEL="WARNING",
        # One client address asks for hundreds of transforms a minute here.
        PASTEFILE_TRANSFORM_RATE_LIMIT="100000/minute",
    )
    cmd = [str(PASTEFILE), "serve", "--workers", "1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def thumbor_binary() -> Path:
    """thumbor in the bench's own venv, made with this interpreter on first use."""
    binary = THUMBOR_VENV / "bin" / "thumbor"
    if not binary.exists():
        print(f"installing {THUMBOR} into {THUMBOR_VENV} (once)")
        subprocess.run([sys.executable, "-m", "venv", str(THUMBOR_VENV)], check=True)
        pip = [str(THUMBOR_VENV / "bin" / "pip"), "install", "--quiet", THUMBOR]
        subprocess.run(pip, check=True)
    return binary


@contextlib.contextmanager
def thumbor(root: Path) -> Iterator[tuple[str, int]]:
    """A thumbor server reading the files under ``root``; (URL prefix, pid)."""
    conf = root / "thumbor.conf"
    conf.write_text(THUMBOR_CONF.format(root=str(root)))
    port = free_port()
    cmd = [str(thumbor_binary()), "-p", str(port), "-i", "127.0.0.1", "-c", str(conf)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/unsafe/300x200", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise SystemExit("server did not start")


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker")


def upload(base: str, path: Path) -> str:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base}/", data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Accept", "application/json")
    with urllib.request.urlopen(request, timeout=120) as response:
        return str(json.loads(response.read())["id"])


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        data: bytes = response.read()
        assert response.status == 200, response.status
        return data


def timed(action: Callable[[], object], runs: int) -> float:
    return interleaved([action], runs)[0]


def interleaved(actions: list[Callable[[], object]], runs: int) -> list[float]:
    """Median time of each action, run in turn each round: on a shared machine,
    load changes hit every contender alike instead of whichever ran then."""
    for action in actions:
        action()  # warm-up: page cache, imports, connection setup
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(runs):
        for action, times in zip(actions, samples, strict=True):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
    return [statistics.median(times) for times in samples]


def vipsthumbnail(path: Path, out_dir: Path) -> Callable[[], object] | None:
    binary = shutil.which("vipsthumbnail")
    if binary is None:
        return None
    out = str(out_dir / "vips_%s.jpg")
    cmd = [binary, str(path), "--size", "300x200", "--smartcrop", "centre", "-o", out]
    return lambda: subprocess.run(cmd, check=True, capture_output=True)


def vips_inprocess(path: Path) -> Callable[[], object]:
    suffix = ".png" if path.suffix == ".png" else ".jpg"

    def run() -> None:
        thumb = pyvips.Image.thumbnail(str(path), 300, height=200, crop="centre")
        thumb.write_to_buffer(suffix)

    return run


def pillow_naive(path: Path) -> Callable[[], object]:
    def run() -> None:
        with Image.open(path) as im:
            out = im.resize((300, 200))
            out.save(io.BytesIO(), format="JPEG", quality=82)

    return run


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def throughput(url: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def loop(index: int) -> None:
        while time.perf_counter() < stop:
            get(url)
            done[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement")
    parser.add_argument("--seconds", type=float, default=10, help="throughput duration")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pastefile-bench-images-"))
    try:
        return run(work, args.runs, args.seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def make_images(work: Path) -> dict[str, Path]:
    images = {}
    for label, size in SIZES.items():
        for ext in ("jpg", "png"):
            path = work / f"photo_{label}.{ext}"
            photo_like(path, size)
            images[f"{label} {ext.upper()}"] = path
            print(f"  {path.name}: {size[0]}x{size[1]}, {path.stat().st_size / MB:.1f} MB")
    return images


def run(work: Path, runs: int, seconds: float) -> int:
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
    print("generating images")
    images = make_images(work)
    if shutil.which("vipsthumbnail") is None:
        print("vipsthumbnail is MISSING: apt-get install -y libvips-tools (comparison skipped)")
    rows, rss, versus, ids = measure_cache_off(work, images, runs, seconds)
    hit = measure_cache_hit(work, images, ids, runs)
    ok = report(rows, rss, versus.ours_rate, hit)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0 if report_peer(rows, versus) and ok == 0 else 1


def measure_cache_off(
    work: Path, images: dict[str, Path], runs: int, seconds: float
) -> tuple[list[Row], int, Peer, dict[str, str]]:
    rows = []
    with server(work / "data", cache=False) as (base, master), thumbor(work) as (peer, peer_pid):
        worker = worker_pid(master)
        ids = {name: upload(base, path) for name, path in images.items()}
        for pid in (worker, peer_pid):
            reset_peak(pid)  # from here on, both serve the same requests
        rss = 0
        for name, path in images.items():
            url = f"{base}/i/{ids[name]}?{THUMB}"
            if name.startswith("24MP"):
                get(url)
                rss = max(rss, peak_rss(worker))
            reference = vipsthumbnail(path, work)
            actions = [lambda url=url: get(url), pillow_naive(path)]
            actions.append(lambda name=path.name: get(f"{peer}/{name}"))
            actions.append(vips_inprocess(path))
            times = interleaved(actions + ([reference] if reference else []), runs)
            vips = times[4] if reference else None
            rows.append(Row(name, times[0], vips, times[1], times[2], times[3]))
            print(f"  measured {name}")
        rate = throughput(f"{base}/i/{ids['12MP JPG']}?{THUMB}", 4, seconds)
        peer_rate = throughput(f"{peer}/{images['12MP JPG'].name}", 4, seconds)
        versus = Peer(rate, peer_rate, peak_rss(worker), peak_rss(peer_pid))
    return rows, rss, versus, ids


def measure_cache_hit(work: Path, images: dict[str, Path], ids: dict[str, str], runs: int) -> float:
    with server(work / "data", cache=True) as (base, _):
        url = f"{base}/i/{ids['24MP JPG']}?{THUMB}"
        get(url)  # the miss that stores the variant
        return timed(lambda: get(url), runs * 5)


def report(rows: list[Row], rss: int, rate: float, hit: float) -> int:
    ok = True
    print("\n300x200 cover thumbnail, median seconds (variant cache off)")
    print(
        f"{'image':<10} {'pastefile':>10} {'vipsthumb':>10} {'ratio':>7} {'':5} "
        f"{'in-proc':>8} {'ratio':>7} {'':6} {'pillow':>8} {'speedup':>8}"
    )
    for row in rows:
        speedup = row.pillow / row.ours
        ok &= speedup >= TARGET_PILLOW_SPEEDUP
        floor = row.ours / row.inprocess
        ok &= floor <= TARGET_INPROCESS_RATIO
        ratio_text, vips_text, vips_verdict = "-", "missing", "SKIP"
        if row.vips is not None:
            ratio = row.ours / row.vips
            ok &= ratio <= TARGET_VIPS_RATIO
            ratio_text, vips_text = f"{ratio:.2f}x", f"{row.vips:.3f}"
            vips_verdict = verdict(ratio <= TARGET_VIPS_RATIO)
        print(
            f"{row.name:<10} {row.ours:>10.3f} {vips_text:>10} {ratio_text:>7} {vips_verdict:5} "
            f"{row.inprocess:>8.3f} {floor:>6.2f}x "
            f"{verdict(floor <= TARGET_INPROCESS_RATIO):6} "
            f"{row.pillow:>8.3f} {speedup:>7.1f}x {verdict(speedup >= TARGET_PILLOW_SPEEDUP)}"
        )
    print(
        f"targets: <= {TARGET_VIPS_RATIO}x vipsthumbnail, <= {TARGET_INPROCESS_RATIO}x "
        f"in-process pyvips.Image.thumbnail, >= {TARGET_PILLOW_SPEEDUP}x Pillow"
    )
    ok &= 0 < rss < TARGET_RSS
    print(
        f"peak worker RSS over the 24 MP transforms: {rss / MB:.0f} MB "
        f"(target < {TARGET_RSS / MB:.0f} MB) {verdict(0 < rss < TARGET_RSS)}"
    )
    print(f"throughput, 4 concurrent clients, 12 MP JPEG, cache off: {rate:.1f} req/s")
    print(f"cache-hit latency (24 MP JPEG variant): median {hit * 1000:.2f} ms")
    print("ALL PASS" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


def report_peer(rows: list[Row], versus: Peer) -> bool:
    print("\nagainst thumbor 7.8 (one process each, same files, same client, no result storage)")
    print(f"{'image':<10} {'pastefile':>10} {'thumbor':>10} {'speedup':>8}  (median seconds)")
    for row in rows:
        print(
            f"{row.name:<10} {row.ours:>10.3f} {row.thumbor:>10.3f} {row.thumbor / row.ours:>7.1f}x"
        )
    speedup = versus.ours_rate / versus.thumbor_rate if versus.thumbor_rate else float("inf")
    fast = speedup >= TARGET_THUMBOR_SPEEDUP
    print(
        f"throughput, 4 clients, 12 MP JPEG: pastefile {versus.ours_rate:.1f} req/s, thumbor "
        f"{versus.thumbor_rate:.1f} req/s: {speedup:.1f}x (target >= {TARGET_THUMBOR_SPEEDUP:.0f}x)"
        f" {verdict(fast)}"
    )
    lean = versus.ours_peak < versus.thumbor_peak
    print(
        f"peak RSS over the same requests: pastefile worker {versus.ours_peak / MB:.0f} MB, "
        f"thumbor {versus.thumbor_peak / MB:.0f} MB: "
        f"{versus.ours_peak / versus.thumbor_peak:.2f}x (target < 1x) {verdict(lean)}"
    )
    return fast and lean


if __name__ == "__main__":
    sys.exit(main())
