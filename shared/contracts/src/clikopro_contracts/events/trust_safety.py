"""Events published by the trust & safety service (incidents, suspensions, fraud, anti-circumvention)."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from clikopro_contracts.fields import Cents, Currency, Id, StrictBoolean, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "trust-safety"
#: The kinds of contact details v1 events name.
CONTACT_KINDS_V1 = ("phone", "email", "iban", "link")
#: Every kind the contact-detail detector finds (v2 events): v1's, plus social handles and
#: messengers, and invitations to pay or deal off the platform.
CONTACT_KINDS = (*CONTACT_KINDS_V1, "social", "offplatform_payment")
INCIDENT_OUTCOMES = ("release", "refund", "partial_refund", "dismiss")
PARTIES = ("client", "pro")
#: Who opens an incident from v2: a party, or the platform itself (a card dispute at Stripe).
OPENERS = (*PARTIES, "system")
INCIDENT_CATEGORIES = ("not_delivered", "poor_quality", "late", "damage", "payment", "behaviour", "other")
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


def _task_scope(description: str) -> fields.List:
    return fields.List(Id(), required=True, metadata=doc(description))


@register("IncidentOpened", 2, producer=PRODUCER)
class IncidentOpenedV2(Schema):
    """A party, or the platform on a card dispute, declared an incident on a mission, so the mission's
    pending payouts must be frozen (v2: the `system` opener, the category list, the tasks concerned)."""

    incident_id = Id(required=True, metadata=doc("The incident."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The mission's client."))
    pro_id = Id(required=True, metadata=doc("The mission's professional."))
    opened_by = Id(
        required=True, allow_none=True, metadata=doc("The user who declared it; null for `system`.")
    )
    opened_by_role = fields.String(
        required=True, validate=validate.OneOf(OPENERS), metadata=doc("`client`, `pro` or `system`.")
    )
    category = fields.String(
        required=True, validate=validate.OneOf(INCIDENT_CATEGORIES), metadata=doc("Category code.")
    )
    task_ids = _task_scope("Tasks concerned; empty: every task of the mission not yet released.")
    dispute_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^dp_[A-Za-z0-9]+$"),
        metadata=doc("The Stripe dispute that opened it (`system` opener), else null."),
    )
    answer_due_at = UtcDateTime(required=True, metadata=doc("When the other party's answer is due."))
    opened_at = UtcDateTime(required=True, metadata=doc("When it was declared."))

    @validates_schema
    def _check_opener(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data["opened_by_role"] == "system") != (data["opened_by"] is None):
            raise ValidationError("opened_by is null exactly when the opener is `system`.", "opened_by")


@register("IncidentResolved", 2, producer=PRODUCER)
class IncidentResolvedV2(Schema):
    """A moderator resolved an incident by releasing, refunding in full or in part, or dismissing, for the
    tasks in its scope (v2: the task scope and the stated reason)."""

    incident_id = Id(required=True, metadata=doc("The incident."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The mission's client."))
    pro_id = Id(required=True, metadata=doc("The mission's professional."))
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(INCIDENT_OUTCOMES),
        metadata=doc(
            "`release` (pay the validated tasks of the scope now), `refund` (return what is still held for "
            "the scope's tasks and cancel them), `partial_refund` (return refund_amount_cents, taken from "
            "the last task of the scope first; the rest is paid on validation) or `dismiss` (nothing moves, "
            "the freeze is lifted)."
        ),
    )
    task_ids = _task_scope(
        "The tasks the outcome acts on (the resolution's, else the incident's); empty: every task of the "
        "mission not yet released."
    )
    refund_amount_cents = Cents(
        required=True,
        allow_none=True,
        metadata=doc("Amount to refund, in cents, for `partial_refund` only; null otherwise."),
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=4000), metadata=doc("The stated reason.")
    )
    moderator_id = Id(required=True, metadata=doc("The moderator who decided."))
    resolved_at = UtcDateTime(required=True, metadata=doc("When it was resolved."))

    _check_amount = IncidentResolved._check_amount


#: Who writes in an incident's thread: a party, or staff (a moderator or an admin).
AUTHORS = (*PARTIES, "staff")


@register("IncidentMessagePosted", 1, producer=PRODUCER)
class IncidentMessagePosted(Schema):
    """A message (with its attachments, if any) was posted in an incident's thread, so the other people
    of the incident can be told; `answer` marks the first answer of the party the incident is against."""

    incident_id = Id(required=True, metadata=doc("The incident."))
    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The mission's client."))
    pro_id = Id(required=True, metadata=doc("The mission's professional."))
    message_id = Id(required=True, metadata=doc("The message."))
    author_id = Id(required=True, metadata=doc("Who wrote it."))
    author_role = fields.String(
        required=True, validate=validate.OneOf(AUTHORS), metadata=doc("`client`, `pro` or `staff`.")
    )
    attachment_count = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0), metadata=doc("Files attached to it.")
    )
    answer = StrictBoolean(
        required=True,
        metadata=doc("True for the first message of the other party (the incident is answered)."),
    )
    posted_at = UtcDateTime(required=True, metadata=doc("When it was posted."))
