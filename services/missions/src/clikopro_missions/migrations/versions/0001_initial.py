"""members projection, outbox and inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from clikopro_chassis.db import UtcDateTime
from clikopro_chassis.migrations import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1()
    op.create_table(
        "members",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("display_name", sa.String(210), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("members")
    drop_messaging_tables_v1()
