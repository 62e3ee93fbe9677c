"""Tables of the payments database."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from clikopro_chassis.db import BigIntPK, UtcDateTime

metadata = MetaData()

#: One per mission whose contract was accepted: its mode, amounts, and the client's PaymentIntent.
#: Also the projection of ProposalAccepted that says who the client and the pro are.
payments = Table(
    "payments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("mission_id", Uuid, nullable=False, unique=True),
    Column("proposal_id", Uuid, nullable=False),
    Column("client_id", Uuid, nullable=False, index=True),
    Column("pro_id", Uuid, nullable=False, index=True),
    # "secure" | "direct"
    Column("mode", String(10), nullable=False),
    Column("status", String(30), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("commission_rate_bps", Integer, nullable=False),
    Column("commission_cents", BigInteger, nullable=False),
    Column("stripe_payment_intent_id", String(255), nullable=True, unique=True),
    Column("client_secret", String(255), nullable=True),
    Column("stripe_charge_id", String(255), nullable=True),
    Column("failed_attempts", Integer, nullable=False),
    Column("last_failed_charge_id", String(255), nullable=True),
    Column("failure_code", String(100), nullable=True),
    Column("accepted_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("secured_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("intent_cancelled_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: The contract's payment schedule and each task's share of the commission (fixed at acceptance).
payment_tasks = Table(
    "payment_tasks",
    metadata,
    Column("mission_id", Uuid, nullable=False),
    Column("task_id", Uuid, nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("commission_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("mission_id", "task_id", name="pk_payment_tasks"),
)

#: One per task at most (the unique constraint is the "never a double payout" of R10).
releases = Table(
    "releases",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("mission_id", Uuid, nullable=False),
    Column("task_id", Uuid, nullable=False),
    Column("pro_id", Uuid, nullable=False, index=True),
    Column("status", String(30), nullable=False),
    # Gross amount to release (the task's, less what an incident refunded of it).
    Column("amount_cents", BigInteger, nullable=False),
    Column("commission_cents", BigInteger, nullable=True),
    Column("net_cents", BigInteger, nullable=True),
    Column("transfer_id", String(255), nullable=True, unique=True),
    # Who holds the claim while the transfer is made (a stale claim is re-checked at Stripe).
    Column("claim_token", String(36), nullable=True),
    Column("attempts", Integer, nullable=False),
    # Bumped when Stripe has answered the current idempotency key with a refusal.
    Column("key_generation", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("released_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("mission_id", "task_id", name="uq_releases_mission_task"),
    Index("ix_releases_status", "status"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("mission_id", Uuid, nullable=False, index=True),
    Column("payment_id", Uuid, nullable=False),
    # "incident:<id>" or "cancelled:<mission id>": one refund per decision.
    Column("reference", String(100), nullable=False, unique=True),
    Column("reason", String(30), nullable=False),
    Column("incident_id", Uuid, nullable=True),
    Column("amount_cents", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("stripe_refund_id", String(255), nullable=True, unique=True),
    Column("claim_token", String(36), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("key_generation", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("refunded_at", UtcDateTime, nullable=True),
    Index("ix_refunds_status", "status"),
)

#: Double-entry ledger per mission (domain/ledger.py); a posting is written once (its group).
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("mission_id", Uuid, nullable=False, index=True),
    # "capture:<payment id>", "release:<task id>", "refund:<refund id>"
    Column("posting", String(100), nullable=False),
    Column("account", String(20), nullable=False),
    Column("direction", String(6), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("reference", String(255), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("posting", "account", "direction", name="uq_ledger_entries_posting"),
)

connected_accounts = Table(
    "connected_accounts",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("stripe_account_id", String(255), nullable=False, unique=True),
    Column("transfers_enabled", Boolean, nullable=False),
    Column("details_submitted", Boolean, nullable=False),
    Column("payouts_enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("refreshed_at", UtcDateTime, nullable=False),
)

#: Reminders to finish payout onboarding, per pro whose released money waits for it: kept apart
#: from ``connected_accounts`` because a pro who never started onboarding has no account row, and
#: they are reminded (at most once per interval) all the same.
onboarding_reminders = Table(
    "onboarding_reminders",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("last_reminded_at", UtcDateTime, nullable=False),
    Column("reminders", Integer, nullable=False),
)

#: The pro's commission rate, from subscriptions' events (newest effective_at wins).
commission_rates = Table(
    "commission_rates",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("plan", String(50), nullable=False),
    Column("commission_rate_bps", Integer, nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
)

#: Trust & safety's suspensions (newest change wins).
suspensions = Table(
    "suspensions",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("suspended", Boolean, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

#: Incidents that freeze a mission's releases while open.
freezes = Table(
    "freezes",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("mission_id", Uuid, nullable=False, index=True),
    Column("opened_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("outcome", String(20), nullable=True),
)

#: Stripe events received (deduplicated by id) and what became of them.
stripe_events = Table(
    "stripe_events",
    metadata,
    Column("event_id", String(255), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("object_id", String(255), nullable=True),
    Column("created", BigInteger, nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

#: Differences between our ledger and Stripe found by the reconciliation (the latest run per mission).
reconciliation_issues = Table(
    "reconciliation_issues",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("mission_id", Uuid, nullable=False, index=True),
    Column("kind", String(50), nullable=False),
    Column("detail", Text, nullable=False),
    Column("found_at", UtcDateTime, nullable=False),
)
