"""Alembic, the same way in every service.

Each service keeps its migrations inside its package
(``<pkg>/migrations``) so that they ship with it, and its ``env.py`` is one
call to :func:`run_migrations`. The first migration of every service calls
:func:`create_messaging_tables_v1` for the outbox and inbox. Helpers are
versioned (``_v1``) because a migration, once released, must not change.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool

from clikopro_chassis.db import UtcDateTime, build_engine, normalise_url
from clikopro_chassis.messaging import metadata as messaging_metadata


def alembic_config(package: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(package: str, url: str, revision: str = "head") -> None:
    """``alembic upgrade head`` for the service ``package`` on the database at ``url``."""
    command.upgrade(alembic_config(package, url), revision)


def is_current(package: str, url: str) -> bool:
    """Whether the database is at the latest revision (a web pod waits for it before starting)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(package, url)).get_heads())
    engine = build_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads()) == heads
    finally:
        engine.dispose()


def run_migrations(target_metadata: MetaData | Sequence[MetaData]) -> None:
    """The body of a service's ``migrations/env.py``."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL (or sqlalchemy.url) to migrate")
    metadatas = list(target_metadata) if isinstance(target_metadata, Sequence) else [target_metadata]
    metadatas.append(messaging_metadata)
    if context.is_offline_mode():
        context.configure(url=normalise_url(url), target_metadata=metadatas, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = build_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadatas,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_messaging_tables_v1() -> None:
    """Create the outbox, inbox and idempotency-key tables (call from a migration's ``upgrade``)."""
    from alembic import op

    op.create_table(
        "outbox_messages",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_outbox_messages_pending",
        "outbox_messages",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_index("ix_outbox_messages_published_at", "outbox_messages", ["published_at"])
    op.create_table(
        "inbox_messages",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox_messages"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def drop_messaging_tables_v1() -> None:
    from alembic import op

    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("inbox_messages")
    op.drop_index("ix_outbox_messages_published_at", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_pending", table_name="outbox_messages")
    op.drop_table("outbox_messages")
