"""missions, proposals, contracts, tasks, invoices, audit trail and the projections they need

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

BROWSABLE = "status = 'published' AND hidden = false"
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _browse_index(name, *columns):
    op.create_index(
        name,
        "missions",
        [*columns, "published_at", "id"],
        postgresql_where=sa.text(BROWSABLE),
        sqlite_where=sa.text(BROWSABLE),
    )


def upgrade() -> None:
    op.create_table(
        "missions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("trade", sa.String(50), nullable=False),
        sa.Column("postcode", sa.String(5), nullable=False),
        sa.Column("department", sa.String(3), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("wished_start", sa.Date(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    _browse_index("ix_missions_browse")
    _browse_index("ix_missions_browse_trade", "trade")
    _browse_index("ix_missions_browse_department", "department")
    _browse_index("ix_missions_browse_trade_department", "trade", "department")
    _browse_index("ix_missions_browse_postcode", "postcode")
    _browse_index("ix_missions_browse_trade_postcode", "trade", "postcode")
    op.create_index("ix_missions_client", "missions", ["client_id", "published_at", "id"])
    op.create_index("ix_missions_pro", "missions", ["pro_id", "published_at", "id"])
    op.create_index("ix_missions_status", "missions", ["status", "published_at", "id"])

    op.create_table(
        "transitions",
        sa.Column("id", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("command", sa.String(30), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(10), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_transitions_mission", "transitions", ["mission_id", "id"])

    op.create_table(
        "proposals",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), sa.ForeignKey("missions.id"), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_mode", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("submitted_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "uq_proposals_live",
        "proposals",
        ["mission_id", "pro_id"],
        unique=True,
        postgresql_where=sa.text("status = 'submitted'"),
        sqlite_where=sa.text("status = 'submitted'"),
    )
    op.create_index("ix_proposals_mission", "proposals", ["mission_id", "submitted_at"])
    op.create_index("ix_proposals_pro", "proposals", ["pro_id", "status"])

    op.create_table(
        "proposal_tasks",
        sa.Column("proposal_id", sa.Uuid(), sa.ForeignKey("proposals.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
    )

    op.create_table(
        "contracts",
        sa.Column("mission_id", sa.Uuid(), sa.ForeignKey("missions.id"), primary_key=True),
        sa.Column("proposal_id", sa.Uuid(), sa.ForeignKey("proposals.id"), nullable=False, unique=True),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("payment_mode", sa.String(10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("accepted_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), sa.ForeignKey("missions.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("submitted_at", UtcDateTime(), nullable=True),
        sa.Column("auto_validate_at", UtcDateTime(), nullable=True),
        sa.Column("reminded_at", UtcDateTime(), nullable=True),
        sa.Column("validated_at", UtcDateTime(), nullable=True),
        sa.Column("auto_validated", sa.Boolean(), nullable=True),
        sa.Column("contest_reason", sa.Text(), nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_tasks_mission", "tasks", ["mission_id", "position"], unique=True)
    op.create_index(
        "ix_tasks_submitted",
        "tasks",
        ["submitted_at"],
        postgresql_where=sa.text("status = 'submitted'"),
        sqlite_where=sa.text("status = 'submitted'"),
    )

    op.create_table(
        "task_reminders",
        sa.Column("task_id", sa.Uuid(), sa.ForeignKey("tasks.id"), primary_key=True),
        sa.Column("submission", sa.Integer(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("reminded_at", UtcDateTime(), nullable=False),
        sa.Column("auto_validate_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "proposal_counters",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("used", sa.Integer(), nullable=False),
    )

    op.create_table(
        "pro_plans",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("plan", sa.String(50), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("proposals_per_month", sa.Integer(), nullable=True),
        sa.Column("period_end", UtcDateTime(), nullable=True),
        sa.Column("effective_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "account_states",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
    )

    op.create_table(
        "payment_notices",
        sa.Column("mission_id", sa.Uuid(), primary_key=True),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("secured_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("applied_at", UtcDateTime(), nullable=True),
    )

    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), sa.ForeignKey("missions.id"), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False, unique=True),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_invoices_mission", "invoices", ["mission_id", "uploaded_at"])


def downgrade() -> None:
    op.drop_index("ix_invoices_mission", table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("payment_notices")
    op.drop_table("account_states")
    op.drop_table("pro_plans")
    op.drop_table("proposal_counters")
    op.drop_table("task_reminders")
    op.drop_index("ix_tasks_submitted", table_name="tasks")
    op.drop_index("ix_tasks_mission", table_name="tasks")
    op.drop_table("tasks")
    op.drop_table("contracts")
    op.drop_table("proposal_tasks")
    op.drop_index("ix_proposals_pro", table_name="proposals")
    op.drop_index("ix_proposals_mission", table_name="proposals")
    op.drop_index("uq_proposals_live", table_name="proposals")
    op.drop_table("proposals")
    op.drop_index("ix_transitions_mission", table_name="transitions")
    op.drop_table("transitions")
    for name in (
        "ix_missions_status",
        "ix_missions_pro",
        "ix_missions_client",
        "ix_missions_browse_trade_postcode",
        "ix_missions_browse_postcode",
        "ix_missions_browse_trade_department",
        "ix_missions_browse_department",
        "ix_missions_browse_trade",
        "ix_missions_browse",
    ):
        op.drop_index(name, table_name="missions")
    op.drop_table("missions")
