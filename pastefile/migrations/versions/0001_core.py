"""core tables: blobs and files

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime, case_sensitive_id

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp() -> UTCDateTime:
    return UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mimetype", sa.String(127), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("public_id", case_sensitive_id(32), nullable=False, unique=True),
        sa.Column("short_code", case_sensitive_id(16), nullable=False, unique=True),
        sa.Column("filename", sa.Unicode(255), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("mimetype", sa.String(127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("dedup_key", sa.String(100), nullable=True, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
    )
    op.create_index("ix_files_sha256", "files", ["sha256"])
    op.create_index("ix_files_created_at", "files", ["created_at"])


def downgrade() -> None:
    op.drop_table("files")
    op.drop_table("blobs")
