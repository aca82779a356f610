"""Download history for a file's owner: per day and, with a GeoIP database, country.

A download only adds to an in-process counter under a lock; a thread writes the counts
every ``PASTEFILE_HISTORY_FLUSH_SECONDS`` as upserts of (file, day, country) rows, so the
hot path never touches the database and the table grows with days, not downloads. The
address is looked up in memory and dropped: only a two-letter country is kept.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from pastefile.db.batches import padded
from pastefile.db.database import Database
from pastefile.db.models import File
from pastefile.db.notifications import DownloadHistory
from pastefile.db.upsert import add_to
from pastefile.periodic import Flusher

log = logging.getLogger(__name__)
MAX_KEPT = 100_000
MAX_DAYS = 90


class GeoIP:
    """Country codes from a MaxMind ``.mmdb`` file (``PASTEFILE_GEOIP_DATABASE``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._reader: Any = None
        self._lock = threading.Lock()

    def country(self, address: str) -> str:
        reader = self._open()
        if reader is None:
            return ""
        try:
            found = reader.get(str(ipaddress.ip_address(address)))
        except ValueError:
            return ""
        code = ((found or {}).get("country") or {}).get("iso_code") if found else None
        return code.upper()[:2] if isinstance(code, str) else ""

    def _open(self) -> Any:
        if self.path is None or self._reader is False:
            return None
        with self._lock:
            if self._reader is None:
                self._reader = self._load()
        return self._reader or None

    def _load(self) -> Any:
        try:
            import maxminddb  # optional: only where a GeoIP database is configured

            return maxminddb.open_database(str(self.path))
        except Exception:
            log.warning("no GeoIP: cannot read %s", self.path, exc_info=True)
            return False


def today() -> date:
    return datetime.now(UTC).date()


class HistoryRecorder:
    def __init__(self, db: Database, geoip: GeoIP, interval: float) -> None:
        self.db = db
        self.geoip = geoip
        self.interval = interval
        self._lock = threading.Lock()
        self._counts: Counter[tuple[int, date, str]] = Counter()
        self._flusher = Flusher(self, "history-flusher", HistoryRecorder._after_fork)

    def record(self, file_id: int, address: str) -> None:
        key = (file_id, today(), self.geoip.country(address))
        with self._lock:
            if len(self._counts) < MAX_KEPT:
                self._counts[key] += 1
        self._flusher.start()

    def flush(self) -> int:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts:
            return 0
        rows = [
            {"file_id": f, "day": d, "country": c, "count": n}
            for (f, d, c), n in sorted(counts.items())
        ]
        table: Table = DownloadHistory.__table__  # type: ignore[assignment]
        try:
            with self.db.write() as session:
                live = set(
                    session.scalars(
                        select(File.id).where(
                            File.id.in_(padded(sorted({r["file_id"] for r in rows})))
                        )
                    )
                )
                rows = [r for r in rows if r["file_id"] in live]  # deleted meanwhile: dropped
                add_to(session, table, rows, ("file_id", "day", "country"), ("count",))
        except Exception:
            log.warning("download history: a batch could not be written", exc_info=True)
            with self._lock:
                self._counts.update(counts)
            return 0
        return len(rows)

    def history(self, file_id: int, days: int = 30) -> list[dict[str, Any]]:
        """Per day (newest first) and country, for the last ``days`` days."""
        since = today() - timedelta(days=min(days, MAX_DAYS) - 1)
        t = DownloadHistory
        query = (
            select(t.day, t.country, t.count)
            .where(t.file_id == file_id, t.day >= since)
            .order_by(t.day.desc(), t.count.desc())
        )
        with self.db.read() as session:
            return [
                {
                    "day": d.isoformat() if isinstance(d, date) else str(d)[:10],
                    "country": c or None,
                    "count": n,
                }
                for d, c, n in session.execute(query)
            ]

    def _after_fork(self) -> None:
        """In a forked child: the parent's counts are not ours."""
        self._lock = threading.Lock()
        self._counts = Counter()

    def close(self) -> None:
        self._flusher.stop()
        self.flush()
