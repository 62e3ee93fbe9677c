"""Commission arithmetic, in integer cents (R14, R23).

The rule, decided once and tested as a table:

- the mission's commission is ``floor(amount * bps / 10000)``, fixed when the contract is
  accepted, at the pro's plan rate then;
- each task's share is ``floor(task_amount * commission / amount)`` for every task but the
  last (by position), and the last absorbs the remainder, so the shares add up to the
  commission exactly and released + commission = captured to the cent;
- a share never exceeds its task's amount (the net paid can't be negative): in the rare case
  where the remainder would exceed the last task's amount (a tiny last task), the excess goes
  back to the previous tasks, last first, up to their amounts.

A release whose amount was cut by a refund (incident) keeps ``floor(amount * bps / 10000)``.
"""

from __future__ import annotations

from collections.abc import Sequence

BPS = 10_000


def commission_of(amount_cents: int, bps: int) -> int:
    if amount_cents < 0 or not 0 <= bps <= BPS:
        raise ValueError("amount must be >= 0 and bps in 0..10000")
    return amount_cents * bps // BPS


def split_commission(task_amounts: Sequence[int], commission_cents: int) -> list[int]:
    """Each task's share of ``commission_cents``, in plan order; they add up to it exactly."""
    total = sum(task_amounts)
    if not task_amounts or any(a < 0 for a in task_amounts):
        raise ValueError("tasks must have amounts >= 0")
    if not 0 <= commission_cents <= total:
        raise ValueError("the commission must be between 0 and the total")
    if total == 0:
        return [0] * len(task_amounts)
    shares = [amount * commission_cents // total for amount in task_amounts[:-1]]
    shares.append(commission_cents - sum(shares))
    # Spill any excess of a share over its task's amount backwards (only tiny last tasks need it).
    excess = 0
    for i in range(len(shares) - 1, -1, -1):
        shares[i] += excess
        excess = max(0, shares[i] - task_amounts[i])
        shares[i] -= excess
    if excess:  # cannot happen since commission <= total, but never hide it
        raise AssertionError("commission larger than the tasks")
    return shares


def allocate_refund(remaining: Sequence[int], refund_cents: int) -> list[int]:
    """How much of each unreleased task (plan order) a refund takes: the last tasks first."""
    if refund_cents < 0 or refund_cents > sum(remaining):
        raise ValueError("the refund must be between 0 and what is held")
    taken = [0] * len(remaining)
    left = refund_cents
    for i in range(len(remaining) - 1, -1, -1):
        taken[i] = min(remaining[i], left)
        left -= taken[i]
    return taken


def release_commission(task_amount: int, task_share: int, release_amount: int, bps: int) -> int:
    """The commission kept on a release: the task's share when the whole task is released, the rate
    on what is released when an incident cut it."""
    if release_amount == task_amount:
        return task_share
    return commission_of(release_amount, bps)
