"""The subscription's lifecycle as a table of allowed transitions (CONTRIBUTING: state machines as
transition tables, no I/O).

::

    (none) --activate--> active --cancel--> cancel_pending --resume--> active
    active --renew--> active                  cancel_pending --lapse--> lapsed   (period over)
    active --fail_renewal--> past_due --recover--> active
                             past_due --lapse--> lapsed                          (retry window over)

Each command names who may fire it: ``pro`` (the subscriber, through the API), ``stripe`` (the state
Stripe reports, by webhook or when fetched again) and ``system`` (the service's own jobs). A command
the state does not allow is a conflict (409); one the state allows but not for this actor is
forbidden (403).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clikopro_chassis.errors import Conflict, Forbidden

PRO = "pro"
STRIPE = "stripe"
SYSTEM = "system"

#: The state of a subscription that does not exist yet.
NEW = None

ACTIVE = "active"
CANCEL_PENDING = "cancel_pending"
PAST_DUE = "past_due"
LAPSED = "lapsed"
#: States in which the subscription is the pro's one live subscription (its paid plan applies).
LIVE = (ACTIVE, CANCEL_PENDING, PAST_DUE)

#: The event each command publishes (None: the entitlements do not change).
EVENT_OF = {
    "activate": "SubscriptionActivated",
    "cancel": "SubscriptionCancelled",
    "resume": None,
    "renew": "SubscriptionRenewed",
    "recover": "SubscriptionRenewed",
    "fail_renewal": None,
    "lapse": "SubscriptionLapsed",
}


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


TABLE: Mapping[tuple[str | None, str], Rule] = {
    (NEW, "activate"): rule(ACTIVE, PRO, STRIPE),
    # Tacit renewal off, and on again before the end of the period.
    (ACTIVE, "cancel"): rule(CANCEL_PENDING, PRO, STRIPE),
    (CANCEL_PENDING, "resume"): rule(ACTIVE, PRO, STRIPE),
    # A paid renewal: a new 12-month period (Stripe may have renewed before renewal was turned off).
    (ACTIVE, "renew"): rule(ACTIVE, STRIPE),
    (CANCEL_PENDING, "renew"): rule(CANCEL_PENDING, STRIPE),
    (ACTIVE, "fail_renewal"): rule(PAST_DUE, STRIPE),
    (CANCEL_PENDING, "fail_renewal"): rule(PAST_DUE, STRIPE),
    # The renewal was paid within the retry window (the pro gave another card).
    (PAST_DUE, "recover"): rule(ACTIVE, STRIPE),
    (PAST_DUE, "lapse"): rule(LAPSED, SYSTEM, STRIPE),
    (CANCEL_PENDING, "lapse"): rule(LAPSED, SYSTEM, STRIPE),
    # Ended at Stripe (its own dunning, the dashboard).
    (ACTIVE, "lapse"): rule(LAPSED, STRIPE),
}

STATES = tuple(sorted({r.to for r in TABLE.values()}))
COMMANDS = tuple(sorted({c for _, c in TABLE}))


def allows(state: str | None, command: str, actor: str) -> bool:
    found = TABLE.get((state, command))
    return found is not None and actor in found.actors


def decide(state: str | None, command: str, actor: str) -> str:
    """The state after ``command`` by ``actor``; raises if the table does not allow it."""
    if not any(actor in r.actors for (_, c), r in TABLE.items() if c == command):
        raise ActorNotAllowed(f"You may not {command.replace('_', ' ')} a subscription.")
    found = TABLE.get((state, command))
    if found is None:
        raise TransitionNotAllowed(
            f"A subscription that is {state or 'new'} cannot {command.replace('_', ' ')}.",
            state=state,
            command=command,
        )
    if actor not in found.actors:
        raise ActorNotAllowed(f"You may not {command.replace('_', ' ')} this subscription.")
    return found.to
