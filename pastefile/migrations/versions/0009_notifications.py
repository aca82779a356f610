"""notifications: webhook endpoints and deliveries, download alerts, download history

Revision ID: 0009_notifications
Revises: 0008_file_requests
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime

revision = "0009_notifications"
down_revision = "0008_file_requests"
branch_labels = None
depends_on = None


def _user(ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("owner_id", sa.Integer(), _user(), nullable=True),
        sa.Column("created_by", sa.Integer(), _user("SET NULL"), nullable=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.String(255), nullable=False),
        sa.Column("description", sa.Unicode(200), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Unicode(255), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_webhook_endpoints_owner_id", "webhook_endpoints", ["owner_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "endpoint_id",
            sa.Integer(),
            sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("msg_id", sa.String(40), nullable=False, unique=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Unicode(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "id"])
    op.create_table(
        "notification_addresses",
        sa.Column("user_id", sa.Integer(), _user(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "download_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), _user(), nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("label", sa.Unicode(255), nullable=False),
        sa.Column("first_sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_sent_at", UTCDateTime(), nullable=True),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "subject_type", "subject_id"),
    )
    op.create_index("ix_download_alerts_pending", "download_alerts", ["pending", "last_sent_at"])
    op.create_table(
        "download_history",
        sa.Column(
            "file_id",
            sa.Integer(),
            sa.ForeignKey("files.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("download_history")
    op.drop_index("ix_download_alerts_pending", table_name="download_alerts")
    op.drop_table("download_alerts")
    op.drop_table("notification_addresses")
    op.drop_index("ix_webhook_deliveries_endpoint", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_endpoints_owner_id", table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
