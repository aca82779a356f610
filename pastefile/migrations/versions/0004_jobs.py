"""background jobs and the scheduler's leader lease

Revision ID: 0004_jobs
Revises: 0003_accounts
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime

revision = "0004_jobs"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None


def _job_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("message", sa.Unicode(255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Unicode(1000), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("run_after", UTCDateTime(), nullable=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("task_id", sa.String(64), nullable=True),
        sa.Column("unique_key", sa.String(100), nullable=True, unique=True),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column(
            "file_id", sa.Integer(), sa.ForeignKey("files.id", ondelete="SET NULL"), nullable=True
        ),
    ]


def upgrade() -> None:
    op.create_table("jobs", *_job_columns())
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_file_id", "jobs", ["file_id"])
    op.create_index("ix_jobs_owner_created", "jobs", ["owner_id", "created_at"])
    op.create_index("ix_jobs_kind_status", "jobs", ["kind", "status"])
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_table("jobs")
