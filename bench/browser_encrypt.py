#!/usr/bin/env python3
"""End-to-end encryption in chromium against plain uploads, in the same run.

    .venv/bin/python bench/browser_encrypt.py              # 256 MiB
    .venv/bin/python bench/browser_encrypt.py --size 64MiB # a quick check

It starts ``pastefile serve --workers 1`` (gunicorn, APP_ENV=production, SQLite, a
throwaway data directory; bench/upload_download.py's ``Server``) and Debian's chromium
under Playwright, opens the upload page, and makes the file in the page (1 MiB of random
bytes, repeated: a Blob, so the page's JavaScript heap does not hold it). Then, each timed
in the page:

- **plain tus upload**: the file's bytes, 8 MiB PATCHes (``fetch``), as upload.js does
  with 4 MiB ones;
- **encrypted upload**: ``static/e2e/encrypt.js`` as the upload page runs it (File.stream()
  → age → tus-js-client, 8 MiB PATCHes);
- **encryption alone**: File.stream() → age, drained in the page (no network);
- **plain download**: ``fetch(/i/<id>)`` drained;
- **decrypt and save**: the encrypted file's card, "Decrypt and save" into the
  origin-private file system through the File System Access API (what a user's Chrome
  does with a file on disk).

Each line gives MB/s (10^6 bytes, of the plaintext) and the page's JS heap in that phase
(``performance.memory``, precise with ``--enable-precise-memory-info``): the peak, sampled
every 20 ms, garbage included, and the live peak, sampled right after a forced ``gc()``
(``--js-flags=--expose-gc``) every 250 ms, which is what the page holds. The ratios compare
each encrypted path with its plain one.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from upload_download import Server  # noqa: E402

from tests.support.browser_e2e import ARGS, CHROMIUM, new_context  # noqa: E402

MB = 1_000_000
MiB = 1024 * 1024
BLOCK = 8 * MiB

# Shared by every phase: the file, and a heap sampler reset per phase.
_SETUP = """async (size) => {
  const part = new Uint8Array(1024 * 1024);
  for (let i = 0; i < part.length; i += 65536) crypto.getRandomValues(part.subarray(i, i + 65536));
  const parts = [];
  for (let n = 0; n < size; n += part.length) {
    parts.push(part.subarray(0, Math.min(part.length, size - n)));
  }
  window.benchFile = new File(parts, "bench.bin", { type: "application/octet-stream" });
  window.benchPeak = 0;
  window.benchLive = 0;
  setInterval(() => {
    window.benchPeak = Math.max(window.benchPeak, performance.memory.usedJSHeapSize);
  }, 20);
  setInterval(() => {
    gc();
    window.benchLive = Math.max(window.benchLive, performance.memory.usedJSHeapSize);
  }, 250);
  return window.benchFile.size;
}"""

_PHASES = """async ({ phase, block, endpoint, csrf }) => {
  const file = window.benchFile;
  window.benchPeak = window.benchLive = performance.memory.usedJSHeapSize;
  const started = performance.now();
  let id = null, fragment = null;
  if (phase === "plain") {
    const b64 = (s) => btoa(s);
    const created = await fetch(endpoint, { method: "POST", headers: {
      "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf, "Upload-Length": String(file.size),
      "Upload-Metadata": "filename " + b64("bench.bin") } });
    const url = created.headers.get("Location");
    for (let offset = 0; offset < file.size; offset += block) {
      const body = file.slice(offset, offset + block);
      const r = await fetch(url, { method: "PATCH", body, headers: {
        "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf, "Upload-Offset": String(offset),
        "Content-Type": "application/offset+octet-stream" } });
      if (r.status !== 204) throw new Error("PATCH " + r.status);
      id = r.headers.get("X-File-Id") || id;
    }
  } else if (phase === "encrypted") {
    const result = await window.pastefile.e2e.upload(file, { endpoint, csrf }).done;
    id = result.id; fragment = result.fragment;
  } else if (phase === "encrypt-only") {
    const { stream } = await window.pastefile.e2e.encryptedStream(file);
    const reader = stream.getReader();
    while (!(await reader.read()).done) { /* drain */ }
  } else if (phase === "download") {
    const reader = (await fetch("/i/" + window.benchPlainId)).body.getReader();
    while (!(await reader.read()).done) { /* drain */ }
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, peak: window.benchPeak, live: window.benchLive, id, fragment };
}"""

_CARD_PEAK = """() => {
  window.benchPeak = window.benchLive = 0;
  setInterval(() => {
    window.benchPeak = Math.max(window.benchPeak, performance.memory.usedJSHeapSize);
  }, 20);
  setInterval(() => {
    gc();
    window.benchLive = Math.max(window.benchLive, performance.memory.usedJSHeapSize);
  }, 250);
}"""


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)\s*(MiB|GiB|MB)?", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    unit = {"MiB": MiB, "GiB": 1024 * MiB, "MB": MB, None: 1}[match.group(2)]
    return int(match.group(1)) * unit


def run(size: int) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="pf-browser-bench-"))
    server = Server(work, size)
    results: dict[str, dict[str, float]] = {}
    try:
        server.start()
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=[*ARGS, "--enable-precise-memory-info", "--js-flags=--expose-gc"],
            )
            context = new_context(browser, server.url, "picker")
            page = context.new_page()
            page.goto("/")
            page.evaluate(_SETUP, size)
            csrf = page.get_attribute('meta[name="csrf-token"]', "content")
            args: dict[str, Any] = {"block": BLOCK, "endpoint": "/api/v1/uploads", "csrf": csrf}
            for phase in ("plain", "encrypted", "encrypt-only"):
                results[phase] = page.evaluate(_PHASES, {**args, "phase": phase})
                print(f"  {phase}: {results[phase]['seconds']:.1f} s", file=sys.stderr)
            page.evaluate(f"window.benchPlainId = {results['plain']['id']!r}")
            results["download"] = page.evaluate(_PHASES, {**args, "phase": "download"})
            results["decrypt-save"] = decrypt_and_save(page, results["encrypted"])
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def decrypt_and_save(page: Any, encrypted: dict[str, Any]) -> dict[str, float]:
    page.goto(f"/p/{encrypted['id']}{encrypted['fragment']}")
    page.locator(".e2e-save").wait_for(timeout=120_000)
    page.evaluate(_CARD_PEAK)
    started = time.perf_counter()
    page.click(".e2e-save")
    page.locator(".e2e-status", has_text="saved").wait_for(timeout=600_000)
    seconds = time.perf_counter() - started
    peak, live = page.evaluate("[window.benchPeak, window.benchLive]")
    return {"seconds": seconds, "peak": peak, "live": live}


def report(size: int, results: dict[str, dict[str, float]]) -> None:
    def rate(phase: str) -> float:
        return size / MB / results[phase]["seconds"]

    print(f"browser end-to-end encryption, {size / MiB:.0f} MiB in chromium ({CHROMIUM})")
    print("  server: pastefile serve --workers 1 (gunicorn), APP_ENV=production, SQLite")
    labels = {
        "plain": "plain tus upload",
        "encrypted": "encrypted upload (age + tus)",
        "encrypt-only": "encryption alone (no network)",
        "download": "plain download (fetch /i/)",
        "decrypt-save": "decrypt and save (card, FS Access)",
    }
    for phase, label in labels.items():
        peak, live = results[phase]["peak"] / MiB, results[phase]["live"] / MiB
        print(
            f"  {label:<36} {rate(phase):7.1f} MB/s"
            f"   JS heap: peak {peak:6.1f} MiB, live {live:5.1f} MiB"
        )
    print(f"  encrypted / plain upload:   {rate('encrypted') / rate('plain'):.2f}")
    print(f"  decrypt-save / download:    {rate('decrypt-save') / rate('download'):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=256 * MiB)
    options = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    report(options.size, run(options.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
