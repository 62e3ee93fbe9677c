"""Events published by the payments service (CLIKOPRO Secure on Stripe Connect)."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from clikopro_contracts.fields import Cents, Currency, Id, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "payments"
REFUND_REASONS = ("incident", "mission_cancelled")
FREEZE_REASONS = ("incident", "account_suspended")


def _stripe_id(prefix: str, description: str) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Regexp(rf"^{prefix}_[A-Za-z0-9]+$"),
        metadata=doc(f"{description} (Stripe id `{prefix}_…`)."),
    )


@register("PaymentSecured", 1, producer=PRODUCER)
class PaymentSecured(Schema):
    """The client's payment for a Secure contract succeeded and the
    funds are held until tasks are validated."""

    payment_id = Id(required=True, metadata=doc("The mission's payment."))
    mission_id = Id(required=True, metadata=doc("The mission, which can move to `in_progress`."))
    client_id = Id(required=True, metadata=doc("The client who paid."))
    pro_id = Id(required=True, metadata=doc("The professional to be paid task by task."))
    amount_cents = Cents(required=True, metadata=doc("Amount charged in cents (the contract price)."))
    commission_cents = Cents(
        required=True, metadata=doc("Platform commission on the mission in cents (also its liability cap).")
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    secured_at = UtcDateTime(required=True, metadata=doc("When Stripe confirmed the payment."))

    @validates_schema
    def _check_commission(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["commission_cents"] > data["amount_cents"]:
            raise ValidationError("The commission cannot exceed the amount.", "commission_cents")


@register("PaymentFailed", 1, producer=PRODUCER)
class PaymentFailed(Schema):
    """The client's payment for a Secure contract failed, so the mission stays awaiting payment."""

    payment_id = Id(required=True, metadata=doc("The mission's payment."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The client whose payment failed."))
    amount_cents = Cents(required=True, metadata=doc("Amount that was attempted, in cents."))
    currency = Currency(metadata=doc("Currency of the amounts."))
    failure_code = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata=doc("Stripe decline or error code (e.g. `card_declined`), null if unknown."),
    )
    attempt = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata=doc("Attempt number for this payment."),
    )
    failed_at = UtcDateTime(required=True, metadata=doc("When the failure was known."))


@register("FundsReleased", 1, producer=PRODUCER)
class FundsReleased(Schema):
    """A validated task's share, minus the platform commission, was transferred to the professional's
    account."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    task_id = Id(required=True, metadata=doc("The validated task; at most one release per task."))
    pro_id = Id(required=True, metadata=doc("The professional paid."))
    amount_cents = Cents(required=True, metadata=doc("Gross task amount in cents."))
    commission_cents = Cents(required=True, metadata=doc("Platform commission kept on this task, in cents."))
    net_cents = Cents(
        required=True, metadata=doc("Amount transferred in cents: amount_cents - commission_cents.")
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    transfer_id = _stripe_id("tr", "The transfer to the connected account")
    released_at = UtcDateTime(required=True, metadata=doc("When the transfer was made."))

    @validates_schema
    def _check_net(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["amount_cents"] - data["commission_cents"] != data["net_cents"]:
            raise ValidationError("net_cents must be amount_cents - commission_cents.", "net_cents")


@register("RefundIssued", 1, producer=PRODUCER)
class RefundIssued(Schema):
    """Money held for a mission was refunded to the client, in full or in part."""

    payment_id = Id(required=True, metadata=doc("The mission's payment."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The client refunded."))
    pro_id = Id(required=True, metadata=doc("The professional of the mission."))
    amount_cents = Cents(
        required=True,
        validate=validate.Range(min=1),
        metadata=doc("Amount refunded by this refund, in cents."),
    )
    total_refunded_cents = Cents(
        required=True,
        metadata=doc("Everything refunded on this payment so far, this refund included, in cents."),
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    reason = fields.String(required=True, validate=validate.OneOf(REFUND_REASONS), metadata=doc("Why."))
    incident_id = Id(
        required=True, allow_none=True, metadata=doc("The resolved incident, when reason is `incident`.")
    )
    refund_id = _stripe_id("re", "The refund")
    refunded_at = UtcDateTime(required=True, metadata=doc("When Stripe accepted the refund."))

    @validates_schema
    def _check_totals(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["total_refunded_cents"] < data["amount_cents"]:
            raise ValidationError("total_refunded_cents includes this refund.", "total_refunded_cents")
        if (data["reason"] == "incident") != (data["incident_id"] is not None):
            raise ValidationError("incident_id is given exactly when reason is `incident`.", "incident_id")


@register("PayoutOnboardingReminderDue", 1, producer=PRODUCER)
class PayoutOnboardingReminderDue(Schema):
    """The money of validated tasks waits for a professional who has not finished payout onboarding, and the
    professional must be reminded to finish it."""

    pro_id = Id(required=True, metadata=doc("The professional to remind."))
    waiting_cents = Cents(
        required=True,
        metadata=doc("Gross amount waiting for the onboarding, in cents (before the platform commission)."),
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    releases_waiting = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata=doc("Number of validated tasks whose release waits for the onboarding."),
    )
    missions_waiting = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata=doc("Number of missions those tasks belong to."),
    )
    reminded_at = UtcDateTime(
        required=True, metadata=doc("When the reminder was recorded (at most one per reminder interval).")
    )

    @validates_schema
    def _check_counts(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["missions_waiting"] > data["releases_waiting"]:
            raise ValidationError(
                "Each waiting mission has at least one waiting release.", "missions_waiting"
            )


class _Freeze(Schema):
    pro_id = Id(required=True, metadata=doc("The professional whose payouts are concerned."))
    mission_id = Id(
        required=True,
        allow_none=True,
        metadata=doc("The mission concerned; null means every mission of the professional."),
    )
    reason = fields.String(
        required=True,
        validate=validate.OneOf(FREEZE_REASONS),
        metadata=doc("`incident` (one mission) or `account_suspended` (all the professional's missions)."),
    )
    incident_id = Id(required=True, allow_none=True, metadata=doc("The incident, when reason is `incident`."))

    @validates_schema
    def _check_scope(self, data: dict[str, Any], **kwargs: Any) -> None:
        incident = data["reason"] == "incident"
        if incident != (data["incident_id"] is not None) or incident != (data["mission_id"] is not None):
            raise ValidationError(
                "An incident freeze names its incident and mission; a suspension freeze names neither."
            )


@register("PayoutsFrozen", 1, producer=PRODUCER)
class PayoutsFrozen(_Freeze):
    """Releases to a professional were frozen, for one mission
    under incident or for all after a suspension."""

    held_cents = Cents(
        required=True, metadata=doc("Amount held and not yet released in the scope, in cents.")
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    frozen_at = UtcDateTime(required=True, metadata=doc("When the freeze took effect."))


@register("PayoutsUnfrozen", 1, producer=PRODUCER)
class PayoutsUnfrozen(_Freeze):
    """A payout freeze was lifted, after the incident's resolution or the account's reinstatement."""

    unfrozen_at = UtcDateTime(required=True, metadata=doc("When the freeze was lifted."))


@register("PaymentDisputed", 1, producer=PRODUCER)
class PaymentDisputed(Schema):
    """The client disputed the mission's card payment at their bank (a chargeback), so what is still
    held is frozen and an incident is opened for the mission."""

    payment_id = Id(required=True, metadata=doc("The mission's payment."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The client who paid."))
    pro_id = Id(required=True, metadata=doc("The mission's professional."))
    dispute_id = _stripe_id("dp", "The dispute")
    amount_cents = Cents(required=True, metadata=doc("Disputed amount in cents."))
    currency = Currency(metadata=doc("Currency of the amounts."))
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=100), metadata=doc("Stripe's dispute reason code.")
    )
    disputed_at = UtcDateTime(required=True, metadata=doc("When Stripe reported it."))


@register("PaymentDisputeClosed", 1, producer=PRODUCER)
class PaymentDisputeClosed(Schema):
    """A card dispute was closed, won (the money stays) or lost (the bank took it back, booked as the
    platform's loss with a claim on the professional for what was already released)."""

    payment_id = Id(required=True, metadata=doc("The mission's payment."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    dispute_id = _stripe_id("dp", "The dispute")
    status = fields.String(required=True, validate=validate.OneOf(("won", "lost")), metadata=doc("Outcome."))
    amount_cents = Cents(required=True, metadata=doc("Amount the bank took back (0 when won)."))
    platform_loss_cents = Cents(
        required=True, metadata=doc("Part of it already released to the pro: the platform's loss and claim.")
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    closed_at = UtcDateTime(required=True, metadata=doc("When Stripe closed it."))
