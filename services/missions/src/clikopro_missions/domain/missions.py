"""What a client publishes: the checks on a mission's description."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from clikopro_chassis.errors import ValidationFailed, field_error
from clikopro_missions.domain.places import postcode_problem


@dataclass(frozen=True)
class InterventionAddress:
    """Where the work is done (the mission's postcode completes it). Private: only the contracted parties
    read it, once contact is allowed (see domain.contact)."""

    street: str
    city: str
    details: str | None = None  # floor, door code, access


@dataclass(frozen=True)
class MissionDraft:
    title: str
    description: str
    trade: str
    postcode: str
    budget_cents: int | None
    wished_start: dt.date | None
    address: InterventionAddress | None = None


def check_draft(draft: MissionDraft, *, today: dt.date) -> None:
    errors: list[dict[str, str]] = []
    if not draft.title.strip():
        errors.append(field_error("title", "must not be blank"))
    if not draft.description.strip():
        errors.append(field_error("description", "must not be blank"))
    problem = postcode_problem(draft.postcode)
    if problem:
        errors.append(field_error("postcode", problem))
    if draft.budget_cents is not None and (isinstance(draft.budget_cents, bool) or draft.budget_cents < 0):
        errors.append(field_error("budget_cents", "must be a non-negative integer of cents"))
    if draft.wished_start is not None and draft.wished_start < today:
        errors.append(field_error("wished_start", f"must not be in the past (today is {today})"))
    if draft.address is not None:
        if not draft.address.street.strip():
            errors.append(field_error("address.street", "must not be blank"))
        if not draft.address.city.strip():
            errors.append(field_error("address.city", "must not be blank"))
    if errors:
        raise ValidationFailed("The mission is not valid.", errors=errors)
