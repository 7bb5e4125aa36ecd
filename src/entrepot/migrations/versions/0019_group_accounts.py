"""group accounts: equity-method investees, programmes, and more kinds of published figure

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:30:00

Investees (Ant Group) with dated stakes, imported quarterly results and impairments; investment
programmes with their commitments, spend and outcome targets. Published actuals may now be adjusted
EBITA (a loss is negative) and the share of revenue earned outside China (whole per cent).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from entrepot.platform.db import BigId, UtcDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METRICS_BEFORE = "metric IN ('gmv','revenue','active_consumers')"
METRICS_AFTER = "metric IN ('gmv', 'revenue', 'active_consumers', 'adjusted_ebita', 'revenue_abroad_pct')"


def _metrics(check: str) -> None:
    with op.batch_alter_table("reporting_external_actuals") as batch_op:
        batch_op.drop_constraint(op.f("ck_reporting_external_actuals_metric"), type_="check")
        batch_op.create_check_constraint(op.f("ck_reporting_external_actuals_metric"), sa.text(check))


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, autoincrement=True, nullable=False)


def _owned(name: str, owner: str) -> list[sa.Constraint]:
    """The primary key, and the foreign key to the owner with its index."""
    return [
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.ForeignKeyConstraint(
            [f"{owner}_id"], [f"accounts_{owner}s.id"], name=op.f(f"fk_{name}_{owner}_id_accounts_{owner}s")
        ),
    ]


def upgrade() -> None:
    _metrics(METRICS_AFTER)
    op.create_table(
        "accounts_investees",
        _id(),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lag_quarters", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.CheckConstraint("lag_quarters BETWEEN 0 AND 4", name=op.f("ck_accounts_investees_lag")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts_investees")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_investees_code")),
        sa.UniqueConstraint("public_id", name=op.f("uq_accounts_investees_public_id")),
    )
    op.create_table(
        "accounts_investee_stakes",
        _id(),
        sa.Column("investee_id", BigId, nullable=False),
        sa.Column("share", sa.Numeric(7, 6), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.CheckConstraint("share >= 0 AND share <= 1", name=op.f("ck_accounts_investee_stakes_share")),
        *_owned("accounts_investee_stakes", "investee"),
        sa.UniqueConstraint(
            "investee_id", "valid_from", name=op.f("uq_accounts_investee_stakes_investee_id_valid_from")
        ),
    )
    op.create_table(
        "accounts_investee_results",
        _id(),
        sa.Column("investee_id", BigId, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("net_income_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("imported_at", UtcDateTime, nullable=False),
        *_owned("accounts_investee_results", "investee"),
        sa.UniqueConstraint(
            "investee_id", "period", name=op.f("uq_accounts_investee_results_investee_id_period")
        ),
    )
    op.create_table(
        "accounts_investee_impairments",
        _id(),
        sa.Column("investee_id", BigId, nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_accounts_investee_impairments_positive")),
        *_owned("accounts_investee_impairments", "investee"),
    )
    op.create_table(
        "accounts_programmes",
        _id(),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("countries", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_programmes_code")),
        sa.UniqueConstraint("public_id", name=op.f("uq_accounts_programmes_public_id")),
    )
    op.create_table(
        "accounts_programme_spend",
        _id(),
        sa.Column("programme_id", BigId, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("committed_minor", sa.BigInteger(), nullable=False),
        sa.Column("spent_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.CheckConstraint(
            "committed_minor >= 0 AND spent_minor >= 0", name=op.f("ck_accounts_programme_spend_amounts")
        ),
        *_owned("accounts_programme_spend", "programme"),
        sa.UniqueConstraint(
            "programme_id", "period", name=op.f("uq_accounts_programme_spend_programme_id_period")
        ),
    )
    op.create_table(
        "accounts_programme_targets",
        _id(),
        sa.Column("programme_id", BigId, nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.CheckConstraint("value > 0", name=op.f("ck_accounts_programme_targets_positive")),
        *_owned("accounts_programme_targets", "programme"),
        sa.UniqueConstraint(
            "programme_id",
            "metric",
            "due_on",
            name=op.f("uq_accounts_programme_targets_programme_id_metric_due_on"),
        ),
    )
    for table, owner in (
        ("accounts_investee_stakes", "investee"),
        ("accounts_investee_results", "investee"),
        ("accounts_investee_impairments", "investee"),
        ("accounts_programme_spend", "programme"),
        ("accounts_programme_targets", "programme"),
    ):
        op.create_index(op.f(f"ix_{table}_{owner}_id"), table, [f"{owner}_id"])


def downgrade() -> None:
    for table in (
        "accounts_programme_targets",
        "accounts_programme_spend",
        "accounts_programmes",
        "accounts_investee_impairments",
        "accounts_investee_results",
        "accounts_investee_stakes",
        "accounts_investees",
    ):
        op.drop_table(table)
    _metrics(METRICS_BEFORE)
