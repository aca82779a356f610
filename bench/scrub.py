#!/usr/bin/env python3
"""The storage scrub's speed against ``sha256sum`` of the same files, in the same run.

(``openssl dgst -sha256`` too: coreutils' sha256sum does not use the CPU's SHA
instructions, Python's hashlib does, through OpenSSL.)

    .venv/bin/python bench/scrub.py                 # 256 MiB in 64 files, 3 rounds
    .venv/bin/python bench/scrub.py --mib 1024 --files 256 --rounds 5

It fills a throwaway SQLite + local-disk instance with random files through the
upload pipeline, then alternates ``Scrub.run()`` (unbounded rate) and one
``sha256sum`` process over the same object files, round after round, so both
read from the same page cache under the same background load. It prints each
round, the best MiB/s of each and the ratio scrub / sha256sum.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pastefile.composition import Services, build_services
from pastefile.config import load_settings
from pastefile.db import migrate


def populate(services: Services, mib: int, files: int) -> list[Path]:
    size = mib * 1024 * 1024 // files
    paths = []
    for n in range(files):
        result = services.uploads.save_stream(io.BytesIO(os.urandom(size)), f"f{n}.bin")
        path = services.storage.local_path(result.file.sha256)
        assert path is not None
        paths.append(path)
    return paths


def time_tool(command: list[str], paths: list[Path]) -> float:
    started = time.perf_counter()
    subprocess.run([*command, *map(str, paths)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def time_scrub(services: Services, paths: list[Path]) -> float:
    started = time.perf_counter()
    report = services.scrub.run()
    elapsed = time.perf_counter() - started
    assert report.problems == 0, report.as_dict()
    assert report.bytes == sum(p.stat().st_size for p in paths)  # every byte was read
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--files", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pastefile-bench-scrub-"))
    try:
        settings = load_settings(app_env="testing", data_dir=root, upload_jobs=[])
        services = build_services(settings)
        migrate.upgrade(services.db)
        paths = populate(services, args.mib, args.files)
        total = sum(p.stat().st_size for p in paths) / 1048576
        best_scrub = best_sum = best_ssl = float("inf")
        for n in range(args.rounds):
            tool = time_tool(["sha256sum"], paths)
            ssl = time_tool(["openssl", "dgst", "-sha256"], paths)
            scrub = time_scrub(services, paths)
            best_sum, best_ssl = min(best_sum, tool), min(best_ssl, ssl)
            best_scrub = min(best_scrub, scrub)
            print(
                f"round {n + 1}: sha256sum {total / tool:7.1f} MiB/s   "
                f"openssl {total / ssl:7.1f} MiB/s   scrub {total / scrub:7.1f} MiB/s"
            )
        print(f"{total:.0f} MiB in {len(paths)} files (best of {args.rounds})")
        print(
            f"sha256sum {total / best_sum:.1f} MiB/s, openssl dgst {total / best_ssl:.1f} MiB/s, "
            f"scrub {total / best_scrub:.1f} MiB/s"
        )
        print(f"ratio scrub/sha256sum: {best_sum / best_scrub:.2f}")
        print(f"ratio scrub/openssl: {best_ssl / best_scrub:.2f}")
        services.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
