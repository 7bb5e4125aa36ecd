"""console users and sign-in sessions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 22:40:00

People sign in to the console (entrepot.web) with a user name and password, or with an API key. Users
have the roles and owners of API keys (the same check); only an argon2 hash of a password is kept. A
session keeps the SHA-256 of its cookie's token, never the token.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE_OWNER = (
    "(role = 'operator' AND seller_id IS NULL AND buyer_id IS NULL AND carrier IS NULL)"
    " OR (role = 'seller' AND seller_id IS NOT NULL AND buyer_id IS NULL AND carrier IS NULL)"
    " OR (role = 'buyer' AND buyer_id IS NOT NULL AND seller_id IS NULL AND carrier IS NULL)"
    " OR (role = 'carrier' AND carrier IS NOT NULL AND seller_id IS NULL AND buyer_id IS NULL)"
)
ONE_SUBJECT = "(user_id IS NOT NULL AND api_key_id IS NULL) OR (user_id IS NULL AND api_key_id IS NOT NULL)"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("seller_id", BigId, nullable=True),
        sa.Column("buyer_id", BigId, nullable=True),
        sa.Column("carrier", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(ROLE_OWNER, name=op.f("ck_users_role_owner")),
        sa.ForeignKeyConstraint(["seller_id"], ["sellers.id"], name=op.f("fk_users_seller_id_sellers")),
        sa.ForeignKeyConstraint(["buyer_id"], ["buyers.id"], name=op.f("fk_users_buyer_id_buyers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("public_id", name=op.f("uq_users_public_id")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_seller_id"), "users", ["seller_id"])
    op.create_index(op.f("ix_users_buyer_id"), "users", ["buyer_id"])
    op.create_table(
        "console_sessions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", BigId, nullable=True),
        sa.Column("api_key_id", BigId, nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(ONE_SUBJECT, name=op.f("ck_console_sessions_one_subject")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_console_sessions_user_id_users")),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name=op.f("fk_console_sessions_api_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sessions_token_hash")),
    )
    op.create_index(op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"])
    op.create_index(op.f("ix_console_sessions_api_key_id"), "console_sessions", ["api_key_id"])


def downgrade() -> None:
    op.drop_table("console_sessions")
    op.drop_table("users")
