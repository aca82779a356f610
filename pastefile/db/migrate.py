"""Run the Alembic migrations shipped inside the package."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pastefile.db.database import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` over the app's own engine settings."""
    config = _config()
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def downgrade(db: Database, revision: str) -> None:
    config = _config()
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        conn.commit()


@dataclass(frozen=True)
class SchemaState:
    """The database's Alembic revisions next to the ones this code ships."""

    current: frozenset[str]
    heads: frozenset[str]
    known: frozenset[str]


@functools.cache
def _shipped() -> tuple[frozenset[str], frozenset[str]]:
    script = ScriptDirectory.from_config(_config())
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return frozenset(script.get_heads()), known


def schema_state(db: Database) -> SchemaState:
    heads, known = _shipped()
    with db.engine.connect() as conn:
        current = frozenset(MigrationContext.configure(conn).get_current_heads())
    return SchemaState(current, heads, known)
