"""The schema revision check, without Alembic at run time.

Every process checks at start (and ``/readyz`` on demand) that the database's
revision is the one this code ships. Importing Alembic for that (with Mako and
Pygments behind it) costs each process ~12 MB that it never gives back, so the
shipped revisions are read straight from the migration files' ``revision`` and
``down_revision`` assignments, and the database's from ``alembic_version``.
``tests/unit/db/test_revisions.py`` holds this reading equal to Alembic's own.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text

from pastefile.db.database import Database

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class SchemaState:
    """The database's Alembic revisions next to the ones this code ships."""

    current: frozenset[str]
    heads: frozenset[str]
    known: frozenset[str]


def _names(node: ast.expr | None) -> frozenset[str]:
    """A ``down_revision`` value: None, one revision, or a tuple/list of them."""
    if node is None:
        return frozenset()
    value = ast.literal_eval(node)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(v) for v in value)


def _assignments(path: Path) -> dict[str, ast.expr | None]:
    """The module's top-level ``name = value`` (or ``name: type = value``) statements."""
    found: dict[str, ast.expr | None] = {}
    for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            found[stmt.target.id] = stmt.value
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name):
            found[stmt.targets[0].id] = stmt.value
    return found


@functools.cache
def shipped(versions: Path = VERSIONS) -> tuple[frozenset[str], frozenset[str]]:
    """(heads, every revision) of the migrations in ``versions``."""
    known: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        found = _assignments(path)
        if "revision" not in found:
            continue
        known |= _names(found["revision"])
        parents |= _names(found.get("down_revision"))
    return frozenset(known - parents), frozenset(known)


def current(db: Database) -> frozenset[str]:
    """The revisions the database is at; empty when it was never migrated."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return frozenset()
        rows = conn.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608
        return frozenset(str(row) for row in rows)


def schema_state(db: Database) -> SchemaState:
    heads, known = shipped()
    return SchemaState(current(db), heads, known)
