"""Events published by the missions service (missions, proposals, tasks)."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from clikopro_contracts.events.identity import POSTCODE, TRADE
from clikopro_contracts.events.trust_safety import CONTACT_KINDS, masked_contacts
from clikopro_contracts.fields import Cents, Currency, Id, Nested, StrictBoolean, UtcDateTime, doc
from clikopro_contracts.registry import register

PRODUCER = "missions"
PAYMENT_MODES = ("secure", "direct")
MISSION_STATUSES = ("published", "contracted", "awaiting_payment", "in_progress", "completed", "cancelled")
REJECTION_REASONS = ("other_proposal_accepted", "mission_cancelled")
CANCELLERS = ("client", "pro", "moderator", "system")


def _payment_mode() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(PAYMENT_MODES),
        metadata=doc("`secure` (CLIKOPRO Secure, money held by the platform) or `direct` (paid plans only)."),
    )


@register("MissionPublished", 1, producer=PRODUCER)
class MissionPublished(Schema):
    """A client published a mission that professionals can now browse and answer."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The client who published it."))
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata=doc("Title, contacts masked.")
    )
    trade = fields.String(required=True, validate=TRADE, metadata=doc("Trade code."))
    postcode = fields.String(required=True, validate=POSTCODE, metadata=doc("Where the job is."))
    budget_cents = Cents(
        required=True, allow_none=True, metadata=doc("Indicative budget in cents, null if not given.")
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    wished_start = fields.Date(
        required=True, allow_none=True, metadata=doc("Wished start date, null if any.")
    )
    published_at = UtcDateTime(required=True, metadata=doc("When it was published."))
    masked_contacts = masked_contacts()


@register("ProposalSubmitted", 1, producer=PRODUCER)
class ProposalSubmitted(Schema):
    """A professional submitted a proposal on a published mission,
    which counts towards their monthly quota."""

    proposal_id = Id(required=True, metadata=doc("The proposal."))
    mission_id = Id(required=True, metadata=doc("The mission it answers."))
    pro_id = Id(required=True, metadata=doc("The professional who submitted it."))
    client_id = Id(required=True, metadata=doc("The mission's client."))
    amount_cents = Cents(required=True, metadata=doc("Proposed total price in cents."))
    currency = Currency(metadata=doc("Currency of the amounts."))
    payment_mode = _payment_mode()
    task_count = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata=doc("Number of tasks in the plan."),
    )
    submitted_at = UtcDateTime(required=True, metadata=doc("When it was submitted (counts in that month)."))
    masked_contacts = masked_contacts()


class ContractTask(Schema):
    """One task of the accepted plan: a checkpoint and its share of the price."""

    task_id = Id(required=True, metadata=doc("The task."))
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata=doc("Task title.")
    )
    amount_cents = Cents(
        required=True, metadata=doc("Share of the price released when the task is validated.")
    )
    due_date = fields.Date(required=True, metadata=doc("Due date of the task."))
    position = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1), metadata=doc("Order in the plan, from 1.")
    )


@register("ProposalAccepted", 1, producer=PRODUCER)
class ProposalAccepted(Schema):
    """A client accepted a proposal, which concludes the contract, an immutable snapshot of its terms and
    tasks."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    proposal_id = Id(required=True, metadata=doc("The accepted proposal."))
    client_id = Id(required=True, metadata=doc("The client (payer)."))
    pro_id = Id(required=True, metadata=doc("The professional (payee)."))
    payment_mode = _payment_mode()
    amount_cents = Cents(
        required=True, metadata=doc("Contract price in cents; the sum of the tasks' amounts.")
    )
    currency = Currency(metadata=doc("Currency of the amounts."))
    tasks = fields.List(
        Nested(ContractTask),
        required=True,
        validate=validate.Length(min=1),
        metadata=doc("The payment schedule, ordered by position."),
    )
    accepted_at = UtcDateTime(required=True, metadata=doc("When the contract was concluded."))

    @validates_schema
    def _check_tasks(self, data: dict[str, Any], **kwargs: Any) -> None:
        tasks = data["tasks"]
        if sum(t["amount_cents"] for t in tasks) != data["amount_cents"]:
            raise ValidationError("The tasks' amounts must add up to amount_cents.", "tasks")
        if sorted(t["position"] for t in tasks) != list(range(1, len(tasks) + 1)):
            raise ValidationError("Task positions must be 1..n without gaps.", "tasks")
        if len({t["task_id"] for t in tasks}) != len(tasks):
            raise ValidationError("Task ids must be unique.", "tasks")


@register("ProposalRejected", 1, producer=PRODUCER)
class ProposalRejected(Schema):
    """A proposal was rejected, because another one on the mission
    was accepted or the mission was cancelled."""

    proposal_id = Id(required=True, metadata=doc("The rejected proposal."))
    mission_id = Id(required=True, metadata=doc("Its mission."))
    pro_id = Id(required=True, metadata=doc("The professional who submitted it."))
    reason = fields.String(required=True, validate=validate.OneOf(REJECTION_REASONS), metadata=doc("Why."))
    rejected_at = UtcDateTime(required=True, metadata=doc("When it was rejected."))


@register("TaskSubmitted", 1, producer=PRODUCER)
class TaskSubmitted(Schema):
    """The professional submitted a task for the client's validation."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    task_id = Id(required=True, metadata=doc("The task."))
    position = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1), metadata=doc("Order in the plan, from 1.")
    )
    pro_id = Id(required=True, metadata=doc("The professional."))
    client_id = Id(required=True, metadata=doc("The client who must validate or contest."))
    submitted_at = UtcDateTime(required=True, metadata=doc("When it was submitted."))
    auto_validate_at = UtcDateTime(
        required=True, metadata=doc("When it is validated automatically if the client does nothing.")
    )


@register("TaskValidated", 1, producer=PRODUCER)
class TaskValidated(Schema):
    """A task was validated, by the client or automatically after the delay, so its share can be released."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    task_id = Id(required=True, metadata=doc("The task; releases are idempotent per task."))
    pro_id = Id(required=True, metadata=doc("The professional to pay."))
    client_id = Id(required=True, metadata=doc("The client."))
    amount_cents = Cents(required=True, metadata=doc("The task's gross amount in cents, as in the contract."))
    currency = Currency(metadata=doc("Currency of the amounts."))
    payment_mode = _payment_mode()
    auto_validated = StrictBoolean(
        required=True, metadata=doc("True when validated by the delay rather than by the client.")
    )
    validated_at = UtcDateTime(required=True, metadata=doc("When it was validated."))


@register("TaskContested", 1, producer=PRODUCER)
class TaskContested(Schema):
    """The client contested a submitted task with a reason, and the professional must submit it again."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    task_id = Id(required=True, metadata=doc("The task."))
    pro_id = Id(required=True, metadata=doc("The professional."))
    client_id = Id(required=True, metadata=doc("The client who contested."))
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=2000), metadata=doc("The client's reason.")
    )
    contested_at = UtcDateTime(required=True, metadata=doc("When it was contested."))


@register("TaskValidationReminderDue", 1, producer=PRODUCER)
class TaskValidationReminderDue(Schema):
    """A submitted task has waited for the client's answer for days, and the client must be reminded to
    validate or contest it before it is validated automatically."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    task_id = Id(required=True, metadata=doc("The task; one reminder per submission of it."))
    client_id = Id(required=True, metadata=doc("The client to remind, who must validate or contest."))
    pro_id = Id(required=True, metadata=doc("The professional who submitted the task."))
    title = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata=doc("Task title.")
    )
    amount_cents = Cents(required=True, metadata=doc("The task's gross amount in cents, as in the contract."))
    currency = Currency(metadata=doc("Currency of the amounts."))
    submitted_at = UtcDateTime(required=True, metadata=doc("When the pending submission was made."))
    auto_validate_at = UtcDateTime(
        required=True,
        metadata=doc("When it is validated automatically if the client does nothing (as in TaskSubmitted)."),
    )


@register("MissionCompleted", 1, producer=PRODUCER)
class MissionCompleted(Schema):
    """The last task of a mission was validated, so the mission is complete and can be reviewed."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The client, who may now review the professional."))
    pro_id = Id(required=True, metadata=doc("The professional."))
    trade = fields.String(required=True, validate=TRADE, metadata=doc("Trade code of the mission."))
    payment_mode = _payment_mode()
    amount_cents = Cents(required=True, metadata=doc("Contract price in cents."))
    currency = Currency(metadata=doc("Currency of the amounts."))
    completed_at = UtcDateTime(required=True, metadata=doc("When the last task was validated."))


@register("MissionCancelled", 1, producer=PRODUCER)
class MissionCancelled(Schema):
    """A mission was cancelled, and whatever is still pending on it
    (proposals, unreleased funds) must stop."""

    mission_id = Id(required=True, metadata=doc("The mission."))
    client_id = Id(required=True, metadata=doc("The client."))
    pro_id = Id(
        required=True,
        allow_none=True,
        metadata=doc("The contracted professional, null if none was contracted."),
    )
    payment_mode = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(PAYMENT_MODES),
        metadata=doc("Payment mode of the contract, null if none was concluded."),
    )
    previous_status = fields.String(
        required=True,
        validate=validate.OneOf(MISSION_STATUSES[:-2]),
        metadata=doc("Status the mission had when cancelled."),
    )
    cancelled_by = fields.String(
        required=True, validate=validate.OneOf(CANCELLERS), metadata=doc("Who cancelled it.")
    )
    reason = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata=doc("Stated reason, if any."),
    )
    cancelled_at = UtcDateTime(required=True, metadata=doc("When it was cancelled."))


@register("MissionPublished", 2, producer=PRODUCER)
class MissionPublishedV2(MissionPublished):
    """A client published a mission that professionals can browse (v2: every kind of masked contact)."""

    masked_contacts = masked_contacts(CONTACT_KINDS)


@register("ProposalSubmitted", 2, producer=PRODUCER)
class ProposalSubmittedV2(ProposalSubmitted):
    """A professional submitted a proposal on a published mission, which counts towards their monthly quota
    (v2: every kind of masked contact)."""

    masked_contacts = masked_contacts(CONTACT_KINDS)


@register("TaskContested", 2, producer=PRODUCER)
class TaskContestedV2(TaskContested):
    """The client contested a submitted task with a reason, and the professional must submit it again (v2:
    what was masked in the reason; after the contract that is only an invitation to pay outside a Secure
    mission)."""

    masked_contacts = masked_contacts(CONTACT_KINDS)
