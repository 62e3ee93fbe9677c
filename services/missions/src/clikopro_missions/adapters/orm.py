"""Tables of the missions database."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, Uuid

from clikopro_chassis.db import UtcDateTime

metadata = MetaData()

#: Projection of identity's accounts: who is a client, who is a pro, and their
#: display names, kept from identity's events (never read from its database).
members = Table(
    "members",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("role", String(20), nullable=False),
    Column("display_name", String(210), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)
