"""``pf ls``, ``pf info``, ``pf rm``: your files through /api/v1/files."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from pastefile_client.api import Api

stdout = Console(highlight=False, soft_wrap=True)


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def list_files(api: Api, limit: int, query: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while len(rows) < limit:
        params: dict[str, Any] = {"page": page, "per_page": min(100, limit)}
        if query:
            params["q"] = query
        batch = api.request("GET", "/api/v1/files", params=params).json()
        rows.extend(batch)
        if len(batch) < params["per_page"]:
            break
        page += 1
    return rows[:limit]


def print_table(rows: list[dict[str, Any]]) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("ID", "NAME", "SIZE", "CREATED", "VISIBILITY", "DOWNLOADS"):
        table.add_column(column, no_wrap=column != "NAME")
    for row in rows:
        table.add_row(
            row["id"],
            row["filename"] or "(encrypted)",
            human(int(row["size"])),
            str(row["created_at"])[:19].replace("T", " "),
            row["visibility"],
            str(row["downloads"])
            + (f"/{row['max_downloads']}" if row.get("max_downloads") else ""),
        )
    stdout.print(table)


def print_info(info: dict[str, Any]) -> None:
    fields = (
        "id",
        "filename",
        "size",
        "mimetype",
        "sha256",
        "visibility",
        "created_at",
        "expires_at",
        "downloads",
        "max_downloads",
        "password_protected",
        "encryption",
    )
    for key in fields:
        if key in info and info[key] is not None:
            stdout.print(f"{key + ':':<20}{info[key]}", markup=False)
    for key, link in (info.get("links") or {}).items():
        stdout.print(f"{'link ' + key + ':':<20}{link}", markup=False)
