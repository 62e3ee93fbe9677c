"""Event handlers of the missions service: event type -> handler(event, uow)."""

from __future__ import annotations

from clikopro_chassis.bus.consumer import Handler
from clikopro_contracts import Event, load_data
from clikopro_missions.service_layer.unit_of_work import MissionsUnitOfWork


def record_member(event: Event, uow: MissionsUnitOfWork) -> None:
    """Keep the local copy of who is a client and who is a pro."""
    data = load_data(event)
    uow.members.upsert(
        user_id=data["user_id"],
        role=data["role"],
        display_name=f"{data['first_name']} {data['last_name'][:1]}.",
        registered_at=data["registered_at"],
    )


HANDLERS: dict[str, Handler] = {"UserRegistered": record_member}
