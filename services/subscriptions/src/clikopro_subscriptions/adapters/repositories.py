"""Repositories of the subscriptions database (SQLAlchemy Core on the unit of work's session).

Conditional writes return the rows they changed (``RETURNING``): "did I win?" is "did a row come back?".
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from clikopro_chassis.db import upsert_insert
from clikopro_subscriptions.adapters.orm import (
    checkouts,
    customers,
    proposal_counts,
    renewal_reminders,
    stripe_events,
    subscription_transitions,
    subscriptions,
)
from clikopro_subscriptions.domain.lifecycle import ACTIVE, CANCEL_PENDING, LIVE, PAST_DUE


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session


class SubscriptionRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> None:
        self.session.execute(subscriptions.insert().values(**values))

    def _one(self, condition: Any, lock: bool) -> RowMapping | None:
        query = select(subscriptions).where(condition)
        if lock:
            query = query.with_for_update()
        return self.session.execute(query).mappings().first()

    def get(self, subscription_id: uuid.UUID, *, lock: bool = False) -> RowMapping | None:
        return self._one(subscriptions.c.id == subscription_id, lock)

    def by_stripe_id(self, stripe_subscription_id: str, *, lock: bool = False) -> RowMapping | None:
        return self._one(subscriptions.c.stripe_subscription_id == stripe_subscription_id, lock)

    def live_of(self, pro_id: uuid.UUID, *, lock: bool = False) -> RowMapping | None:
        return self._one((subscriptions.c.pro_id == pro_id) & subscriptions.c.status.in_(LIVE), lock)

    def latest_of(self, pro_id: uuid.UUID) -> RowMapping | None:
        """The pro's live subscription, else their most recent one."""
        live = self.live_of(pro_id)
        if live is not None:
            return live
        query = (
            select(subscriptions)
            .where(subscriptions.c.pro_id == pro_id)
            .order_by(subscriptions.c.activated_at.desc(), subscriptions.c.id.desc())
            .limit(1)
        )
        return self.session.execute(query).mappings().first()

    def change(self, subscription_id: uuid.UUID, version: int, **values: Any) -> RowMapping | None:
        """Optimistic update: applies only if nobody changed the subscription since ``version`` was read."""
        return (
            self.session.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id, subscriptions.c.version == version)
                .values(**values, version=subscriptions.c.version + 1)
                .returning(subscriptions)
            )
            .mappings()
            .first()
        )

    def _ids(self, query: Any) -> list[uuid.UUID]:
        return list(self.session.execute(query).scalars())

    def awaiting_reminder(self, now: dt.datetime, horizon: dt.datetime, *, limit: int) -> list[uuid.UUID]:
        """Active subscriptions renewing in ``(now, horizon]`` whose renewal has not been announced."""
        sent = exists().where(
            renewal_reminders.c.subscription_id == subscriptions.c.id,
            renewal_reminders.c.renews_at == subscriptions.c.period_end,
        )
        return self._ids(
            select(subscriptions.c.id)
            .where(
                subscriptions.c.status == ACTIVE,
                subscriptions.c.period_end > now,
                subscriptions.c.period_end <= horizon,
                ~sent,
            )
            .order_by(subscriptions.c.period_end)
            .limit(limit)
        )

    def not_renewed_ended(self, now: dt.datetime, *, limit: int) -> list[uuid.UUID]:
        """Renewal off and the period over."""
        return self._ids(
            select(subscriptions.c.id)
            .where(subscriptions.c.status == CANCEL_PENDING, subscriptions.c.period_end <= now)
            .order_by(subscriptions.c.period_end)
            .limit(limit)
        )

    def past_due_since(self, before: dt.datetime, *, limit: int) -> list[uuid.UUID]:
        """Failed renewals due at or before ``before`` (the end of their retry window has come)."""
        due = subscriptions.c.renewal_due_at
        return self._ids(
            select(subscriptions.c.id)
            .where(
                subscriptions.c.status == PAST_DUE,
                or_(due <= before, due.is_(None) & (subscriptions.c.period_end <= before)),
            )
            .order_by(subscriptions.c.renewal_due_at)
            .limit(limit)
        )

    def overdue_renewals(
        self, ended_before: dt.datetime, synced_before: dt.datetime, *, limit: int
    ) -> list[uuid.UUID]:
        """Active subscriptions whose period ended a while ago with no renewal heard of."""
        return self._ids(
            select(subscriptions.c.id)
            .where(
                subscriptions.c.status == ACTIVE,
                subscriptions.c.period_end <= ended_before,
                subscriptions.c.synced_at <= synced_before,
            )
            .order_by(subscriptions.c.period_end)
            .limit(limit)
        )


class TransitionRepository(_Repository):
    def record(self, values: Mapping[str, Any]) -> None:
        self.session.execute(subscription_transitions.insert().values(**values))

    def of_subscription(self, subscription_id: uuid.UUID) -> Sequence[RowMapping]:
        return (
            self.session.execute(
                select(subscription_transitions)
                .where(subscription_transitions.c.subscription_id == subscription_id)
                .order_by(subscription_transitions.c.id)
            )
            .mappings()
            .all()
        )


class CustomerRepository(_Repository):
    def get(self, pro_id: uuid.UUID) -> str | None:
        return self.session.execute(
            select(customers.c.stripe_customer_id).where(customers.c.pro_id == pro_id)
        ).scalar()

    def add(self, pro_id: uuid.UUID, stripe_customer_id: str, at: dt.datetime) -> str:
        """Record the pro's Stripe customer; the first one recorded stays (returned)."""
        self.session.execute(
            upsert_insert(self.session, customers)
            .values(pro_id=pro_id, stripe_customer_id=stripe_customer_id, created_at=at)
            .on_conflict_do_nothing(index_elements=["pro_id"])
        )
        found = self.get(pro_id)
        assert found is not None
        return found


class CheckoutRepository(_Repository):
    def lease(self, pro_id: uuid.UUID, plan: str, now: dt.datetime, until: dt.datetime) -> RowMapping | None:
        """Take the pro's checkout (created with a new subscription id if there is none) until ``until``,
        unless another request holds it; None if one does."""
        statement = upsert_insert(self.session, checkouts).values(
            pro_id=pro_id,
            subscription_id=uuid.uuid4(),
            plan=plan,
            attempt=1,
            outcome_unknown=False,
            lease_until=until,
            started_at=now,
            updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["pro_id"],
            set_={"lease_until": until, "plan": plan, "updated_at": now},
            where=or_(checkouts.c.lease_until.is_(None), checkouts.c.lease_until <= now),
        ).returning(checkouts)
        return self.session.execute(statement).mappings().first()

    def get(self, pro_id: uuid.UUID) -> RowMapping | None:
        return self.session.execute(select(checkouts).where(checkouts.c.pro_id == pro_id)).mappings().first()

    def release(
        self,
        pro_id: uuid.UUID,
        subscription_id: uuid.UUID,
        now: dt.datetime,
        *,
        next_attempt: bool,
        outcome_unknown: bool,
    ) -> None:
        values: dict[str, Any] = {"lease_until": None, "updated_at": now, "outcome_unknown": outcome_unknown}
        if next_attempt:
            values["attempt"] = checkouts.c.attempt + 1
        self.session.execute(
            update(checkouts)
            .where(checkouts.c.pro_id == pro_id, checkouts.c.subscription_id == subscription_id)
            .values(**values)
        )

    def next_attempt(self, pro_id: uuid.UUID, subscription_id: uuid.UUID, now: dt.datetime) -> int:
        """The last attempt is known to have created nothing: the next one gets its own key."""
        return self.session.execute(
            update(checkouts)
            .where(checkouts.c.pro_id == pro_id, checkouts.c.subscription_id == subscription_id)
            .values(attempt=checkouts.c.attempt + 1, outcome_unknown=False, updated_at=now)
            .returning(checkouts.c.attempt)
        ).scalar_one()

    def close(self, subscription_id: uuid.UUID) -> None:
        """The subscription exists: its checkout is over."""
        self.session.execute(delete(checkouts).where(checkouts.c.subscription_id == subscription_id))


class ReminderRepository(_Repository):
    def add(self, values: Mapping[str, Any]) -> bool:
        """Record a renewal notice; False if this renewal was already announced."""
        statement = (
            upsert_insert(self.session, renewal_reminders)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["subscription_id", "renews_at"])
            .returning(renewal_reminders.c.subscription_id)
        )
        return self.session.execute(statement).first() is not None

    def of_subscription(self, subscription_id: uuid.UUID) -> Sequence[RowMapping]:
        return (
            self.session.execute(
                select(renewal_reminders)
                .where(renewal_reminders.c.subscription_id == subscription_id)
                .order_by(renewal_reminders.c.renews_at)
            )
            .mappings()
            .all()
        )


class StripeEventRepository(_Repository):
    def record(self, values: Mapping[str, Any]) -> bool:
        """Record a Stripe event as handled; False if it was already (a redelivery or a replay)."""
        statement = (
            upsert_insert(self.session, stripe_events)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(stripe_events.c.id)
        )
        return self.session.execute(statement).first() is not None

    def set_outcome(self, event_id: str, outcome: str) -> None:
        self.session.execute(
            update(stripe_events).where(stripe_events.c.id == event_id).values(outcome=outcome)
        )

    def get(self, event_id: str) -> RowMapping | None:
        return (
            self.session.execute(select(stripe_events).where(stripe_events.c.id == event_id))
            .mappings()
            .first()
        )


class ProposalCountRepository(_Repository):
    def increment(self, pro_id: uuid.UUID, month: str) -> None:
        statement = upsert_insert(self.session, proposal_counts).values(pro_id=pro_id, month=month, used=1)
        statement = statement.on_conflict_do_update(
            index_elements=["pro_id", "month"], set_={"used": proposal_counts.c.used + 1}
        )
        self.session.execute(statement)

    def used(self, pro_id: uuid.UUID, month: str) -> int:
        return (
            self.session.execute(
                select(proposal_counts.c.used).where(
                    proposal_counts.c.pro_id == pro_id, proposal_counts.c.month == month
                )
            ).scalar()
            or 0
        )
