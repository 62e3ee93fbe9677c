from __future__ import annotations

from sqlalchemy.orm import Session

from clikopro_chassis.unit_of_work import UnitOfWork
from clikopro_missions.adapters.repositories import (
    AccountRepository,
    AddressRepository,
    ContactRepository,
    ContractRepository,
    IncidentRepository,
    InvoiceRepository,
    MemberRepository,
    MissionRepository,
    PaymentNoticeRepository,
    PlanRepository,
    ProposalRepository,
    QuotaRepository,
    TaskRepository,
    TransitionRepository,
)


class MissionsUnitOfWork(UnitOfWork):
    members: MemberRepository
    contacts: ContactRepository
    addresses: AddressRepository
    missions: MissionRepository
    proposals: ProposalRepository
    contracts: ContractRepository
    tasks: TaskRepository
    quota: QuotaRepository
    plans: PlanRepository
    accounts: AccountRepository
    payments: PaymentNoticeRepository
    invoices: InvoiceRepository
    transitions: TransitionRepository
    incidents: IncidentRepository
    #: Set by the bootstrap for the event handlers (a dismissed incident restarts this delay).
    task_auto_validate_days: int = 14

    def bind(self, session: Session) -> None:
        self.members = MemberRepository(session)
        self.contacts = ContactRepository(session)
        self.addresses = AddressRepository(session)
        self.missions = MissionRepository(session)
        self.proposals = ProposalRepository(session)
        self.contracts = ContractRepository(session)
        self.tasks = TaskRepository(session)
        self.quota = QuotaRepository(session)
        self.plans = PlanRepository(session)
        self.accounts = AccountRepository(session)
        self.payments = PaymentNoticeRepository(session)
        self.invoices = InvoiceRepository(session)
        self.transitions = TransitionRepository(session)
        self.incidents = IncidentRepository(session)
