"""The plan catalog (data: ``plans.yaml``) and the entitlements a plan grants."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

FREE = "free"
FEATURES = ("direct_payment", "appointments", "unlimited_proposals")
INTERVALS = ("year",)
_PLAN_ID = re.compile(r"^[a-z][a-z0-9_-]*$")
_STRIPE_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


class CatalogError(ValueError):
    """The catalog file is not valid; the message lists every problem."""


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    price_cents: int
    currency: str
    interval: str
    features: tuple[str, ...]
    #: None: unlimited.
    proposals_per_month: int | None
    commission_rate_bps: int
    stripe_product: str | None = None
    stripe_price: str | None = None

    @property
    def is_free(self) -> bool:
        return self.id == FREE

    def public(self) -> dict[str, Any]:
        """The plan as ``GET /api/v1/plans`` shows it (API.md)."""
        return {
            "id": self.id,
            "name": self.name,
            "price_cents": self.price_cents,
            "currency": self.currency,
            "interval": self.interval,
            "features": list(self.features),
            "proposals_per_month": self.proposals_per_month,
            "commission_rate_bps": self.commission_rate_bps,
        }


@dataclass(frozen=True)
class Catalog:
    plans: tuple[Plan, ...]

    def get(self, plan_id: str) -> Plan | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    @property
    def free(self) -> Plan:
        found = self.get(FREE)
        assert found is not None  # checked when loaded
        return found

    def paid(self, plan_id: str) -> Plan | None:
        plan = self.get(plan_id)
        return plan if plan is not None and not plan.is_free else None

    def plan_or_free(self, plan_id: str) -> Plan:
        """The plan a subscription names; a plan since removed from the catalog keeps the features of
        the first paid plan rather than breaking the reads (it is still billed at Stripe as it was)."""
        return self.get(plan_id) or next((p for p in self.plans if not p.is_free), self.free)


def parse_catalog(text: str) -> Catalog:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"not YAML: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("plans"), Sequence):
        raise CatalogError("expected a mapping with a list of `plans`")
    currency = raw.get("currency", "EUR")
    interval = raw.get("interval", "year")
    problems: list[str] = []
    if currency != "EUR":
        problems.append("currency: only EUR is supported")
    if interval not in INTERVALS:
        problems.append(f"interval: must be one of {INTERVALS}")
    plans = []
    for index, entry in enumerate(raw["plans"]):
        where = f"plans[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        plan, found = _plan(entry, where, currency, interval)
        problems += found
        if plan is not None:
            plans.append(plan)
    ids = [p.id for p in plans]
    if len(set(ids)) != len(ids):
        problems.append("plan ids must be unique")
    if FREE not in ids:
        problems.append("the catalog must have the `free` plan")
    if not any(p.id != FREE for p in plans):
        problems.append("the catalog must have at least one paid plan")
    if problems:
        raise CatalogError("; ".join(problems))
    return Catalog(tuple(plans))


def _plan(
    entry: Mapping[str, Any], where: str, currency: str, interval: str
) -> tuple[Plan | None, list[str]]:
    problems: list[str] = []
    plan_id = entry.get("id")
    if not isinstance(plan_id, str) or not _PLAN_ID.match(plan_id):
        problems.append(f"{where}.id: a lower-case identifier")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name: required")
    price = entry.get("price_cents")
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        problems.append(f"{where}.price_cents: a non-negative integer of cents")
    features = entry.get("features", [])
    if not isinstance(features, list) or any(f not in FEATURES for f in features):
        problems.append(f"{where}.features: among {', '.join(FEATURES)}")
        features = []
    elif len(set(features)) != len(features):
        problems.append(f"{where}.features: must not repeat")
    quota = entry.get("proposals_per_month")
    if quota is not None and (not isinstance(quota, int) or isinstance(quota, bool) or quota < 0):
        problems.append(f"{where}.proposals_per_month: a non-negative integer or null")
    if ("unlimited_proposals" in features) != (quota is None):
        problems.append(f"{where}: proposals_per_month is null exactly when unlimited_proposals is granted")
    bps = entry.get("commission_rate_bps")
    if not isinstance(bps, int) or isinstance(bps, bool) or not 0 <= bps <= 10_000:
        problems.append(f"{where}.commission_rate_bps: an integer from 0 to 10000")
    stripe = entry.get("stripe") or {}
    product, price_id = stripe.get("product"), stripe.get("price")
    if plan_id == FREE:
        if price != 0 or features:
            problems.append(f"{where}: the free plan costs 0 and grants no paid feature")
    else:
        if not isinstance(price, int) or price <= 0:
            problems.append(f"{where}.price_cents: a paid plan has a price")
        for key, value in (("product", product), ("price", price_id)):
            if not isinstance(value, str) or not _STRIPE_ID.match(value):
                problems.append(f"{where}.stripe.{key}: the Stripe id that bills this plan")
    if problems:
        return None, problems
    return (
        Plan(
            id=plan_id,
            name=name.strip(),
            price_cents=price,
            currency=currency,
            interval=interval,
            features=tuple(features),
            proposals_per_month=quota,
            commission_rate_bps=bps,
            stripe_product=product,
            stripe_price=price_id,
        ),
        [],
    )


@dataclass(frozen=True)
class Entitlements:
    """What a pro may do, as the events and the entitlement reads carry it."""

    plan: str
    features: tuple[str, ...]
    proposals_per_month: int | None
    commission_rate_bps: int
    period_start: dt.datetime
    #: None on the free plan.
    period_end: dt.datetime | None
    effective_at: dt.datetime

    @classmethod
    def of(
        cls,
        plan: Plan,
        *,
        period_start: dt.datetime,
        period_end: dt.datetime | None,
        effective_at: dt.datetime,
    ) -> Entitlements:
        return cls(
            plan=plan.id,
            features=plan.features,
            proposals_per_month=plan.proposals_per_month,
            commission_rate_bps=plan.commission_rate_bps,
            period_start=period_start,
            period_end=None if plan.is_free else period_end,
            effective_at=effective_at,
        )

    def event_data(self) -> dict[str, Any]:
        """The entitlement fields every subscription event shares (clikopro_contracts)."""
        return {
            "plan": self.plan,
            "features": list(self.features),
            "proposals_per_month": self.proposals_per_month,
            "commission_rate_bps": self.commission_rate_bps,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "effective_at": self.effective_at,
        }
