"""accounts, API tokens, file limits, tombstones, moderation, resumable uploads

Revision ID: 0003_accounts
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from pastefile.db.types import UTCDateTime, case_sensitive_id

revision = "0003_accounts"
down_revision = "0001"
branch_labels = None
depends_on = None

_OWNER_FK = "fk_files_owner_id_users"


# Added one by one with plain ALTER TABLE ADD COLUMN: no table rebuild on
# SQLite, so tables another branch adds that point at ``files`` are untouched.
def _file_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("visibility", sa.String(16), nullable=False, server_default="public"),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("max_downloads", sa.Integer(), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("manage_token_hash", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    _create_users_and_tokens()
    _create_moderation_tables()
    _add_owner_column()
    for column in _file_columns():
        op.add_column("files", column)
    op.create_index("ix_files_expires_at", "files", ["expires_at"])
    op.create_index("ix_files_owner_created", "files", ["owner_id", "created_at"])


def _add_owner_column() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite can add a column with REFERENCES, but Alembic refuses to emit it.
        op.execute("ALTER TABLE files ADD COLUMN owner_id INTEGER REFERENCES users (id)")
        return
    op.add_column("files", sa.Column("owner_id", sa.Integer(), nullable=True))
    op.create_foreign_key(_OWNER_FK, "files", "users", ["owner_id"], ["id"])


def _create_users_and_tokens() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.Column("quota_files", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.Unicode(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])


def _create_moderation_tables() -> None:
    op.create_table(
        "blocked_hashes",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("reason", sa.Unicode(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "file_tombstones",
        sa.Column("public_id", case_sensitive_id(32), primary_key=True),
        sa.Column("short_code", case_sensitive_id(16), nullable=False, unique=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "tus_uploads",
        sa.Column("id", case_sensitive_id(32), primary_key=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Unicode(255), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("file_public_id", case_sensitive_id(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tus_uploads_owner_id", "tus_uploads", ["owner_id"])
    op.create_index("ix_tus_uploads_expires_at", "tus_uploads", ["expires_at"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(_OWNER_FK, "files", type_="foreignkey")
    op.drop_index("ix_files_owner_created", "files")
    op.drop_index("ix_files_expires_at", "files")
    with op.batch_alter_table("files") as batch:
        for column in reversed(_file_columns()):
            batch.drop_column(column.name)
        batch.drop_column("owner_id")
    for table in ("tus_uploads", "file_tombstones", "blocked_hashes", "api_tokens", "users"):
        op.drop_table(table)
