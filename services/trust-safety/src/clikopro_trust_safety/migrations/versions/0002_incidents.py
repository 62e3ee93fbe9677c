"""incidents, their threads and attachments, the audit log, and the mission projection they need

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

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "missions",
        sa.Column("mission_id", sa.Uuid(), primary_key=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("pro_id", sa.Uuid(), nullable=True),
        sa.Column("payment_mode", sa.String(10), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("secured", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "mission_tasks",
        sa.Column("task_id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_at", UtcDateTime(), nullable=True),
        sa.Column("released", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("refunded_cents", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_index("ix_mission_tasks_mission", "mission_tasks", ["mission_id", "position"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("pro_id", sa.Uuid(), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=True),
        sa.Column("opened_by_role", sa.String(10), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("dispute_id", sa.String(100), nullable=True, unique=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("answer_due_at", UtcDateTime(), nullable=False),
        sa.Column("answered_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("resolution_task_ids", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_incidents_mission", "incidents", ["mission_id", "opened_at"])
    op.create_index("ix_incidents_queue", "incidents", ["status", "opened_at", "id"])
    op.create_table(
        "incident_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_role", sa.String(10), nullable=False),
        sa.Column("author_staff_role", sa.String(20), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_incident_messages_thread", "incident_messages", ["incident_id", "created_at", "id"])
    op.create_table(
        "incident_attachments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False, unique=True),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_incident_attachments_message", "incident_attachments", ["message_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", BIGINT_PK, primary_key=True, autoincrement=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target_type", sa.String(20), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id", "id"])


def downgrade() -> None:
    for table in ("audit_log", "incident_attachments", "incident_messages", "incidents"):
        op.drop_table(table)
    op.drop_table("mission_tasks")
    op.drop_table("missions")
