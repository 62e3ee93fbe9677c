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
from collections.abc import Mapping
from dataclasses import dataclass

from clikopro_chassis.errors import Conflict, Forbidden

CLIENT = "client"
PRO = "pro"
STAFF = "staff"
SYSTEM = "system"
OTHER = "other"
ACTORS = (CLIENT, PRO, STAFF, SYSTEM, OTHER)

#: The state of something that does not exist yet (the source of a creation).
NEW = None


class TransitionNotAllowed(Conflict):
    """The command is not possible in the current state, whoever asks."""


class ActorNotAllowed(Forbidden):
    """The command is possible in this state, but not for this caller."""


@dataclass(frozen=True)
class Rule:
    to: str
    actors: frozenset[str]


def rule(to: str, *actors: str) -> Rule:
    return Rule(to, frozenset(actors))


@dataclass(frozen=True)
class StateMachine:
    name: str
    table: Mapping[tuple[str | None, str], Rule]

    @property
    def states(self) -> tuple[str, ...]:
        found = {s for s, _ in self.table if s is not None} | {r.to for r in self.table.values()}
        return tuple(sorted(found))

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(sorted({c for _, c in self.table}))

    def allows(self, state: str | None, command: str, actor: str) -> bool:
        found = self.table.get((state, command))
        return found is not None and actor in found.actors

    def decide(self, state: str | None, command: str, actor: str, *, hint: str | None = None) -> str:
        """The state after ``command`` by ``actor``; raises if the table does not allow it."""
        if not any(actor in r.actors for (_, c), r in self.table.items() if c == command):
            # Someone who may never do this is refused before learning anything about the state.
            raise ActorNotAllowed(hint or f"You may not {command.replace('_', ' ')} this {self.name}.")
        found = self.table.get((state, command))
        if found is None:
            raise TransitionNotAllowed(
                f"A {self.name} cannot be {_past(command)} when it is {state or 'new'}.",
                state=state,
                command=command,
            )
        if actor not in found.actors:
            raise ActorNotAllowed(hint or f"You may not {command.replace('_', ' ')} this {self.name}.")
        return found.to


def _past(command: str) -> str:
    return {
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
    }.get(command, command)


# Mission: published -> contracted -> (awaiting_payment for Secure) -> in_progress -> completed; or cancelled.
# After the contract a party cannot cancel: that goes through an incident (trust & safety), whose
# moderator may then cancel.
MISSION = StateMachine(
    "mission",
    {
        (NEW, "publish"): rule("published", CLIENT),
        ("published", "accept"): rule("contracted", CLIENT),
        ("contracted", "await_payment"): rule("awaiting_payment", SYSTEM),
        ("contracted", "start"): rule("in_progress", SYSTEM),
        ("awaiting_payment", "secure_payment"): rule("in_progress", SYSTEM),
        # Fired by the validation of the last task, by the client or by the delay.
        ("in_progress", "complete"): rule("completed", CLIENT, SYSTEM),
        ("published", "cancel"): rule("cancelled", CLIENT, STAFF),
        ("contracted", "cancel"): rule("cancelled", STAFF),
        ("awaiting_payment", "cancel"): rule("cancelled", STAFF),
        ("in_progress", "cancel"): rule("cancelled", STAFF),
    },
)

PROPOSAL = StateMachine(
    "proposal",
    {
        (NEW, "submit"): rule("submitted", PRO),
        ("submitted", "accept"): rule("accepted", CLIENT),
        # Another proposal was accepted, or the mission was cancelled.
        ("submitted", "reject"): rule("rejected", SYSTEM),
        ("submitted", "withdraw"): rule("withdrawn", PRO),
    },
)

TASK = StateMachine(
    "task",
    {
        ("pending", "submit"): rule("submitted", PRO),
        ("contested", "submit"): rule("submitted", PRO),
        ("submitted", "validate"): rule("validated", CLIENT),
        ("submitted", "auto_validate"): rule("validated", SYSTEM),
        ("submitted", "contest"): rule("contested", CLIENT),
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
