"""stats: daily counters per file, unique visitors, active users, salts, reports

Revision ID: 0005_stats
Revises: 0004_jobs
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime

revision = "0005_stats"
down_revision = "0004_jobs"
branch_labels = None
depends_on = None


def _file_id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "file_id",
        sa.Integer(),
        sa.ForeignKey("files.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "file_daily_stats",
        _file_id(),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_file_daily_stats_day", "file_daily_stats", ["day"])
    op.create_table(
        "file_daily_visitors",
        _file_id(),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("visitor", sa.String(32), primary_key=True),
    )
    op.create_table(
        "user_daily_activity",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "stats_salts",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("salt", sa.String(64), nullable=False),
    )
    _reports()


def _reports() -> None:
    op.create_table(
        "stats_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        # A foreign key, so gc keeps the report's .xlsx blob alive.
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blobs.sha256"), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("recipients", sa.Unicode(1000), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_stats_reports_created_at", "stats_reports", ["created_at"])


def downgrade() -> None:
    op.drop_table("stats_reports")
    op.drop_table("stats_salts")
    op.drop_table("user_daily_activity")
    op.drop_table("file_daily_visitors")
    op.drop_table("file_daily_stats")
