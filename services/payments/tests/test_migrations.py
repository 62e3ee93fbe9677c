"""Payments' migrations that move data, on SQLite and PostgreSQL: 0003 moves the onboarding
reminders off the connected accounts into a row per pro reminded, and back on downgrade."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from clikopro_chassis import migrations
from clikopro_chassis.db import UtcDateTime, normalise_url
from clikopro_payments.adapters.orm import onboarding_reminders

PACKAGE = "clikopro_payments"

#: ``connected_accounts`` as revision 0002 made it.
accounts_0002 = sa.table(
    "connected_accounts",
    sa.column("pro_id", sa.Uuid()),
    sa.column("stripe_account_id", sa.String()),
    sa.column("transfers_enabled", sa.Boolean()),
    sa.column("details_submitted", sa.Boolean()),
    sa.column("payouts_enabled", sa.Boolean()),
    sa.column("created_at", UtcDateTime()),
    sa.column("refreshed_at", UtcDateTime()),
    sa.column("reminded_at", UtcDateTime()),
    sa.column("reminders", sa.Integer()),
)


def account(pro_id: uuid.UUID, at: dt.datetime, reminded_at: dt.datetime | None, reminders: int) -> dict:
    return {
        "pro_id": pro_id,
        "stripe_account_id": f"acct_{pro_id.hex[:16]}",
        "transfers_enabled": False,
        "details_submitted": False,
        "payouts_enabled": False,
        "created_at": at,
        "refreshed_at": at,
        "reminded_at": reminded_at,
        "reminders": reminders,
    }


def check_reminders_move_and_come_back(url: str) -> None:
    at = dt.datetime(2025, 5, 20, 9, 35, tzinfo=dt.UTC)
    reminded, never_reminded, without_account = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    migrations.upgrade(PACKAGE, url, "0002")
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(accounts_0002),
                [account(reminded, at, at, 3), account(never_reminded, at, None, 0)],
            )

        migrations.upgrade(PACKAGE, url)
        with engine.begin() as conn:
            moved = [dict(r) for r in conn.execute(sa.select(onboarding_reminders)).mappings()]
            assert moved == [{"pro_id": reminded, "last_reminded_at": at, "reminders": 3}]
            conn.execute(
                sa.insert(onboarding_reminders).values(
                    pro_id=without_account, last_reminded_at=at, reminders=1
                )
            )

        command.downgrade(migrations.alembic_config(PACKAGE, url), "0002")
        with engine.connect() as conn:
            back = {
                r["pro_id"]: (r["reminded_at"], r["reminders"])
                for r in conn.execute(sa.select(accounts_0002)).mappings()
            }
        # The pro without an account had no place to keep a reminder before 0003.
        assert back == {reminded: (at, 3), never_reminded: (None, 0)}
    finally:
        engine.dispose()
    migrations.upgrade(PACKAGE, url)  # and up again, with the restored columns


def test_reminders_move_to_their_table_and_back_on_sqlite(tmp_path: Path) -> None:
    check_reminders_move_and_come_back(f"sqlite:///{tmp_path}/payments.sqlite3")


@pytest.mark.integration
def test_reminders_move_to_their_table_and_back_on_postgresql(postgres_databases) -> None:
    check_reminders_move_and_come_back(postgres_databases.create(f"payments_{uuid.uuid4().hex[:6]}"))
