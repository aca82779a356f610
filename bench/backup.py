#!/usr/bin/env python3
"""How long ``backup`` and ``restore`` take for an instance of a given size.

    .venv/bin/python bench/backup.py                      # 1 GiB in 2000 files, into PostgreSQL
    .venv/bin/python bench/backup.py --mib 256 --target mariadb

It fills a throwaway SQLite + local-disk instance with random files through the
upload pipeline, times a full backup, adds a few files and times a second
(incremental) backup, then restores the backup into a new database on the
target engine (PostgreSQL and MariaDB on this machine's loopback, or SQLite)
with its own local storage, and checks the restored instance with the scrub.
It prints each step's seconds and MiB/s, and the backup folder's size.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pastefile.composition import Services, build_services
from pastefile.config import load_settings
from pastefile.db import migrate

ADMIN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def instance(root: Path, database_url: str = "") -> Services:
    extra = {"database_url": database_url} if database_url else {}
    settings = load_settings(app_env="testing", data_dir=root, upload_jobs=[], **extra)
    return build_services(settings)


def populate(services: Services, mib: int, files: int) -> None:
    size = mib * 1024 * 1024 // files
    for n in range(files):
        services.uploads.save_stream(io.BytesIO(os.urandom(size)), f"f{n}.bin")


def folder_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def new_database(engine: str) -> tuple[str, str]:
    name = f"pastefile_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URLS[engine], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = create_engine(ADMIN_URLS[engine]).url.set(database=name)
    return url.render_as_string(hide_password=False), name


def drop_database(engine: str, name: str) -> None:
    admin = create_engine(ADMIN_URLS[engine], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        force = " WITH (FORCE)" if engine == "postgresql" else ""
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
    admin.dispose()


class Stages:
    """A Progress that remembers when each stage started, to say where the time went."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def stage(self, label: str, total: int, unit: str) -> object:
        self.marks.append((label, time.perf_counter()))
        return lambda amount: None

    def split(self, end: float) -> str:
        ends = [at for _, at in self.marks[1:]] + [end]
        return ", ".join(
            f"{label} {stop - at:.1f} s" for (label, at), stop in zip(self.marks, ends, strict=True)
        )


def timed(label: str, mib: float, step: object) -> object:
    stages = Stages()
    started = time.perf_counter()
    result = step(stages)  # type: ignore[operator]
    seconds = time.perf_counter() - started
    split = stages.split(time.perf_counter())
    print(f"{label:<22} {seconds:7.1f} s  {mib / seconds:7.1f} MiB/s  ({split})")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument(
        "--target", choices=["postgresql", "mariadb", "sqlite"], default="postgresql"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pastefile-bench-backup-"))
    dropped: str | None = None
    try:
        source = instance(root / "source")
        migrate.upgrade(source.db)
        started = time.perf_counter()
        populate(source, args.mib, args.files)
        print(
            f"populated {args.mib} MiB in {args.files} files: {time.perf_counter() - started:.1f} s"
        )
        dest = root / "backup"
        full = timed("backup (full)", args.mib, lambda p: source.backup.run(dest, p))
        populate(source, max(1, args.mib // 100), 10)
        timed("backup (incremental)", args.mib / 100, lambda p: source.backup.run(dest, p))
        print(f"backup folder: {folder_size(dest) / 1048576:.0f} MiB, {full.blobs.count} blobs")  # type: ignore[attr-defined]
        url = ""
        if args.target != "sqlite":
            url, dropped = new_database(args.target)
        target = instance(root / "target", url)
        restored = timed(
            f"restore ({args.target})", args.mib, lambda p: target.restore.run(dest, p)
        )
        rows = sum(restored.tables.values())  # type: ignore[attr-defined]
        report = target.scrub.run()
        print(f"restored {rows} rows; scrub of the target: {report.problems} problems")
        target.close()
        source.close()
    finally:
        if dropped:
            drop_database(args.target, dropped)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
