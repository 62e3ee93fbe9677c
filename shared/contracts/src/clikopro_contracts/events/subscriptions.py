"""Events published by the subscriptions service (professional plans and entitlements).

``SubscriptionActivated``, ``SubscriptionRenewed``, ``SubscriptionCancelled``
and ``SubscriptionLapsed`` all carry the entitlements in force *after* the
event, so the gateway, missions and appointments can overwrite their copy
without asking (newest ``effective_at`` wins).
"""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from clikopro_contracts.fields import Cents, Currency, Id, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "subscriptions"
FEATURES = ("direct_payment", "appointments", "unlimited_proposals")
PLAN = validate.Regexp(r"^[a-z][a-z0-9_-]*$", error="Not a plan id.")
LAPSE_REASONS = ("payment_failed", "not_renewed")


class _Entitlements(Schema):
    subscription_id = Id(required=True, metadata=doc("The subscription the event is about."))
    pro_id = Id(required=True, metadata=doc("The professional (user id)."))
    plan = fields.String(
        required=True, validate=PLAN, metadata=doc("Plan in force after the event (`free`, …).")
    )
    features = fields.List(
        fields.String(validate=validate.OneOf(FEATURES)),
        required=True,
        metadata=doc("Paid features in force after the event; empty on the free plan."),
    )
    proposals_per_month = fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata=doc("Proposals allowed per calendar month; null means unlimited."),
    )
    commission_rate_bps = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=10_000),
        metadata=doc("Platform commission on Secure missions, in basis points (800 = 8 %)."),
    )
    period_start = UtcDateTime(required=True, metadata=doc("Start of the period in force."))
    period_end = UtcDateTime(
        required=True, allow_none=True, metadata=doc("End of the period in force; null for the free plan.")
    )
    effective_at = UtcDateTime(required=True, metadata=doc("When this state took effect."))

    @validates_schema
    def _check_entitlements(self, data: dict[str, Any], **kwargs: Any) -> None:
        features = data["features"]
        if len(set(features)) != len(features):
            raise ValidationError("Features must not repeat.", "features")
        if ("unlimited_proposals" in features) != (data["proposals_per_month"] is None):
            raise ValidationError(
                "proposals_per_month is null exactly when unlimited_proposals is granted.",
                "proposals_per_month",
            )
        if data["period_end"] is not None and data["period_end"] <= data["period_start"]:
            raise ValidationError("period_end must come after period_start.", "period_end")


@register("SubscriptionActivated", 1, producer=PRODUCER)
class SubscriptionActivated(_Entitlements):
    """A professional's plan started (the free plan at sign-up or a paid plan once paid) and its entitlements
    apply."""


@register("SubscriptionRenewed", 1, producer=PRODUCER)
class SubscriptionRenewed(_Entitlements):
    """A paid plan was renewed tacitly for a new 12-month period and its entitlements go on."""

    amount_cents = Cents(required=True, metadata=doc("Amount paid for the new period, in cents."))
    currency = Currency(metadata=doc("Currency of the amounts."))


@register("RenewalReminderDue", 1, producer=PRODUCER)
class RenewalReminderDue(Schema):
    """A paid plan will renew tacitly soon, and the professional must be told and reminded how to turn
    renewal off."""

    subscription_id = Id(required=True, metadata=doc("The subscription."))
    pro_id = Id(required=True, metadata=doc("The professional to notify."))
    plan = fields.String(required=True, validate=PLAN, metadata=doc("The plan that will renew."))
    renews_at = UtcDateTime(
        required=True, metadata=doc("When it renews unless renewal is turned off before.")
    )
    amount_cents = Cents(required=True, metadata=doc("Price of the next period, in cents."))
    currency = Currency(metadata=doc("Currency of the amounts."))


@register("SubscriptionCancelled", 1, producer=PRODUCER)
class SubscriptionCancelled(_Entitlements):
    """A professional turned tacit renewal off, so the plan stays
    in force until period_end and then lapses."""

    cancelled_at = UtcDateTime(required=True, metadata=doc("When renewal was turned off."))


@register("SubscriptionLapsed", 1, producer=PRODUCER)
class SubscriptionLapsed(_Entitlements):
    """A paid plan ended, by a failed renewal or without renewal, and its paid features stop everywhere."""

    lapsed_plan = fields.String(required=True, validate=PLAN, metadata=doc("The paid plan that ended."))
    reason = fields.String(
        required=True,
        validate=validate.OneOf(LAPSE_REASONS),
        metadata=doc("`payment_failed` (renewal payment failed) or `not_renewed` (renewal turned off)."),
    )
