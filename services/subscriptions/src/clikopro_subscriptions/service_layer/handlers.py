"""Event handlers of the subscriptions service: event type -> handler(event, uow)."""

from __future__ import annotations

from clikopro_chassis.bus.consumer import Handler
from clikopro_contracts import Event, load_data
from clikopro_subscriptions.domain.months import month_key
from clikopro_subscriptions.service_layer.unit_of_work import SubscriptionsUnitOfWork


def count_proposal(event: Event, uow: SubscriptionsUnitOfWork) -> None:
    """The pro's proposals this Paris calendar month, for ``proposals_used_this_month`` (the inbox
    makes a redelivered event count once)."""
    data = load_data(event)
    uow.proposal_counts.increment(data["pro_id"], month_key(data["submitted_at"]))


HANDLERS: dict[str, Handler] = {
    "ProposalSubmitted": count_proposal,
}
