"""Incidents (R18): who may open one, what the resolution acts on, and the money it may move.

Pure rules: the service layer reads the projection and the incident, these functions decide.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CATEGORIES = ("not_delivered", "poor_quality", "late", "damage", "payment", "behaviour", "other")
OUTCOMES = ("release", "refund", "partial_refund", "dismiss")
STAFF_ROLES = ("moderator", "admin")
#: Mission states in which an incident may be declared (the contract is concluded and not cancelled).
OPEN_TO_INCIDENTS = ("contracted", "completed")

CLIENT, PRO, STAFF, OTHER = "client", "pro", "staff", "other"


def relation(
    user_id: uuid.UUID | None, role: str | None, *, client_id: uuid.UUID | None, pro_id: uuid.UUID | None
) -> str:
    """The caller's relation to a mission or an incident: a party, staff, or nobody in particular."""
    if role in STAFF_ROLES:
        return STAFF
    if role == "client" and user_id is not None and user_id == client_id:
        return CLIENT
    if role == "pro" and user_id is not None and user_id == pro_id:
        return PRO
    return OTHER


def answerers(opened_by_role: str) -> tuple[str, ...]:
    """Whose first message answers the incident: the other party; either of them for the platform's own."""
    return {CLIENT: (PRO,), PRO: (CLIENT,)}.get(opened_by_role, (CLIENT, PRO))


def answer_overdue(incident: Mapping[str, Any], now: dt.datetime) -> bool:
    """Open, past its answer deadline, and the other party has not written: a flag for the moderators,
    never an outcome by itself."""
    return (
        incident["status"] == "open" and incident["answered_at"] is None and now >= incident["answer_due_at"]
    )


@dataclass(frozen=True)
class HeldTask:
    """A task of the projection, with what is still held for it."""

    task_id: uuid.UUID
    position: int
    held_cents: int


def held_for(task: Mapping[str, Any], *, secured: bool) -> int:
    """What the platform still holds for a task: nothing on a mission not paid through it (Paiement
    Direct, or Secure not yet paid), nothing once released or cancelled; else its amount less what
    incidents already refunded from it."""
    if not secured or task["released"] or task["status"] == "cancelled" or task["amount_cents"] is None:
        return 0
    return max(0, task["amount_cents"] - task["refunded_cents"])


def effective_scope(
    tasks: Sequence[Mapping[str, Any]], scope: Sequence[uuid.UUID], *, secured: bool
) -> list[HeldTask]:
    """The tasks an outcome acts on, by position: those named, else every task not yet released."""
    named = set(scope)
    if named:
        chosen = [t for t in tasks if t["task_id"] in named]
    else:
        chosen = [t for t in tasks if not t["released"] and t["status"] != "cancelled"]
    return sorted(
        (HeldTask(t["task_id"], t["position"] or 0, held_for(t, secured=secured)) for t in chosen),
        key=lambda h: h.position,
    )


def allocate_refund(scope: Sequence[HeldTask], amount: int) -> dict[uuid.UUID, int]:
    """A partial refund taken from the last tasks of the scope first, never more than each holds."""
    cuts: dict[uuid.UUID, int] = {}
    left = amount
    for task in reversed(scope):
        if left <= 0:
            break
        cut = min(left, task.held_cents)
        if cut:
            cuts[task.task_id] = cut
            left -= cut
    if left > 0:
        raise ValueError(f"{amount} cents is more than the scope holds")
    return cuts


OUTCOME_LABELS = {
    "release": "les sommes des tâches validées concernées sont versées au professionnel",
    "refund": "les sommes encore détenues pour les tâches concernées sont remboursées au client, "
    "et ces tâches sont annulées",
    "partial_refund": "un remboursement partiel de {amount} est fait au client ; le reste est versé au "
    "professionnel à la validation des tâches",
    "dismiss": "la demande est classée sans suite ; la mission reprend son cours",
}


def euros(cents: int) -> str:
    return f"{cents // 100:,}".replace(",", "\u202f") + f",{cents % 100:02d} €"


def resolution_notice(
    outcome: str, amount_cents: int | None, reason: str, *, mediator_name: str, mediator_url: str
) -> str:
    """What both parties read on the resolved incident (in French, the platform's language): the
    decision, its reason, the consumer mediator (Code de la consommation, art. L612-1) and the courts."""
    decision = OUTCOME_LABELS[outcome].format(amount=euros(amount_cents or 0))
    return (
        f"Décision de CLIKOPRO : {decision}.\n"
        f"Motif : {reason}\n"
        "Si cette décision ne vous satisfait pas, vous pouvez, en tant que consommateur, recourir "
        f"gratuitement au médiateur de la consommation : {mediator_name} ({mediator_url}), "
        "conformément à l'article L612-1 du Code de la consommation. Ni cette décision ni le recours "
        "au médiateur ne vous empêchent de saisir le tribunal compétent."
    )
