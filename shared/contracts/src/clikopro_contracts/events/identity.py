"""Events published by the identity service (accounts, profiles, RGPD erasure)."""

from marshmallow import Schema, fields, validate

from clikopro_contracts.fields import Id, Nested, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "identity"
ROLES = ("client", "pro", "moderator", "admin")
POSTCODE = validate.Regexp(r"^[0-9]{5}$", error="Not a French postcode (5 digits).")
TRADE = validate.Regexp(r"^[a-z0-9][a-z0-9_-]*$", error="Not a trade code.")
#: Services that hold personal data and answer an erasure request with ``UserDataErased``.
ERASING_SERVICES = ("appointments", "missions", "payments", "reputation", "subscriptions", "trust-safety")


class ProProfile(Schema):
    """The public part of a professional's profile."""

    company_name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata=doc("Trading name shown to clients."),
    )
    trades = fields.List(
        fields.String(validate=TRADE),
        required=True,
        validate=validate.Length(min=1),
        metadata=doc("Trade codes the professional works in (e.g. `plomberie`)."),
    )
    postcode = fields.String(required=True, validate=POSTCODE, metadata=doc("Postcode of the service area."))


@register("UserRegistered", 1, producer=PRODUCER)
class UserRegistered(Schema):
    """A person signed up as a client or a professional (professionals with their public profile)."""

    user_id = Id(required=True, metadata=doc("The new account's id, used as client_id / pro_id everywhere."))
    role = fields.String(required=True, validate=validate.OneOf(ROLES), metadata=doc("Account role."))
    email = fields.Email(required=True, metadata=doc("Login and contact e-mail."))
    first_name = fields.String(required=True, metadata=doc("First name."))
    last_name = fields.String(required=True, metadata=doc("Last name."))
    registered_at = UtcDateTime(required=True, metadata=doc("When the account was created."))
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=32),
        metadata=doc("Phone number (E.164), shared with a counterpart only once an appointment is accepted."),
    )
    pro_profile = Nested(
        ProProfile,
        load_default=None,
        allow_none=True,
        metadata=doc("Present for professionals, null for everyone else."),
    )


@register("ProfessionalVerified", 1, producer=PRODUCER)
class ProfessionalVerified(Schema):
    """Identity checked a professional's SIRET and professional insurance, and the profile it carries is the
    verified one."""

    user_id = Id(required=True, metadata=doc("The professional (pro_id elsewhere)."))
    company_name = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata=doc("Trading name.")
    )
    siret = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{14}$"),
        metadata=doc("SIRET number (public business register id), 14 digits, checked (Luhn / La Poste)."),
    )
    trades = fields.List(
        fields.String(validate=TRADE),
        required=True,
        validate=validate.Length(min=1),
        metadata=doc("Trade codes the professional works in."),
    )
    postcode = fields.String(required=True, validate=POSTCODE, metadata=doc("Postcode of the service area."))
    insurance_valid_until = fields.Date(
        required=True, metadata=doc("Expiry date of the professional insurance policy.")
    )
    verified_at = UtcDateTime(required=True, metadata=doc("When the checks passed."))


@register("ContactDetailsChanged", 1, producer=PRODUCER)
class ContactDetailsChanged(Schema):
    """A user's contact details changed, and the payload is the full current set, not a diff."""

    user_id = Id(required=True, metadata=doc("The user."))
    email = fields.Email(required=True, metadata=doc("Current e-mail."))
    phone = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=32),
        metadata=doc("Current phone number (E.164), null if none."),
    )
    first_name = fields.String(required=True, metadata=doc("Current first name."))
    last_name = fields.String(required=True, metadata=doc("Current last name."))
    changed_at = UtcDateTime(
        required=True,
        metadata=doc("When the change was made; a copy holding a later change ignores this one."),
    )


@register("UserErasureRequested", 1, producer=PRODUCER)
class UserErasureRequested(Schema):
    """A user asked for the erasure of their personal data (RGPD), and every service must anonymise it and
    answer."""

    request_id = Id(required=True, metadata=doc("The erasure request, echoed in every `UserDataErased`."))
    user_id = Id(required=True, metadata=doc("The user whose data must be anonymised."))
    requested_at = UtcDateTime(required=True, metadata=doc("When the user asked."))
    respond_by = UtcDateTime(required=True, metadata=doc("Deadline for the services' answers (legal delay)."))


@register("UserDataErased", 1, producer=PRODUCER, producers=ERASING_SERVICES)
class UserDataErased(Schema):
    """One service anonymised what it held about a user, in answer to `UserErasureRequested`."""

    request_id = Id(required=True, metadata=doc("The erasure request this answers."))
    user_id = Id(required=True, metadata=doc("The user whose data was anonymised."))
    erased_at = UtcDateTime(required=True, metadata=doc("When the service committed the anonymisation."))
    retained = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        required=True,
        metadata=doc(
            "Kinds of records kept because the law requires them, stripped of personal data "
            "(e.g. `payments`); empty if nothing was kept."
        ),
    )


@register("UserErased", 1, producer=PRODUCER)
class UserErased(Schema):
    """Every service answered an erasure request, so the user's personal data is gone everywhere."""

    request_id = Id(required=True, metadata=doc("The erasure request."))
    user_id = Id(required=True, metadata=doc("The erased user; the id stays as an anonymous key."))
    requested_at = UtcDateTime(required=True, metadata=doc("When the user asked."))
    erased_at = UtcDateTime(required=True, metadata=doc("When the last service answered."))
