"""The restore procedure of docs/operations.md, played on a real database: a migrated service
database with data is dumped (pg_dump, custom format), restored into a new database (pg_restore),
and the restored one has the data, the schema at the latest revision, and works for the service."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from clikopro_chassis import migrations
from clikopro_chassis.db import Database
from clikopro_chassis.messaging import inbox_messages, outbox_messages

pytestmark = pytest.mark.integration
SERVICE_PACKAGE = "clikopro_missions"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is missing (Debian's postgresql-client)")
    pytest.skip(f"{name} is not installed")


def libpq(url: str) -> str:
    """The URL as pg_dump reads it (no SQLAlchemy driver name)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_dump_of_a_service_database_restores_into_a_new_database_with_its_data(
    postgres_databases, tmp_path: Path
) -> None:
    source_url = postgres_databases.create(f"missions_{uuid.uuid4().hex[:6]}")
    migrations.upgrade(SERVICE_PACKAGE, source_url)
    source = Database(source_url)
    event_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    with source.session() as session, session.begin():
        session.execute(
            sa.insert(outbox_messages).values(
                event_id=event_id, event_type="MissionPublished", routing_key="missions.MissionPublished",
                correlation_id="backup-test", body='{"kept": "é"}', created_at=now,
            )
        )  # fmt: skip
        session.execute(
            sa.insert(inbox_messages).values(
                consumer="missions", event_id=event_id, event_type="UserRegistered", processed_at=now
            )
        )
    source.dispose()

    dump = tmp_path / "missions.dump"
    # What the nightly logical backup runs (docs/operations.md): custom format, no owner/privileges
    # so that it restores under another role.
    subprocess.run(
        [tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}",
         libpq(source_url)],
        check=True, timeout=120,
    )  # fmt: skip
    assert dump.stat().st_size > 0

    target_url = postgres_databases.create(f"missions_restored_{uuid.uuid4().hex[:6]}")
    subprocess.run(
        [tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         f"--dbname={libpq(target_url)}", str(dump)],
        check=True, timeout=120,
    )  # fmt: skip

    restored = Database(target_url)
    try:
        with restored.session() as session:
            row = session.execute(
                sa.select(outbox_messages).where(outbox_messages.c.event_id == event_id)
            ).one()
            assert row.body == '{"kept": "é"}' and row.published_at is None  # still to publish
            assert session.execute(sa.select(sa.func.count()).select_from(inbox_messages)).scalar_one() == 1
            # The identity sequence came back too: a new outbox row does not collide with the restored one.
            session.execute(
                sa.insert(outbox_messages).values(
                    event_id=str(uuid.uuid4()), event_type="MissionPublished", correlation_id="after-restore",
                    routing_key="missions.MissionPublished", body="{}", created_at=now,
                )
            )  # fmt: skip
            session.commit()
    finally:
        restored.dispose()
    assert migrations.is_current(SERVICE_PACKAGE, target_url)
