"""image pipeline: the variants cache and the originals' EXIF summary

Revision ID: 0002_variants
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime

revision = "0002_variants"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "variants",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source_sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("params", sa.String(160), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("mimetype", sa.String(127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("source_sha256", "params", name="uq_variants_source_params"),
    )
    op.create_index("ix_variants_source_sha256", "variants", ["source_sha256"])
    op.create_index("ix_variants_sha256", "variants", ["sha256"])
    # A plain ADD COLUMN (no batch): SQLite does not rebuild ``files``, so
    # tables that other branches point at it stay untouched.
    op.add_column("files", sa.Column("exif", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.drop_column("exif")
    op.drop_table("variants")
