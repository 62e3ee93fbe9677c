from __future__ import annotations

from sqlalchemy.orm import Session

from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_subscriptions.adapters.repositories import (
    CheckoutRepository,
    CustomerRepository,
    ProposalCountRepository,
    ReminderRepository,
    StripeEventRepository,
    SubscriptionRepository,
    TransitionRepository,
)


class SubscriptionsUnitOfWork(UnitOfWork):
    subscriptions: SubscriptionRepository
    transitions: TransitionRepository
    customers: CustomerRepository
    checkouts: CheckoutRepository
    reminders: ReminderRepository
    stripe_events: StripeEventRepository
    proposal_counts: ProposalCountRepository

    def bind(self, session: Session) -> None:
        self.subscriptions = SubscriptionRepository(session)
        self.transitions = TransitionRepository(session)
        self.customers = CustomerRepository(session)
        self.checkouts = CheckoutRepository(session)
        self.reminders = ReminderRepository(session)
        self.stripe_events = StripeEventRepository(session)
        self.proposal_counts = ProposalCountRepository(session)
