"""Tables of the transactional outbox, the idempotent inbox and the
idempotency keys of HTTP requests.

They live in each service's own database (created by the service's first
Alembic migration through :mod:`clikopro_chassis.migrations`), so that an
event is written in the same transaction as the state change it reports, and
a processed event id in the same transaction as its effect.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text, text

from clikopro_chassis.db import BigIntPK, UtcDateTime

metadata = MetaData()

outbox_messages = Table(
    "outbox_messages",
    metadata,
    # The relay publishes in id order, which keeps each producer's order.
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("routing_key", String(200), nullable=False),
    Column("correlation_id", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Index(
        "ix_outbox_messages_pending",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
    Index("ix_outbox_messages_published_at", "published_at"),
)

inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
    # The primary key is the deduplication: a second insert of the same
    # (consumer, event) fails inside the handler's transaction.
    PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox_messages"),
)


idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # Who sent the key (user id, or "anonymous"): keys are only unique per caller.
    Column("scope", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    # Hash of method, path, query and body: the same key with another request is refused.
    Column("fingerprint", String(64), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    Index("ix_idempotency_keys_created_at", "created_at"),
)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
