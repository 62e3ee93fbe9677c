"""incidents projection (open incidents and the tasks they cover) and task releases

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from clikopro_chassis.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("released_at", UtcDateTime(), nullable=True))
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.Uuid(), primary_key=True),
        sa.Column("mission_id", sa.Uuid(), nullable=False),
        sa.Column("task_ids", sa.JSON(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=True),
        sa.Column("resolved_at", UtcDateTime(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
    )
    op.create_index("ix_incidents_mission", "incidents", ["mission_id"])


def downgrade() -> None:
    op.drop_table("incidents")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("released_at")
