"""The life of a release (one per validated task) and of a refund, as transition tables.

pending ──► waiting_payment | frozen | waiting_for_account   (blocked: re-evaluated each pass)
   │                         │
   └──────────► transferring ◄┘  (claimed; Stripe called outside any transaction)
                    │
      released ◄────┼────► failed (refused by Stripe: retried with back-off)
                    └────► transferring (a stale claim re-checked at Stripe)
refunded: the task's money went back to the client instead (incident, cancellation).
"""

from __future__ import annotations

BLOCKED = ("pending", "waiting_payment", "frozen", "waiting_for_account", "failed")
IN_FLIGHT = "transferring"
DONE = ("released", "refunded")

RELEASE_TRANSITIONS: dict[str, frozenset[str]] = {
    **{state: frozenset({*BLOCKED, IN_FLIGHT, "refunded"}) - {state} for state in BLOCKED},
    IN_FLIGHT: frozenset({"released", "failed", "waiting_for_account", IN_FLIGHT}),
    "released": frozenset(),
    "refunded": frozenset(),
}

REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"refunding"}),
    "failed": frozenset({"refunding"}),
    "refunding": frozenset({"refunded", "failed", "refunding"}),
    "refunded": frozenset(),
}


class TransitionRefused(ValueError):
    pass


def check_release(current: str, target: str) -> None:
    if target not in RELEASE_TRANSITIONS.get(current, frozenset()):
        raise TransitionRefused(f"release: {current} -> {target} is not allowed")


def blocker(*, payment_secured: bool, frozen: bool, account_ready: bool) -> str | None:
    """Why a release cannot go out now, in the order a person would fix it; None: it can."""
    if not payment_secured:
        return "waiting_payment"
    if frozen:
        return "frozen"
    if not account_ready:
        return "waiting_for_account"
    return None


def backoff_seconds(attempts: int, base: int, cap: int = 3600) -> int:
    return min(cap, base * 2 ** max(0, attempts - 1))
