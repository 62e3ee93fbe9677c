"""Tables of the subscriptions database."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    false,
    text,
)

from clikopro_chassis.db import BigIntPK, UtcDateTime

metadata = MetaData()

#: A pro has at most one subscription in these states (the partial unique index below).
LIVE = "status IN ('active', 'cancel_pending', 'past_due')"

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("pro_id", Uuid, nullable=False),
    Column("plan", String(50), nullable=False),
    #: active, cancel_pending, past_due, lapsed (domain/lifecycle.py).
    Column("status", String(20), nullable=False),
    #: Price of a period when subscribed (what Stripe charges at each renewal).
    Column("price_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("stripe_customer_id", String(255), nullable=False),
    Column("stripe_subscription_id", String(255), nullable=False, unique=True),
    #: The paid period in force; it moves on when a renewal is paid.
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    #: The Stripe invoice that paid the period in force: a paid invoice we have not recorded is a renewal.
    Column("paid_invoice_id", String(255), nullable=True),
    #: past_due: when the renewal that failed was due (the retry window runs from it), and its invoice.
    Column("renewal_due_at", UtcDateTime, nullable=True),
    Column("failed_invoice_id", String(255), nullable=True),
    Column("activated_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("lapsed_at", UtcDateTime, nullable=True),
    Column("lapse_reason", String(20), nullable=True),
    #: When the entitlements in force took effect (the effective_at of the last event about them).
    Column("effective_at", UtcDateTime, nullable=False),
    #: Last time our state was compared with Stripe's.
    Column("synced_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    #: Optimistic lock: every change is ``UPDATE ... WHERE version = <read>``.
    Column("version", Integer, nullable=False),
    Index(
        "uq_subscriptions_live_pro",
        "pro_id",
        unique=True,
        postgresql_where=text(LIVE),
        sqlite_where=text(LIVE),
    ),
    Index("ix_subscriptions_pro", "pro_id", "activated_at"),
    # The jobs look for subscriptions by state and deadline.
    Index("ix_subscriptions_status_period_end", "status", "period_end"),
)

#: Every state change of a subscription: what, who, why (audit, support).
subscription_transitions = Table(
    "subscription_transitions",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("subscription_id", Uuid, nullable=False),
    Column("pro_id", Uuid, nullable=False),
    Column("command", String(20), nullable=False),
    Column("from_state", String(20), nullable=True),
    Column("to_state", String(20), nullable=False),
    #: pro, stripe or system; for a person, their id.
    Column("actor", String(10), nullable=False),
    Column("actor_id", Uuid, nullable=True),
    #: What caused it: ``stripe:<event id>``, ``request:<id>``, ``job:<name>``.
    Column("cause", String(300), nullable=True),
    #: Facts of the moment: invoice, amounts, periods, lapse reason.
    Column("detail", JSON, nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Index("ix_subscription_transitions_subscription", "subscription_id", "id"),
)

#: The Stripe customer of each pro (one for all their subscriptions).
customers = Table(
    "customers",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("stripe_customer_id", String(255), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

#: A subscription being set up at Stripe for a pro: the id it will have, the attempt (each attempt has its
#: own idempotency key at Stripe) and a lease, so that one request at a time talks to Stripe for a pro.
checkouts = Table(
    "checkouts",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("subscription_id", Uuid, nullable=False, unique=True),
    Column("plan", String(50), nullable=False),
    Column("attempt", Integer, nullable=False),
    #: The last attempt ended without an answer from Stripe: ask Stripe before trying again.
    Column("outcome_unknown", Boolean, nullable=False, server_default=false()),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Renewal notices sent (RenewalReminderDue): one per subscription and period.
renewal_reminders = Table(
    "renewal_reminders",
    metadata,
    Column("subscription_id", Uuid, primary_key=True),
    #: The renewal announced (the end of the period).
    Column("renews_at", UtcDateTime, primary_key=True),
    Column("pro_id", Uuid, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
)

#: Stripe events received (verified), each handled once.
stripe_events = Table(
    "stripe_events",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("stripe_subscription_id", String(255), nullable=True),
    #: Stripe's ``created`` (seconds since the epoch).
    Column("created", BigInteger, nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("outcome", Text, nullable=True),
)

#: Proposals each pro submitted per Paris calendar month (missions' ProposalSubmitted), for the
#: entitlements' ``proposals_used_this_month``. Missions enforces the quota; this is the pro's view of it.
proposal_counts = Table(
    "proposal_counts",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("used", Integer, nullable=False),
)
