from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_payments.adapters.repositories import (
    AccountRepository,
    LedgerRepository,
    OnboardingReminderRepository,
    PaymentRepository,
    ProjectionRepository,
    ReconciliationRepository,
    RefundRepository,
    ReleaseRepository,
    StripeEventRepository,
)


class PaymentsUnitOfWork(UnitOfWork):
    payments: PaymentRepository
    releases: ReleaseRepository
    refunds: RefundRepository
    ledger: LedgerRepository
    accounts: AccountRepository
    onboarding_reminders: OnboardingReminderRepository
    projections: ProjectionRepository
    stripe_events: StripeEventRepository
    reconciliation: ReconciliationRepository
    #: Set by the bootstrap: event handlers read the service's settings and clock through it.
    default_commission_bps: int = 0
    clock: Callable[[], dt.datetime]

    def now(self) -> dt.datetime:
        return self.clock()

    def bind(self, session: Session) -> None:
        self.payments = PaymentRepository(session)
        self.releases = ReleaseRepository(session)
        self.refunds = RefundRepository(session)
        self.ledger = LedgerRepository(session)
        self.accounts = AccountRepository(session)
        self.onboarding_reminders = OnboardingReminderRepository(session)
        self.projections = ProjectionRepository(session)
        self.stripe_events = StripeEventRepository(session)
        self.reconciliation = ReconciliationRepository(session)
