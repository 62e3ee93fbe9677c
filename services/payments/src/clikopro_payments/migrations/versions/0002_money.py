"""payments, schedule, releases, refunds, ledger, connected accounts, projections, Stripe events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from clikopro_chassis.db import BigIntPK, UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commission_rates",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("plan", sa.String(50), nullable=False),
        sa.Column("commission_rate_bps", sa.Integer(), nullable=False),
        sa.Column("effective_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "connected_accounts",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("stripe_account_id", sa.String(255), nullable=False, unique=True),
        sa.Column("transfers_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("refreshed_at", UtcDateTime(), nullable=False),
        sa.Column("reminded_at", UtcDateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
    )
    op.create_table(
        "freezes",
        sa.Column("incident_id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
    )
    op.create_index("ix_freezes_mission_id", "freezes", ["mission_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("posting", sa.String(100), nullable=False),
        sa.Column("account", sa.String(20), nullable=False),
        sa.Column("direction", sa.String(6), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(255), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("posting", "account", "direction", name="uq_ledger_entries_posting"),
    )
    op.create_index("ix_ledger_entries_mission_id", "ledger_entries", ["mission_id"])
    op.create_table(
        "payment_tasks",
        sa.Column("mission_id", sa.Uuid()),
        sa.Column("task_id", sa.Uuid()),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("commission_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("mission_id", "task_id", name="pk_payment_tasks"),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("proposal_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("commission_rate_bps", sa.Integer(), nullable=False),
        sa.Column("commission_cents", sa.BigInteger(), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(255), nullable=True, unique=True),
        sa.Column("client_secret", sa.String(255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(255), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("last_failed_charge_id", sa.String(255), nullable=True),
        sa.Column("failure_code", sa.String(100), nullable=True),
        sa.Column("accepted_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("secured_at", UtcDateTime(), nullable=True),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("intent_cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_payments_client_id", "payments", ["client_id"])
    op.create_index("ix_payments_pro_id", "payments", ["pro_id"])
    op.create_table(
        "reconciliation_issues",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("found_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_reconciliation_issues_mission_id", "reconciliation_issues", ["mission_id"])
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False, unique=True),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stripe_refund_id", sa.String(255), nullable=True, unique=True),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("key_generation", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("refunded_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_refunds_mission_id", "refunds", ["mission_id"])
    op.create_index("ix_refunds_status", "refunds", ["status"])
    op.create_table(
        "releases",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("commission_cents", sa.BigInteger(), nullable=True),
        sa.Column("net_cents", sa.BigInteger(), nullable=True),
        sa.Column("transfer_id", sa.String(255), nullable=True, unique=True),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("key_generation", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.Column("released_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("mission_id", "task_id", name="uq_releases_mission_task"),
    )
    op.create_index("ix_releases_pro_id", "releases", ["pro_id"])
    op.create_index("ix_releases_status", "releases", ["status"])
    op.create_table(
        "stripe_events",
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("object_id", sa.String(255), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "suspensions",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("suspensions")
    op.drop_table("stripe_events")
    op.drop_table("releases")
    op.drop_table("refunds")
    op.drop_table("reconciliation_issues")
    op.drop_table("payments")
    op.drop_table("payment_tasks")
    op.drop_table("ledger_entries")
    op.drop_table("freezes")
    op.drop_table("connected_accounts")
    op.drop_table("commission_rates")
