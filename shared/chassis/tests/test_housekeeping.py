"""The messaging tables do not grow forever."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, insert, select

from clikopro_chassis.db import Database
from clikopro_chassis.housekeeping import forget_old_messages
from clikopro_chassis.messaging import inbox_messages, metadata, outbox_messages, utcnow


def test_old_published_outbox_rows_and_old_inbox_rows_are_deleted(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path}/db.sqlite3")
    metadata.create_all(database.engine)
    now = utcnow()
    days = dt.timedelta(days=1)
    with database.session() as session, session.begin():
        for i, (created, published) in enumerate(
            [(now - 10 * days, now - 10 * days), (now - 10 * days, None), (now, now)]
        ):  # old and published / old but never published / recent
            session.execute(
                insert(outbox_messages).values(
                    event_id=f"e{i}", event_type="T", routing_key="x.T", correlation_id="c", body="{}",
                    created_at=created, published_at=published,
                )
            )  # fmt: skip
        for i, processed in enumerate([now - 40 * days, now - 1 * days]):
            session.execute(
                insert(inbox_messages).values(
                    consumer="c", event_id=f"i{i}", event_type="T", processed_at=processed
                )
            )

    forget_old_messages(database, outbox_retention=3 * days, inbox_retention=30 * days)

    with database.session() as session:
        outbox_left = set(session.execute(select(outbox_messages.c.event_id)).scalars())
        inbox_left = session.execute(select(func.count()).select_from(inbox_messages)).scalar_one()
    assert outbox_left == {"e1", "e2"}  # an unpublished row is never deleted, however old
    assert inbox_left == 1
