"""Tables of the missions database."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
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

#: Projection of identity's contact details (UserRegistered, then ContactDetailsChanged; the newest
#: ``changed_at`` wins). Shown only to the other party of a contract, once contact is allowed (R19).
contacts = Table(
    "contacts",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("phone", String(32), nullable=True),
    Column("changed_at", UtcDateTime, nullable=False),
)

#: Browsing shows published missions whose client is not suspended: every browse index is partial on it.
BROWSABLE = "status = 'published' AND hidden = false"


def _browse_index(name: str, *columns: str) -> Index:
    return Index(
        name,
        *columns,
        "published_at",
        "id",
        postgresql_where=text(BROWSABLE),
        sqlite_where=text(BROWSABLE),
    )


missions = Table(
    "missions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("client_id", Uuid, nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("trade", String(50), nullable=False),
    Column("postcode", String(5), nullable=False),
    Column("department", String(3), nullable=False),
    Column("budget_cents", BigInteger, nullable=True),
    Column("currency", String(3), nullable=False),
    Column("wished_start", Date, nullable=True),
    Column("status", String(20), nullable=False),
    #: The contracted professional, once a proposal is accepted.
    Column("pro_id", Uuid, nullable=True),
    #: True while the client is suspended (EVENTS.md flow 5): the mission leaves the listings.
    Column("hidden", Boolean, nullable=False, server_default=false()),
    Column("published_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    #: Optimistic lock: every change is ``UPDATE ... WHERE version = <read>``.
    Column("version", Integer, nullable=False),
    # Keyset pagination on (published_at, id), newest first; PostgreSQL scans these backwards.
    _browse_index("ix_missions_browse"),
    _browse_index("ix_missions_browse_trade", "trade"),
    _browse_index("ix_missions_browse_department", "department"),
    _browse_index("ix_missions_browse_trade_department", "trade", "department"),
    _browse_index("ix_missions_browse_postcode", "postcode"),
    _browse_index("ix_missions_browse_trade_postcode", "trade", "postcode"),
    Index("ix_missions_client", "client_id", "published_at", "id"),
    Index("ix_missions_pro", "pro_id", "published_at", "id"),
    Index("ix_missions_status", "status", "published_at", "id"),
)

#: Where the work is done, given by the client at publication: private, apart from the public mission row,
#: shown only to the contracted pro (and the client) once contact is allowed.
mission_addresses = Table(
    "mission_addresses",
    metadata,
    Column("mission_id", Uuid, ForeignKey("missions.id"), primary_key=True),
    Column("street", String(200), nullable=False),
    Column("city", String(100), nullable=False),
    Column("details", String(500), nullable=True),
)

#: Every state change of a mission, a proposal or a task: who, when, from, to (audit, disputes).
transitions = Table(
    "transitions",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("mission_id", Uuid, nullable=False),
    Column("entity", String(20), nullable=False),
    Column("entity_id", Uuid, nullable=False),
    Column("command", String(30), nullable=False),
    Column("from_state", String(20), nullable=True),
    Column("to_state", String(20), nullable=False),
    #: The caller's relation (client, pro, staff, system) and, for a person, their id and role.
    Column("actor", String(10), nullable=False),
    Column("actor_id", Uuid, nullable=True),
    Column("actor_role", String(20), nullable=True),
    Column("reason", Text, nullable=True),
    Column("occurred_at", UtcDateTime, nullable=False),
    Index("ix_transitions_mission", "mission_id", "id"),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("mission_id", Uuid, ForeignKey("missions.id"), nullable=False),
    Column("pro_id", Uuid, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_mode", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(20), nullable=False),
    #: True while the pro is suspended: the proposal leaves the client's list and cannot be accepted.
    Column("hidden", Boolean, nullable=False, server_default=false()),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    # One live proposal per pro per mission.
    Index(
        "uq_proposals_live",
        "mission_id",
        "pro_id",
        unique=True,
        postgresql_where=text("status = 'submitted'"),
        sqlite_where=text("status = 'submitted'"),
    ),
    Index("ix_proposals_mission", "mission_id", "submitted_at"),
    Index("ix_proposals_pro", "pro_id", "status"),
)

proposal_tasks = Table(
    "proposal_tasks",
    metadata,
    Column("proposal_id", Uuid, ForeignKey("proposals.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("due_date", Date, nullable=False),
)

#: The concluded contract: an immutable snapshot of the accepted proposal (written once, never updated).
contracts = Table(
    "contracts",
    metadata,
    Column("mission_id", Uuid, ForeignKey("missions.id"), primary_key=True),
    Column("proposal_id", Uuid, ForeignKey("proposals.id"), nullable=False, unique=True),
    Column("client_id", Uuid, nullable=False),
    Column("pro_id", Uuid, nullable=False),
    Column("payment_mode", String(10), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    #: The accepted terms as they were: message, amounts, tasks with their ids and positions.
    Column("terms", JSON, nullable=False),
    Column("accepted_at", UtcDateTime, nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("mission_id", Uuid, ForeignKey("missions.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("submitted_at", UtcDateTime, nullable=True),
    #: When the current submission is validated if the client does nothing (announced in TaskSubmitted).
    Column("auto_validate_at", UtcDateTime, nullable=True),
    #: When the client was reminded of the current submission.
    Column("reminded_at", UtcDateTime, nullable=True),
    Column("validated_at", UtcDateTime, nullable=True),
    Column("auto_validated", Boolean, nullable=True),
    Column("contest_reason", Text, nullable=True),
    Column("submissions", Integer, nullable=False),
    #: FundsReleased seen (payments): the task's money went to the pro; an incident's refund leaves it be.
    Column("released_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_tasks_mission", "mission_id", "position", unique=True),
    # The worker's job looks for submitted tasks by deadline.
    Index(
        "ix_tasks_submitted",
        "submitted_at",
        postgresql_where=text("status = 'submitted'"),
        sqlite_where=text("status = 'submitted'"),
    ),
)

#: Reminders of a submitted task to its client, one per submission, each with its TaskValidationReminderDue.
task_reminders = Table(
    "task_reminders",
    metadata,
    Column("task_id", Uuid, ForeignKey("tasks.id"), primary_key=True),
    Column("submission", Integer, primary_key=True),
    Column("mission_id", Uuid, nullable=False),
    Column("client_id", Uuid, nullable=False),
    Column("reminded_at", UtcDateTime, nullable=False),
    Column("auto_validate_at", UtcDateTime, nullable=False),
)

#: Proposals submitted per pro per Paris calendar month; the quota is one atomic upsert on this row.
proposal_counters = Table(
    "proposal_counters",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("used", Integer, nullable=False),
)

#: Projection of subscriptions' entitlements per pro (newest effective_at wins).
pro_plans = Table(
    "pro_plans",
    metadata,
    Column("pro_id", Uuid, primary_key=True),
    Column("plan", String(50), nullable=False),
    Column("features", JSON, nullable=False),
    Column("proposals_per_month", Integer, nullable=True),
    Column("period_end", UtcDateTime, nullable=True),
    Column("effective_at", UtcDateTime, nullable=False),
)

#: Projection of trust & safety's suspensions (newest change wins).
account_states = Table(
    "account_states",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("suspended", Boolean, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
)

#: PaymentSecured as received; applied when the mission is awaiting payment (it may come first).
payment_notices = Table(
    "payment_notices",
    metadata,
    Column("mission_id", Uuid, primary_key=True),
    Column("payment_id", Uuid, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("secured_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("applied_at", UtcDateTime, nullable=True),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("mission_id", Uuid, ForeignKey("missions.id"), nullable=False),
    Column("pro_id", Uuid, nullable=False),
    #: Generated by the service, never the uploader's file name.
    Column("storage_key", String(200), nullable=False, unique=True),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_invoices_mission", "mission_id", "uploaded_at"),
)

#: Projection of trust & safety's incidents: which are open on a mission and which tasks they cover
#: (empty: every task not yet released). A resolution seen before its opening is kept resolved.
incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("mission_id", Uuid, nullable=False),
    Column("task_ids", JSON, nullable=False),
    Column("opened_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("outcome", String(20), nullable=True),
    Index("ix_incidents_mission", "mission_id"),
)
