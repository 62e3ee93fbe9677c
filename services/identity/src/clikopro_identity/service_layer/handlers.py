"""Event handlers of the identity service: event type -> handler(event, uow).

Suspensions come from trust & safety (R3): identity refuses sign-in and refresh to a suspended
account, revokes its refresh tokens, and lists the suspensions in force for the gateway's
start-up (``GET /internal/suspensions``).
"""

from __future__ import annotations

from clikopro_chassis.bus.consumer import Handler
from clikopro_contracts import Event, load_data
from clikopro_identity.domain.suspensions import Suspension, supersedes
from clikopro_identity.service_layer.unit_of_work import IdentityUnitOfWork


def record_suspension(event: Event, uow: IdentityUnitOfWork) -> None:
    data = load_data(event)
    current = uow.suspensions.get(data["user_id"])
    if not supersedes(data["suspended_at"], current):
        return  # a later reinstatement or suspension is already recorded
    uow.suspensions.save(
        Suspension(
            user_id=data["user_id"],
            suspended=True,
            changed_at=data["suspended_at"],
            reason=data["reason"],
            until=data["until"],
        )
    )
    # Its sessions end: a reinstated user signs in again.
    uow.refresh_tokens.revoke_user(data["user_id"], data["suspended_at"], "suspended")


def record_reinstatement(event: Event, uow: IdentityUnitOfWork) -> None:
    data = load_data(event)
    current = uow.suspensions.get(data["user_id"])
    if not supersedes(data["reinstated_at"], current):
        return
    uow.suspensions.save(
        Suspension(user_id=data["user_id"], suspended=False, changed_at=data["reinstated_at"])
    )


HANDLERS: dict[str, Handler] = {
    "AccountSuspended": record_suspension,
    "AccountReinstated": record_reinstatement,
}
