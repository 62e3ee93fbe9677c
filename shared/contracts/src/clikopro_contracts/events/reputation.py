"""Events published by the reputation service (reviews and scores)."""

from marshmallow import Schema, fields, validate

from clikopro_contracts.events.trust_safety import CONTACT_KINDS, masked_contacts
from clikopro_contracts.fields import Id, StrictFloat, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "reputation"


class _Review(Schema):
    review_id = Id(required=True, metadata=doc("The review."))
    mission_id = Id(required=True, metadata=doc("The completed mission it is tied to (a verified review)."))
    pro_id = Id(required=True, metadata=doc("The professional reviewed."))


@register("ReviewPublished", 1, producer=PRODUCER)
class ReviewPublished(_Review):
    """A client rated the professional of a completed mission, once, and the review is public."""

    client_id = Id(required=True, metadata=doc("The client who wrote it."))
    rating = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=5), metadata=doc("Rating from 1 to 5.")
    )
    published_at = UtcDateTime(required=True, metadata=doc("When it was published (the date shown)."))
    masked_contacts = masked_contacts()


@register("ReviewHidden", 1, producer=PRODUCER)
class ReviewHidden(_Review):
    """A moderator hid a manifestly abusive review with a stated reason, and it no longer counts."""

    moderator_id = Id(required=True, metadata=doc("The moderator."))
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=1000), metadata=doc("The stated reason.")
    )
    hidden_at = UtcDateTime(required=True, metadata=doc("When it was hidden."))


@register("ReviewRestored", 1, producer=PRODUCER)
class ReviewRestored(_Review):
    """A moderator restored a hidden review, and it counts again."""

    moderator_id = Id(required=True, metadata=doc("The moderator."))
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=1000), metadata=doc("The stated reason.")
    )
    restored_at = UtcDateTime(required=True, metadata=doc("When it was restored."))


@register("ReputationUpdated", 1, producer=PRODUCER)
class ReputationUpdated(Schema):
    """A professional's reputation changed, and the payload is their full current reputation."""

    pro_id = Id(required=True, metadata=doc("The professional."))
    review_count = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0), metadata=doc("Number of visible reviews.")
    )
    average_rating = StrictFloat(
        required=True,
        allow_none=True,
        validate=validate.Range(min=1, max=5),
        metadata=doc("Mean of the visible ratings, null without reviews."),
    )
    completed_missions = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata=doc("Missions completed on CLIKOPRO."),
    )
    score = StrictFloat(
        required=True,
        validate=validate.Range(min=0, max=100),
        metadata=doc("Visibility score (0 to 100) used to rank the directory, per the published criteria."),
    )
    computed_at = UtcDateTime(required=True, metadata=doc("When it was computed; later wins."))


@register("ReviewPublished", 2, producer=PRODUCER)
class ReviewPublishedV2(ReviewPublished):
    """A client rated the professional of a completed mission, once, and the review is public (v2: every
    kind of masked contact)."""

    masked_contacts = masked_contacts(CONTACT_KINDS)
