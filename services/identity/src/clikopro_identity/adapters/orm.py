"""Tables of the identity database."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, Index, MetaData, String, Table, Text, Uuid

from clikopro_chassis.db import BigIntPK, UtcDateTime

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
    # E.164; staff accounts may have none.
    Column("phone", String(32), nullable=True),
    Column("password_hash", String(200), nullable=False),
    Column("profile", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("verified_at", UtcDateTime, nullable=True),
    Column("insurance_valid_until", Date, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
)

#: Signing keys of the access tokens. The private key is kept here (PEM); in production it
#: belongs in a KMS or secret store, with only its id here.
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("private_key_pem", Text, nullable=False),
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Signs from then on (after every verifier could have fetched it).
    Column("activates_at", UtcDateTime, nullable=False),
    # Published in the JWKS until then (set when a newer key replaces it).
    Column("retires_at", UtcDateTime, nullable=True),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("family_id", Uuid, nullable=False, index=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_reason", String(40), nullable=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    # "account" (the normalised e-mail tried) or "ip".
    Column("scope", String(10), nullable=False),
    Column("key", String(320), nullable=False),
    Column("failed_at", UtcDateTime, nullable=False),
    Index("ix_login_failures_scope_key_failed_at", "scope", "key", "failed_at"),
)

#: Identity's copy of trust & safety's suspensions (AccountSuspended / AccountReinstated).
suspensions = Table(
    "suspensions",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("suspended", Boolean, nullable=False),
    Column("reason", String(1000), nullable=True),
    Column("until", UtcDateTime, nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
)
