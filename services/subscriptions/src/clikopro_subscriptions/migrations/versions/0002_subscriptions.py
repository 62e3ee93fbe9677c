"""subscriptions, their transitions, Stripe customers, checkouts, renewal notices, Stripe events,
proposal counts

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from clikopro_chassis.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE = "status IN ('active', 'cancel_pending', 'past_due')"
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("plan", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stripe_customer_id", sa.String(255), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(255), nullable=False, unique=True),
        sa.Column("period_start", UtcDateTime(), nullable=False),
        sa.Column("period_end", UtcDateTime(), nullable=False),
        sa.Column("paid_invoice_id", sa.String(255), nullable=True),
        sa.Column("renewal_due_at", UtcDateTime(), nullable=True),
        sa.Column("failed_invoice_id", sa.String(255), nullable=True),
        sa.Column("activated_at", UtcDateTime(), nullable=False),
        sa.Column("cancelled_at", UtcDateTime(), nullable=True),
        sa.Column("lapsed_at", UtcDateTime(), nullable=True),
        sa.Column("lapse_reason", sa.String(20), nullable=True),
        sa.Column("effective_at", UtcDateTime(), nullable=False),
        sa.Column("synced_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index(
        "uq_subscriptions_live_pro",
        "subscriptions",
        ["pro_id"],
        unique=True,
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )
    op.create_index("ix_subscriptions_pro", "subscriptions", ["pro_id", "activated_at"])
    op.create_index("ix_subscriptions_status_period_end", "subscriptions", ["status", "period_end"])

    op.create_table(
        "subscription_transitions",
        sa.Column("id", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("command", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(10), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("cause", sa.String(300), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
    )
    op.create_index(
        "ix_subscription_transitions_subscription", "subscription_transitions", ["subscription_id", "id"]
    )

    op.create_table(
        "customers",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("stripe_customer_id", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "checkouts",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("plan", sa.String(50), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome_unknown", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "renewal_reminders",
        sa.Column("subscription_id", sa.Uuid(), primary_key=True),
        sa.Column("renews_at", UtcDateTime(), primary_key=True),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("stripe_subscription_id", sa.String(255), nullable=True),
        sa.Column("created", sa.BigInteger(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
    )

    op.create_table(
        "proposal_counts",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("used", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("proposal_counts")
    op.drop_table("stripe_events")
    op.drop_table("renewal_reminders")
    op.drop_table("checkouts")
    op.drop_table("customers")
    op.drop_index("ix_subscription_transitions_subscription", table_name="subscription_transitions")
    op.drop_table("subscription_transitions")
    op.drop_index("ix_subscriptions_status_period_end", table_name="subscriptions")
    op.drop_index("ix_subscriptions_pro", table_name="subscriptions")
    op.drop_index("uq_subscriptions_live_pro", table_name="subscriptions")
    op.drop_table("subscriptions")
