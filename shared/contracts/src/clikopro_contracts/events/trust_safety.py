"""Events published by the trust & safety service (incidents, suspensions, fraud, anti-circumvention)."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from clikopro_contracts.fields import Cents, Currency, Id, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "trust-safety"
#: The kinds of contact details v1 events name.
CONTACT_KINDS_V1 = ("phone", "email", "iban", "link")
#: Every kind the contact-detail detector finds (v2 events): v1's, plus social handles and
#: messengers, and invitations to pay or deal off the platform.
CONTACT_KINDS = (*CONTACT_KINDS_V1, "social", "offplatform_payment")
INCIDENT_OUTCOMES = ("release", "refund", "partial_refund", "dismiss")
PARTIES = ("client", "pro")
SOURCES = ("mission", "proposal", "appointment", "review")
SLUG = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="Not a code (lowercase, digits, underscores).")


def masked_contacts(kinds: tuple[str, ...] = CONTACT_KINDS_V1) -> fields.List:
    """The field every event with user-written free text carries, for anti-circumvention (R19).

    v1 events name the four kinds of ``CONTACT_KINDS_V1``; v2 events all of ``CONTACT_KINDS``
    (a consumer of v1 refuses a kind it does not know, so the enum grows by a new version)."""
    return fields.List(
        fields.String(validate=validate.OneOf(kinds)),
        load_default=list,
        metadata=doc(
            "Kinds of contact details the producer detected and masked in the free text "
            "(one entry per occurrence); empty if none."
        ),
    )


@register("IncidentOpened", 1, producer=PRODUCER)
class IncidentOpened(Schema):
    """A party declared an incident on a mission, so the mission's pending payouts must be frozen."""

    incident_id = Id(required=True, metadata=doc("The incident."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The mission's client."))
    pro_id = Id(required=True, metadata=doc("The mission's professional."))
    opened_by = Id(required=True, metadata=doc("The user who declared it."))
    opened_by_role = fields.String(
        required=True, validate=validate.OneOf(PARTIES), metadata=doc("Which party declared it.")
    )
    category = fields.String(
        required=True, validate=SLUG, metadata=doc("Category code (e.g. `work_not_done`, `damage`).")
    )
    opened_at = UtcDateTime(required=True, metadata=doc("When it was declared."))


@register("IncidentResolved", 1, producer=PRODUCER)
class IncidentResolved(Schema):
    """A moderator resolved an incident by releasing, refunding in full or in part, or dismissing it."""

    incident_id = Id(required=True, metadata=doc("The incident."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The mission's client."))
    pro_id = Id(required=True, metadata=doc("The mission's professional."))
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(INCIDENT_OUTCOMES),
        metadata=doc(
            "`release` (pay the held funds to the pro), `refund` (refund everything still held), "
            "`partial_refund` (refund refund_amount_cents, release the rest) or `dismiss` (no money "
            "moves, the mission resumes)."
        ),
    )
    refund_amount_cents = Cents(
        required=True,
        allow_none=True,
        metadata=doc("Amount to refund, in cents, for `partial_refund` only; null otherwise."),
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    moderator_id = Id(required=True, metadata=doc("The moderator who decided."))
    resolved_at = UtcDateTime(required=True, metadata=doc("When it was resolved."))

    @validates_schema
    def _check_amount(self, data: dict[str, Any], **kwargs: Any) -> None:
        amount = data["refund_amount_cents"]
        if data["outcome"] == "partial_refund":
            if not amount:
                raise ValidationError("A partial refund needs a positive amount.", "refund_amount_cents")
        elif amount is not None:
            raise ValidationError("Only a partial refund has an amount.", "refund_amount_cents")


@register("AccountSuspended", 1, producer=PRODUCER)
class AccountSuspended(Schema):
    """An account was suspended and must be refused everywhere, its offers hidden and its payouts frozen."""

    user_id = Id(required=True, metadata=doc("The suspended user."))
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=1000), metadata=doc("The stated reason.")
    )
    until = UtcDateTime(
        required=True, allow_none=True, metadata=doc("End of a temporary suspension; null until reinstated.")
    )
    suspended_by = Id(
        required=True,
        allow_none=True,
        metadata=doc("The moderator, null for an automatic (fraud) suspension."),
    )
    suspended_at = UtcDateTime(required=True, metadata=doc("When it took effect."))


@register("AccountReinstated", 1, producer=PRODUCER)
class AccountReinstated(Schema):
    """A suspended account was reinstated, by a moderator or at the end of a temporary suspension, which
    undoes it."""

    user_id = Id(required=True, metadata=doc("The reinstated user."))
    reinstated_by = Id(
        required=True, allow_none=True, metadata=doc("The moderator, null when a temporary suspension ended.")
    )
    reinstated_at = UtcDateTime(required=True, metadata=doc("When it took effect."))


@register("DocumentsRequested", 1, producer=PRODUCER)
class DocumentsRequested(Schema):
    """The platform asked a user for extra documents, which the user uploads to trust & safety."""

    request_id = Id(required=True, metadata=doc("The document request."))
    user_id = Id(required=True, metadata=doc("The user asked."))
    documents = fields.List(
        fields.String(validate=SLUG),
        required=True,
        validate=validate.Length(min=1),
        metadata=doc("Codes of the documents asked for (e.g. `kbis`, `insurance_certificate`)."),
    )
    reason = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata=doc("Stated reason, if any."),
    )
    due_at = UtcDateTime(required=True, allow_none=True, metadata=doc("Deadline for the upload, if any."))
    requested_by = Id(required=True, allow_none=True, metadata=doc("The moderator, null if automatic."))
    requested_at = UtcDateTime(required=True, metadata=doc("When it was asked."))


@register("CircumventionDetected", 1, producer=PRODUCER)
class CircumventionDetected(Schema):
    """A user tried to pass contact details in free text before contact was allowed, which repeated leads to
    suspension."""

    detection_id = Id(required=True, metadata=doc("The detection."))
    user_id = Id(required=True, metadata=doc("The author of the text."))
    source = fields.String(
        required=True, validate=validate.OneOf(SOURCES), metadata=doc("Kind of text it was found in.")
    )
    source_id = Id(required=True, metadata=doc("Id of that mission, proposal, appointment or review."))
    mission_id = Id(required=True, allow_none=True, metadata=doc("The mission involved, if any."))
    contact_kinds = fields.List(
        fields.String(validate=validate.OneOf(CONTACT_KINDS_V1)),
        required=True,
        validate=validate.Length(min=1),
        metadata=doc("Kinds of contact details found (one entry per occurrence)."),
    )
    attempts_in_window = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata=doc("The user's attempts over the rolling window, this one included."),
    )
    detected_at = UtcDateTime(required=True, metadata=doc("When it was detected."))


@register("CircumventionDetected", 2, producer=PRODUCER)
class CircumventionDetectedV2(CircumventionDetected):
    """A user tried to pass contact details or to deal off the platform in free text before contact was
    allowed, which repeated leads to suspension (v2: social handles and off-platform payment too)."""

    contact_kinds = fields.List(
        fields.String(validate=validate.OneOf(CONTACT_KINDS)),
        required=True,
        validate=validate.Length(min=1),
        metadata=doc("Kinds of contact details found (one entry per occurrence)."),
    )
