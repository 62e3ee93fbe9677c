"""Tables of the identity database."""

from __future__ import annotations

from sqlalchemy import JSON, Column, MetaData, String, Table, Uuid

from clikopro_chassis.db import UtcDateTime

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    # Stored normalised (lower case): the unique index is the case-insensitive uniqueness.
    Column("email", String(320), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("profile", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
