"""Events published by the appointments service (paid plans only)."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from clikopro_contracts.events.trust_safety import CONTACT_KINDS, masked_contacts
from clikopro_contracts.fields import Id, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "appointments"
CANCELLERS = ("client", "pro", "system")


class _Appointment(Schema):
    appointment_id = Id(required=True, metadata=doc("The appointment."))
    pro_id = Id(required=True, metadata=doc("The professional whose slot it is."))
    client_id = Id(required=True, metadata=doc("The client who asked."))
    starts_at = UtcDateTime(required=True, metadata=doc("Start of the slot."))
    ends_at = UtcDateTime(required=True, metadata=doc("End of the slot, after starts_at."))

    @validates_schema
    def _check_slot(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("ends_at must come after starts_at.", "ends_at")


@register("AppointmentRequested", 1, producer=PRODUCER)
class AppointmentRequested(_Appointment):
    """A client asked a professional for a slot, which the professional must accept or decline."""

    requested_at = UtcDateTime(required=True, metadata=doc("When it was asked."))
    masked_contacts = masked_contacts()


@register("AppointmentAccepted", 1, producer=PRODUCER)
class AppointmentAccepted(_Appointment):
    """The professional accepted an appointment, so both sides may now see each other's contact details."""

    accepted_at = UtcDateTime(required=True, metadata=doc("When it was accepted."))


@register("AppointmentDeclined", 1, producer=PRODUCER)
class AppointmentDeclined(_Appointment):
    """The professional declined an appointment request, and the slot stays free."""

    reason = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata=doc("Stated reason, if any."),
    )
    declined_at = UtcDateTime(required=True, metadata=doc("When it was declined."))


@register("AppointmentCancelled", 1, producer=PRODUCER)
class AppointmentCancelled(_Appointment):
    """A requested or accepted appointment was cancelled and its slot freed."""

    cancelled_by = fields.String(
        required=True,
        validate=validate.OneOf(CANCELLERS),
        metadata=doc("`client`, `pro`, or `system` (plan lapsed, account suspended or erased)."),
    )
    reason = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata=doc("Stated reason, if any."),
    )
    cancelled_at = UtcDateTime(required=True, metadata=doc("When it was cancelled."))


@register("AppointmentRequested", 2, producer=PRODUCER)
class AppointmentRequestedV2(AppointmentRequested):
    """A client asked a professional for a slot, which the professional must accept or decline (v2: every
    kind of masked contact)."""

    masked_contacts = masked_contacts(CONTACT_KINDS)
