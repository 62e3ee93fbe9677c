"""onboarding reminders per pro, whether or not they have a connected account

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

# The tables as this revision knows them (not the models', which will change after it).
connected_accounts = sa.table(
    "connected_accounts",
    sa.column("pro_id", sa.Uuid()),
    sa.column("reminded_at", UtcDateTime()),
    sa.column("reminders", sa.Integer()),
)
onboarding_reminders = sa.table(
    "onboarding_reminders",
    sa.column("pro_id", sa.Uuid()),
    sa.column("last_reminded_at", UtcDateTime()),
    sa.column("reminders", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "onboarding_reminders",
        sa.Column("pro_id", sa.Uuid(), primary_key=True),
        sa.Column("last_reminded_at", UtcDateTime(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
    )
    # A pro never reminded has no row: the first reminder inserts it.
    op.execute(
        onboarding_reminders.insert().from_select(
            ["pro_id", "last_reminded_at", "reminders"],
            sa.select(
                connected_accounts.c.pro_id, connected_accounts.c.reminded_at, connected_accounts.c.reminders
            ).where(connected_accounts.c.reminded_at.is_not(None)),
        )
    )
    with op.batch_alter_table("connected_accounts") as batch:
        batch.drop_column("reminded_at")
        batch.drop_column("reminders")


def downgrade() -> None:
    with op.batch_alter_table("connected_accounts") as batch:
        batch.add_column(sa.Column("reminded_at", UtcDateTime(), nullable=True))
        # NOT NULL without a default, as 0002 made it: the default only fills the existing rows.
        batch.add_column(sa.Column("reminders", sa.Integer(), nullable=False, server_default=sa.text("0")))
    # The reminders of pros with no account are lost: 0002 had nowhere to keep them.
    of_pro = onboarding_reminders.c.pro_id == connected_accounts.c.pro_id
    op.execute(
        connected_accounts.update()
        .where(connected_accounts.c.pro_id.in_(sa.select(onboarding_reminders.c.pro_id)))
        .values(
            reminded_at=sa.select(onboarding_reminders.c.last_reminded_at).where(of_pro).scalar_subquery(),
            reminders=sa.select(onboarding_reminders.c.reminders).where(of_pro).scalar_subquery(),
        )
    )
    with op.batch_alter_table("connected_accounts") as batch:
        batch.alter_column("reminders", server_default=None)
    op.drop_table("onboarding_reminders")
