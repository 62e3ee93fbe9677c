"""Keeping the messaging tables small: a periodic job of every worker.

Published outbox rows are audit trail for ``OUTBOX_RETENTION_HOURS``, then
only weight; processed-event ids guard against redeliveries, which come within
minutes or hours, so they go after ``INBOX_RETENTION_DAYS``.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete

from clikopro_chassis.db import Database
from clikopro_chassis.jobs import PeriodicJob
from clikopro_chassis.messaging import inbox_messages, outbox_messages, utcnow

log = logging.getLogger(__name__)

EVERY_SECONDS = 300.0


def forget_old_messages(
    database: Database, outbox_retention: dt.timedelta, inbox_retention: dt.timedelta
) -> None:
    now = utcnow()
    with database.session() as session, session.begin():
        published = session.execute(
            delete(outbox_messages).where(
                outbox_messages.c.published_at.is_not(None),
                outbox_messages.c.published_at < now - outbox_retention,
            )
        ).rowcount
        processed = session.execute(
            delete(inbox_messages).where(inbox_messages.c.processed_at < now - inbox_retention)
        ).rowcount
    if published or processed:
        log.info("deleted %s published outbox rows and %s old inbox rows", published, processed)


def housekeeping_job(
    database: Database, outbox_retention: dt.timedelta, inbox_retention: dt.timedelta
) -> PeriodicJob:
    return PeriodicJob(
        "messaging-housekeeping",
        EVERY_SECONDS,
        lambda: forget_old_messages(database, outbox_retention, inbox_retention),
    )
