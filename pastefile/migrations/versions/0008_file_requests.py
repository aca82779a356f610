"""file requests: upload links for others, landing in the owner's collection

Revision ID: 0008_file_requests
Revises: 0007_collections
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime, case_sensitive_id

revision = "0008_file_requests"
down_revision = "0007_collections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("public_id", case_sensitive_id(32), nullable=False, unique=True),
        sa.Column("code", case_sensitive_id(32), nullable=False, unique=True),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "collection_id",
            sa.Integer(),
            sa.ForeignKey("collections.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("title", sa.Unicode(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("max_files", sa.Integer(), nullable=True),
        sa.Column("max_bytes", sa.BigInteger(), nullable=True),
        sa.Column("allowed_types", sa.String(1000), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("received_files", sa.Integer(), nullable=False),
        sa.Column("received_bytes", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_file_requests_owner_id", "file_requests", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_file_requests_owner_id", table_name="file_requests")
    op.drop_table("file_requests")
