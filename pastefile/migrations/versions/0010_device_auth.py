"""device auth: end-to-end encrypted files, a second-factor marker, device authorizations

Revision ID: 0010_device_auth
Revises: 0006_sessions
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime

revision = "0010_device_auth"
down_revision = "0006_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "files", sa.Column("encrypted", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("second_factor", sa.String(32), nullable=True))
    op.create_table(
        "device_authorizations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("device_code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("device_name", sa.Unicode(64), nullable=True),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_device_authorizations_expires_at", "device_authorizations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_device_authorizations_expires_at", table_name="device_authorizations")
    op.drop_table("device_authorizations")
    op.drop_column("users", "second_factor")
    op.drop_column("files", "encrypted")
