"""What subscriptions does with other services' events (consumer contract tests fed with the examples):
missions' ProposalSubmitted counts towards the pro's proposals this Paris month."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from subscriptions_helpers import Api

from clikopro_contracts import Event, parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.testing import wire, with_data
from clikopro_subscriptions.bootstrap import Services
from clikopro_subscriptions.service_layer.handlers import HANDLERS


def feed(services: Services, type_: str, *, event_id: str | None = None, **data: Any) -> Event:
    """Hand another service's event (its contract example, with ``data`` changes) to our handler, in a
    batch transaction like the worker's."""
    message = with_data(example(type_), **data)
    message["id"] = event_id or str(uuid.uuid4())
    event = parse_event(wire(message))
    with services.database.session() as session:
        with services.joined_uow(session) as uow:
            HANDLERS[event.type](event, uow)
        session.commit()
    return event


def test_every_handled_event_is_a_known_contract_with_an_example() -> None:
    for type_ in HANDLERS:
        assert example(type_)["type"] == type_


def test_proposals_submitted_this_paris_month_are_counted(api: Api) -> None:
    pro = api.pro()
    api.clock.offset = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)  # service only
    for _ in range(3):
        feed(api.services, "ProposalSubmitted", pro_id=pro.user_id, submitted_at="2026-03-09T08:00:00Z")
    # 28 February 23:30 UTC is already 1 March in Paris...
    feed(api.services, "ProposalSubmitted", pro_id=pro.user_id, submitted_at="2026-02-28T23:30:00Z")
    # ...22:30 UTC is still February; and another pro's proposal is not this pro's.
    feed(api.services, "ProposalSubmitted", pro_id=pro.user_id, submitted_at="2026-02-28T22:30:00Z")
    feed(api.services, "ProposalSubmitted", pro_id=api.pro().user_id, submitted_at="2026-03-09T08:00:00Z")
    entitlements = api.entitlements(pro)
    assert entitlements["proposals_used_this_month"] == 4
    assert entitlements["proposals_per_month"] == 5
