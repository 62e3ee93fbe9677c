"""contact details (identity's projection) and the private intervention address of a mission

Revision ID: 0004_contacts
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from clikopro_chassis.db import UtcDateTime

revision = "0004_contacts"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "mission_addresses",
        sa.Column("mission_id", sa.Uuid(), sa.ForeignKey("missions.id"), primary_key=True),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("details", sa.String(500), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("mission_addresses")
    op.drop_table("contacts")
