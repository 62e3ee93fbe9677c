"""A proposal's terms: price, payment mode and the plan of tasks (the payment schedule)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from clikopro_chassis.errors import ValidationFailed, field_error

PAYMENT_MODES = ("secure", "direct")
MAX_TASKS = 50
#: A mission of more than a million euros is not what this marketplace is for.
MAX_AMOUNT_CENTS = 100_000_000


@dataclass(frozen=True)
class PlannedTask:
    title: str
    amount_cents: int
    due_date: dt.date


@dataclass(frozen=True)
class Terms:
    amount_cents: int
    payment_mode: str
    message: str
    tasks: tuple[PlannedTask, ...]


def _is_cents(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_terms(terms: Terms, *, today: dt.date) -> None:
    """Raise ``ValidationFailed`` with every field error of ``terms``.

    Amounts are positive integers of cents; the tasks' amounts add up to the
    total; 1..MAX_TASKS tasks; no due date before ``today`` (the Paris date of
    the injected clock).
    """
    errors: list[dict[str, str]] = []
    if not _is_cents(terms.amount_cents) or terms.amount_cents <= 0:
        errors.append(field_error("amount_cents", "must be a positive integer of cents"))
    elif terms.amount_cents > MAX_AMOUNT_CENTS:
        errors.append(field_error("amount_cents", f"must be at most {MAX_AMOUNT_CENTS}"))
    if terms.payment_mode not in PAYMENT_MODES:
        errors.append(field_error("payment_mode", f"must be one of {', '.join(PAYMENT_MODES)}"))
    if not terms.message.strip():
        errors.append(field_error("message", "must not be blank"))
    if not 1 <= len(terms.tasks) <= MAX_TASKS:
        errors.append(field_error("tasks", f"must have 1 to {MAX_TASKS} tasks"))
    amounts_ok = True
    for index, task in enumerate(terms.tasks):
        if not task.title.strip():
            errors.append(field_error(f"tasks.{index}.title", "must not be blank"))
        if not _is_cents(task.amount_cents) or task.amount_cents <= 0:
            errors.append(field_error(f"tasks.{index}.amount_cents", "must be a positive integer of cents"))
            amounts_ok = False
        if task.due_date < today:
            errors.append(
                field_error(f"tasks.{index}.due_date", f"must not be in the past (today is {today})")
            )
    if amounts_ok and terms.tasks and _is_cents(terms.amount_cents):
        total = sum(t.amount_cents for t in terms.tasks)
        if total != terms.amount_cents:
            errors.append(
                field_error(
                    "tasks", f"the tasks' amounts add up to {total}, not amount_cents {terms.amount_cents}"
                )
            )
    if errors:
        raise ValidationFailed("The proposal is not valid.", errors=errors)


def positions(tasks: Sequence[PlannedTask]) -> list[tuple[int, PlannedTask]]:
    """The plan in order, numbered from 1 (the contract's positions)."""
    return list(enumerate(tasks, start=1))
