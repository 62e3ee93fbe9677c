"""The lifecycles of missions, proposals and tasks, as tables of allowed transitions.

Each table maps ``(state, command)`` to the new state and the actors allowed to
fire the command. An actor is the caller's *relation* to the thing, not just
their role: ``client`` is the mission's own client, ``pro`` the professional
concerned (the proposal's author, the contracted pro), ``staff`` a moderator
or an admin, ``system`` the service itself (an event handler, a scheduled job).
Anyone else is ``other`` and is never allowed.

A command that the state does not allow is a conflict (409, whoever asks); a
command the state allows but not for this actor is forbidden (403).
"""

from __future__ import annotations

import uuid

# The mechanism is the chassis's; the tables and the actors are this service's.
from clikopro_chassis.state_machine import NEW, StateMachine, rule

CLIENT = "client"
PRO = "pro"
STAFF = "staff"
SYSTEM = "system"
OTHER = "other"
ACTORS = (CLIENT, PRO, STAFF, SYSTEM, OTHER)

PAST_TENSE = {
    "accept": "accepted",
    "reject": "rejected",
    "submit": "submitted",
    "withdraw": "withdrawn",
    "validate": "validated",
    "auto_validate": "validated",
    "contest": "contested",
    "cancel": "cancelled",
    "complete": "completed",
    "publish": "published",
    "await_payment": "set awaiting payment",
    "start": "started",
    "secure_payment": "paid",
    "reopen": "reopened",
}


# Mission: published -> contracted -> (awaiting_payment for Secure) -> in_progress -> completed; or cancelled.
# After the contract a party cannot cancel: that goes through an incident (trust & safety), whose
# moderator may then cancel.
MISSION = StateMachine(
    "mission",
    past_tense=PAST_TENSE,
    table={
        (NEW, "publish"): rule("published", CLIENT),
        ("published", "accept"): rule("contracted", CLIENT),
        ("contracted", "await_payment"): rule("awaiting_payment", SYSTEM),
        ("contracted", "start"): rule("in_progress", SYSTEM),
        ("awaiting_payment", "secure_payment"): rule("in_progress", SYSTEM),
        # Fired by the validation of the last task, by the client or by the delay.
        # Fired by the validation of the last task, by the client or by the delay, or by an incident's
        # refund that cancels the last tasks not validated.
        ("in_progress", "complete"): rule("completed", CLIENT, SYSTEM, STAFF),
        ("published", "cancel"): rule("cancelled", CLIENT, STAFF),
        ("contracted", "cancel"): rule("cancelled", STAFF),
        ("awaiting_payment", "cancel"): rule("cancelled", STAFF),
        ("in_progress", "cancel"): rule("cancelled", STAFF),
    },
)

PROPOSAL = StateMachine(
    "proposal",
    past_tense=PAST_TENSE,
    table={
        (NEW, "submit"): rule("submitted", PRO),
        ("submitted", "accept"): rule("accepted", CLIENT),
        # Another proposal was accepted, or the mission was cancelled.
        ("submitted", "reject"): rule("rejected", SYSTEM),
        ("submitted", "withdraw"): rule("withdrawn", PRO),
    },
)

TASK = StateMachine(
    "task",
    past_tense=PAST_TENSE,
    table={
        ("pending", "submit"): rule("submitted", PRO),
        ("contested", "submit"): rule("submitted", PRO),
        ("submitted", "validate"): rule("validated", CLIENT),
        ("submitted", "auto_validate"): rule("validated", SYSTEM),
        ("submitted", "contest"): rule("contested", CLIENT),
        # An incident's resolution (a moderator's decision): `refund` cancels the tasks it covers
        # that were not paid yet; `dismiss` sends a contested task back to the client's decision.
        ("pending", "cancel"): rule("cancelled", STAFF),
        ("submitted", "cancel"): rule("cancelled", STAFF),
        ("contested", "cancel"): rule("cancelled", STAFF),
        ("validated", "cancel"): rule("cancelled", STAFF),
        ("contested", "reopen"): rule("submitted", STAFF),
    },
)

#: Mission states in which the contracted parties have a workspace (tasks, invoices).
CONTRACTED_STATES = ("contracted", "awaiting_payment", "in_progress", "completed")


def actor_of(
    user_id: uuid.UUID | None,
    role: str | None,
    *,
    client_id: uuid.UUID,
    pro_id: uuid.UUID | None,
) -> str:
    """The caller's relation to a mission (or to one pro's proposal on it, with that ``pro_id``)."""
    if role is None:
        return SYSTEM
    if role in {"moderator", "admin"}:
        return STAFF
    if role == "client" and user_id == client_id:
        return CLIENT
    if role == "pro" and pro_id is not None and user_id == pro_id:
        return PRO
    return OTHER
