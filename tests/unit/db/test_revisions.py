"""The start-up schema check reads the shipped revisions without Alembic: the same as Alembic's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from pastefile.db import revisions
from pastefile.db.migrate import MIGRATIONS


def _alembic() -> tuple[frozenset[str], frozenset[str]]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    known = frozenset(rev.revision for rev in script.walk_revisions())
    return frozenset(script.get_heads()), known


def test_the_shipped_heads_and_revisions_are_alembics() -> None:
    assert revisions.shipped() == _alembic()


def _migration(folder: Path, name: str, down: str) -> None:
    (folder / f"{name}.py").write_text(
        f'"""{name}."""\nrevision: str = "{name}"\ndown_revision = {down}\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )


def test_branches_and_merges_give_alembics_heads(tmp_path: Path) -> None:
    _migration(tmp_path, "a1", "None")
    _migration(tmp_path, "b1", '"a1"')
    _migration(tmp_path, "c1", '("a1",)')
    _migration(tmp_path, "d1", '"a1"')
    _migration(tmp_path, "m1", '("b1", "c1")')
    (tmp_path / "helpers.py").write_text("x = 1\n", encoding="utf-8")
    heads, known = revisions.shipped(tmp_path)
    assert heads == {"m1", "d1"}
    assert known == {"a1", "b1", "c1", "d1", "m1"}


def test_the_schema_check_does_not_import_alembic() -> None:
    code = (
        "import sys; import pastefile.composition, pastefile.db.revisions;"
        "print(sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
