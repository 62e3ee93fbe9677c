"""Reading and writing the payments tables (rows come back as read-only mappings)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from clikopro_chassis.db import upsert_insert
from clikopro_payments.adapters.orm import (
    commission_rates,
    connected_accounts,
    freezes,
    ledger_entries,
    onboarding_reminders,
    payment_tasks,
    payments,
    reconciliation_issues,
    refunds,
    releases,
    stripe_events,
    suspensions,
)
from clikopro_payments.domain.ledger import Entry
from clikopro_payments.domain.releases import BLOCKED, IN_FLIGHT

Row = Mapping[str, Any]


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _one(self, query) -> Row | None:
        return self.session.execute(query).mappings().first()

    def _all(self, query) -> list[Row]:
        return list(self.session.execute(query).mappings())


class PaymentRepository(_Repository):
    def add(self, row: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]) -> bool:
        """Insert the mission's payment and schedule; False if the mission already has one."""
        statement = (
            upsert_insert(self.session, payments)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["mission_id"])
            .returning(payments.c.id)
        )
        if self.session.execute(statement).first() is None:
            return False
        for task in tasks:
            self.session.execute(insert(payment_tasks).values(mission_id=row["mission_id"], **task))
        return True

    def get(self, payment_id: uuid.UUID) -> Row | None:
        return self._one(select(payments).where(payments.c.id == payment_id))

    def by_mission(self, mission_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        query = select(payments).where(payments.c.mission_id == mission_id)
        return self._one(query.with_for_update() if lock else query)

    def by_intent(self, intent_id: str) -> Row | None:
        return self._one(select(payments).where(payments.c.stripe_payment_intent_id == intent_id))

    def tasks(self, mission_id: uuid.UUID) -> list[Row]:
        return self._all(
            select(payment_tasks)
            .where(payment_tasks.c.mission_id == mission_id)
            .order_by(payment_tasks.c.position)
        )

    def change(
        self, payment_id: uuid.UUID, *, when_status: Iterable[str] | None = None, **values: Any
    ) -> bool:
        """Update if the payment is (still) in one of ``when_status``: racing writers, one wins."""
        condition = payments.c.id == payment_id
        if when_status is not None:
            condition = and_(condition, payments.c.status.in_(list(when_status)))
        result = self.session.execute(
            update(payments).where(condition).values(**values).returning(payments.c.id)
        )
        return result.first() is not None

    def set_intent(
        self, payment_id: uuid.UUID, intent_id: str, client_secret: str | None, now: dt.datetime
    ) -> bool:
        result = self.session.execute(
            update(payments)
            .where(payments.c.id == payment_id, payments.c.stripe_payment_intent_id.is_(None))
            .values(stripe_payment_intent_id=intent_id, client_secret=client_secret, updated_at=now)
            .returning(payments.c.id)
        )
        return result.first() is not None

    def needing_intent(self, limit: int = 100) -> list[Row]:
        return self._all(
            select(payments)
            .where(
                payments.c.mode == "secure",
                payments.c.status.in_(["awaiting_payment"]),
                payments.c.stripe_payment_intent_id.is_(None),
            )
            .limit(limit)
        )

    def intents_to_cancel(self, limit: int = 100) -> list[Row]:
        return self._all(
            select(payments)
            .where(
                payments.c.status == "cancelled",
                payments.c.secured_at.is_(None),
                payments.c.stripe_payment_intent_id.is_not(None),
                payments.c.intent_cancelled_at.is_(None),
            )
            .limit(limit)
        )

    def of_pro(self, pro_id: uuid.UUID) -> list[Row]:
        return self._all(select(payments).where(payments.c.pro_id == pro_id))

    def touched_since(self, since: dt.datetime) -> list[Row]:
        return self._all(select(payments).where(payments.c.mode == "secure", payments.c.updated_at >= since))


class ReleaseRepository(_Repository):
    def request(self, row: Mapping[str, Any]) -> bool:
        """Record a release for a task; False if the task already has one (redelivery, racing copy)."""
        statement = (
            upsert_insert(self.session, releases)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["mission_id", "task_id"])
            .returning(releases.c.id)
        )
        return self.session.execute(statement).first() is not None

    def get(self, release_id: uuid.UUID) -> Row | None:
        return self._one(select(releases).where(releases.c.id == release_id))

    def by_task(self, mission_id: uuid.UUID, task_id: uuid.UUID) -> Row | None:
        return self._one(
            select(releases).where(releases.c.mission_id == mission_id, releases.c.task_id == task_id)
        )

    def of_mission(self, mission_id: uuid.UUID) -> list[Row]:
        return self._all(select(releases).where(releases.c.mission_id == mission_id))

    def candidates(self, now: dt.datetime, stale_before: dt.datetime, limit: int = 200) -> list[Row]:
        """Releases to look at: blocked ones (failed ones once their back-off has passed) and stale claims."""
        return self._all(
            select(releases)
            .where(
                or_(
                    and_(
                        releases.c.status.in_([s for s in BLOCKED if s != "failed"]),
                    ),
                    and_(releases.c.status == "failed", releases.c.next_attempt_at <= now),
                    and_(releases.c.status == IN_FLIGHT, releases.c.claimed_at < stale_before),
                )
            )
            .order_by(releases.c.requested_at)
            .limit(limit)
        )

    def set_status(
        self, release_id: uuid.UUID, status: str, now: dt.datetime, *, only_from: Iterable[str]
    ) -> bool:
        result = self.session.execute(
            update(releases)
            .where(releases.c.id == release_id, releases.c.status.in_(list(only_from)))
            .values(status=status, updated_at=now)
            .returning(releases.c.id)
        )
        return result.first() is not None

    def claim(
        self,
        release_id: uuid.UUID,
        *,
        token: str,
        now: dt.datetime,
        commission_cents: int,
        net_cents: int,
        stale_before: dt.datetime,
    ) -> Row | None:
        """Take the release for one transfer attempt; None if someone else has it (or it is done).
        A conditional UPDATE ... RETURNING: of racing claimers, exactly one gets the row."""
        claimable = or_(
            releases.c.status.in_(list(BLOCKED)),
            and_(releases.c.status == IN_FLIGHT, releases.c.claimed_at < stale_before),
        )
        result = self.session.execute(
            update(releases)
            .where(releases.c.id == release_id, claimable)
            .values(
                status=IN_FLIGHT,
                claim_token=token,
                claimed_at=now,
                attempts=releases.c.attempts + 1,
                commission_cents=commission_cents,
                net_cents=net_cents,
                updated_at=now,
            )
            .returning(*releases.c)
        )
        return result.mappings().first()

    def finish(self, release_id: uuid.UUID, token: str, now: dt.datetime, **values: Any) -> bool:
        """Record the outcome of our claim, if the claim is still ours."""
        result = self.session.execute(
            update(releases)
            .where(
                releases.c.id == release_id, releases.c.status == IN_FLIGHT, releases.c.claim_token == token
            )
            .values(updated_at=now, **values)
            .returning(releases.c.id)
        )
        return result.first() is not None

    def settle(self, release_id: uuid.UUID, now: dt.datetime, **values: Any) -> bool:
        """Change a release that is not in flight nor done (incident resolution)."""
        result = self.session.execute(
            update(releases)
            .where(releases.c.id == release_id, releases.c.status.in_(list(BLOCKED)))
            .values(updated_at=now, **values)
            .returning(releases.c.id)
        )
        return result.first() is not None

    def mark_frozen(self, mission_id: uuid.UUID | None, pro_id: uuid.UUID | None, now: dt.datetime) -> int:
        condition = releases.c.status.in_(["pending", "waiting_for_account", "failed"])
        if mission_id is not None:
            condition = and_(condition, releases.c.mission_id == mission_id)
        if pro_id is not None:
            condition = and_(condition, releases.c.pro_id == pro_id)
        result = self.session.execute(
            update(releases).where(condition).values(status="frozen", updated_at=now)
        )
        return result.rowcount or 0

    def pros_waiting_for_account(self, pro_id: uuid.UUID | None = None) -> list[Row]:
        """Per pro (or for ``pro_id`` only), the releases waiting for their payout onboarding: the
        gross amount, how many, and of how many missions."""
        condition = releases.c.status == "waiting_for_account"
        if pro_id is not None:
            condition = and_(condition, releases.c.pro_id == pro_id)
        return self._all(
            select(
                releases.c.pro_id,
                func.sum(releases.c.amount_cents).label("waiting_cents"),
                func.count().label("releases"),
                func.count(releases.c.mission_id.distinct()).label("missions"),
            )
            .where(condition)
            .group_by(releases.c.pro_id)
        )


class RefundRepository(_Repository):
    def request(self, row: Mapping[str, Any]) -> bool:
        statement = (
            upsert_insert(self.session, refunds)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["reference"])
            .returning(refunds.c.id)
        )
        return self.session.execute(statement).first() is not None

    def get(self, refund_id: uuid.UUID) -> Row | None:
        return self._one(select(refunds).where(refunds.c.id == refund_id))

    def of_mission(self, mission_id: uuid.UUID) -> list[Row]:
        return self._all(select(refunds).where(refunds.c.mission_id == mission_id))

    def candidates(self, now: dt.datetime, stale_before: dt.datetime, limit: int = 100) -> list[Row]:
        return self._all(
            select(refunds)
            .where(
                or_(
                    refunds.c.status == "requested",
                    and_(refunds.c.status == "failed", refunds.c.next_attempt_at <= now),
                    and_(refunds.c.status == "refunding", refunds.c.claimed_at < stale_before),
                )
            )
            .limit(limit)
        )

    def claim(
        self, refund_id: uuid.UUID, *, token: str, now: dt.datetime, stale_before: dt.datetime
    ) -> Row | None:
        claimable = or_(
            refunds.c.status.in_(["requested", "failed"]),
            and_(refunds.c.status == "refunding", refunds.c.claimed_at < stale_before),
        )
        result = self.session.execute(
            update(refunds)
            .where(refunds.c.id == refund_id, claimable)
            .values(status="refunding", claim_token=token, claimed_at=now, attempts=refunds.c.attempts + 1)
            .returning(*refunds.c)
        )
        return result.mappings().first()

    def finish(self, refund_id: uuid.UUID, token: str, **values: Any) -> bool:
        result = self.session.execute(
            update(refunds)
            .where(refunds.c.id == refund_id, refunds.c.status == "refunding", refunds.c.claim_token == token)
            .values(**values)
            .returning(refunds.c.id)
        )
        return result.first() is not None

    def pending_cents(self, mission_id: uuid.UUID) -> int:
        """Refunds decided but not yet made: that money is no longer available to release."""
        value = self.session.execute(
            select(func.coalesce(func.sum(refunds.c.amount_cents), 0)).where(
                refunds.c.mission_id == mission_id, refunds.c.status != "refunded"
            )
        ).scalar_one()
        return int(value)


class LedgerRepository(_Repository):
    def post(
        self,
        mission_id: uuid.UUID,
        posting: str,
        entries: Sequence[Entry],
        now: dt.datetime,
        reference: str | None,
    ) -> bool:
        """Write a posting once; False if it was already written (its rows are unique per posting)."""
        exists = self.session.execute(
            select(ledger_entries.c.id).where(ledger_entries.c.posting == posting).limit(1)
        ).first()
        if exists:
            return False
        for entry in entries:
            self.session.execute(
                insert(ledger_entries).values(
                    mission_id=mission_id,
                    posting=posting,
                    account=entry.account,
                    direction=entry.direction,
                    amount_cents=entry.amount_cents,
                    reference=reference,
                    created_at=now,
                )
            )
        return True

    def entries(self, mission_id: uuid.UUID) -> list[Row]:
        return self._all(
            select(ledger_entries)
            .where(ledger_entries.c.mission_id == mission_id)
            .order_by(ledger_entries.c.id)
        )

    def held_cents(self, mission_ids: Sequence[uuid.UUID]) -> int:
        """What escrow holds for these missions (debits - credits)."""
        if not mission_ids:
            return 0
        total = 0
        for row in self._all(
            select(ledger_entries.c.direction, func.sum(ledger_entries.c.amount_cents).label("cents"))
            .where(ledger_entries.c.mission_id.in_(list(mission_ids)), ledger_entries.c.account == "escrow")
            .group_by(ledger_entries.c.direction)
        ):
            total += int(row["cents"]) if row["direction"] == "debit" else -int(row["cents"])
        return total


class AccountRepository(_Repository):
    def get(self, pro_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        query = select(connected_accounts).where(connected_accounts.c.pro_id == pro_id)
        return self._one(query.with_for_update() if lock else query)

    def by_stripe_id(self, account_id: str) -> Row | None:
        return self._one(
            select(connected_accounts).where(connected_accounts.c.stripe_account_id == account_id)
        )

    def add(self, row: Mapping[str, Any]) -> bool:
        statement = (
            upsert_insert(self.session, connected_accounts)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["pro_id"])
            .returning(connected_accounts.c.pro_id)
        )
        return self.session.execute(statement).first() is not None

    def refresh(self, account_id: str, now: dt.datetime, **flags: bool) -> Row | None:
        result = self.session.execute(
            update(connected_accounts)
            .where(connected_accounts.c.stripe_account_id == account_id)
            .values(refreshed_at=now, **flags)
            .returning(*connected_accounts.c)
        )
        return result.mappings().first()


class OnboardingReminderRepository(_Repository):
    """Reminders to finish payout onboarding, one row per pro ever reminded (account or not)."""

    def get(self, pro_id: uuid.UUID) -> Row | None:
        return self._one(select(onboarding_reminders).where(onboarding_reminders.c.pro_id == pro_id))

    def record(self, pro_id: uuid.UUID, now: dt.datetime, *, not_since: dt.datetime) -> bool:
        """Record a reminder, unless the pro was reminded after ``not_since``. One upsert
        (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``) decides, first reminder or not: of passes
        racing, exactly one inserts or updates the row (and publishes its event); the others wait
        on the row's key, then find the condition false. True if recorded."""
        statement = (
            upsert_insert(self.session, onboarding_reminders)
            .values(pro_id=pro_id, last_reminded_at=now, reminders=1)
            .on_conflict_do_update(
                index_elements=["pro_id"],
                set_={
                    "last_reminded_at": now,
                    "reminders": onboarding_reminders.c.reminders + 1,
                },
                where=onboarding_reminders.c.last_reminded_at <= not_since,
            )
            .returning(onboarding_reminders.c.pro_id)
        )
        return self.session.execute(statement).first() is not None


class ProjectionRepository(_Repository):
    """Commission rates (subscriptions), suspensions and incident freezes (trust & safety)."""

    def record_rate(self, pro_id: uuid.UUID, plan: str, bps: int, effective_at: dt.datetime) -> bool:
        current = self._one(select(commission_rates).where(commission_rates.c.pro_id == pro_id))
        if current is None:
            self.session.execute(
                insert(commission_rates).values(
                    pro_id=pro_id, plan=plan, commission_rate_bps=bps, effective_at=effective_at
                )
            )
            return True
        if current["effective_at"] > effective_at:
            return False
        self.session.execute(
            update(commission_rates)
            .where(commission_rates.c.pro_id == pro_id)
            .values(plan=plan, commission_rate_bps=bps, effective_at=effective_at)
        )
        return True

    def rate(self, pro_id: uuid.UUID) -> int | None:
        row = self._one(
            select(commission_rates.c.commission_rate_bps).where(commission_rates.c.pro_id == pro_id)
        )
        return None if row is None else int(row["commission_rate_bps"])

    def record_suspension(self, user_id: uuid.UUID, suspended: bool, changed_at: dt.datetime) -> bool:
        """True if this changes what we hold (a later change already recorded wins)."""
        current = self._one(select(suspensions).where(suspensions.c.user_id == user_id))
        if current is None:
            self.session.execute(
                insert(suspensions).values(user_id=user_id, suspended=suspended, changed_at=changed_at)
            )
            return suspended
        if current["changed_at"] > changed_at:
            return False
        self.session.execute(
            update(suspensions)
            .where(suspensions.c.user_id == user_id)
            .values(suspended=suspended, changed_at=changed_at)
        )
        return current["suspended"] != suspended

    def is_suspended(self, user_id: uuid.UUID) -> bool:
        row = self._one(select(suspensions.c.suspended).where(suspensions.c.user_id == user_id))
        return bool(row and row["suspended"])

    def open_incident(self, incident_id: uuid.UUID, mission_id: uuid.UUID, at: dt.datetime) -> bool:
        """True if this opens a freeze (not if the incident is known, e.g. already resolved)."""
        statement = (
            upsert_insert(self.session, freezes)
            .values(incident_id=incident_id, mission_id=mission_id, opened_at=at)
            .on_conflict_do_nothing(index_elements=["incident_id"])
            .returning(freezes.c.incident_id)
        )
        return self.session.execute(statement).first() is not None

    def resolve_incident(
        self, incident_id: uuid.UUID, mission_id: uuid.UUID, at: dt.datetime, outcome: str
    ) -> str:
        """'resolved' (it was open), 'duplicate' (already resolved) or 'early' (resolved before opened)."""
        current = self._one(select(freezes).where(freezes.c.incident_id == incident_id))
        if current is None:
            self.session.execute(
                insert(freezes).values(
                    incident_id=incident_id,
                    mission_id=mission_id,
                    opened_at=None,
                    resolved_at=at,
                    outcome=outcome,
                )
            )
            return "early"
        if current["resolved_at"] is not None:
            return "duplicate"
        self.session.execute(
            update(freezes)
            .where(freezes.c.incident_id == incident_id)
            .values(resolved_at=at, outcome=outcome)
        )
        return "resolved"

    def is_frozen(self, mission_id: uuid.UUID) -> bool:
        row = self._one(
            select(freezes.c.incident_id).where(
                freezes.c.mission_id == mission_id, freezes.c.resolved_at.is_(None)
            )
        )
        return row is not None


class StripeEventRepository(_Repository):
    def seen(self, event_id: str) -> bool:
        return (
            self._one(select(stripe_events.c.event_id).where(stripe_events.c.event_id == event_id))
            is not None
        )

    def claim(self, event_id: str, type_: str, object_id: str | None, created: int, now: dt.datetime) -> bool:
        statement = (
            upsert_insert(self.session, stripe_events)
            .values(
                event_id=event_id,
                type=type_,
                object_id=object_id,
                created=created,
                outcome="received",
                received_at=now,
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(stripe_events.c.event_id)
        )
        return self.session.execute(statement).first() is not None

    def set_outcome(self, event_id: str, outcome: str) -> None:
        self.session.execute(
            update(stripe_events).where(stripe_events.c.event_id == event_id).values(outcome=outcome)
        )


class ReconciliationRepository(_Repository):
    def replace(self, mission_id: uuid.UUID, issues: Sequence[tuple[str, str]], now: dt.datetime) -> None:
        self.session.execute(
            reconciliation_issues.delete().where(reconciliation_issues.c.mission_id == mission_id)
        )
        for kind, detail in issues:
            self.session.execute(
                insert(reconciliation_issues).values(
                    mission_id=mission_id, kind=kind, detail=detail, found_at=now
                )
            )

    def of_mission(self, mission_id: uuid.UUID) -> list[Row]:
        return self._all(
            select(reconciliation_issues).where(reconciliation_issues.c.mission_id == mission_id)
        )
