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

from clikopro_chassis.state_machine import NEW, Rule, StateMachine, rule

PRO = "pro"
STRIPE = "stripe"
SYSTEM = "system"

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

MACHINE = StateMachine("subscription", TABLE)
STATES = MACHINE.states
COMMANDS = MACHINE.commands
allows = MACHINE.allows
decide = MACHINE.decide
