"""Money is integer cents, never a float nor negative, on both doors; and the
cross-field rules that keep amounts coherent."""

from __future__ import annotations

import pytest
from marshmallow import fields

from clikopro_contracts import ContractError, contract_for, make_event, parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.fields import Cents
from clikopro_contracts.testing import all_contract_keys, wire, with_data

ALL = all_contract_keys()
IDS = [f"{t}.v{v}" for t, v in ALL]


def _money_paths(schema, prefix=()):
    """Paths to every Cents field of a schema, through nested objects and lists."""
    for name, field in schema().fields.items() if isinstance(schema, type) else schema.fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, Cents):
            yield (*prefix, name)
        elif isinstance(inner, fields.Nested):
            index = (0,) if isinstance(field, fields.List) else ()
            yield from _money_paths(inner.schema, (*prefix, name, *index))


MONEY = [
    (type_, version, path)
    for type_, version in ALL
    for path in _money_paths(contract_for(type_, version).schema)
]


def test_money_fields_are_found():
    paths = {(t, ".".join(map(str, p))) for t, _, p in MONEY}
    assert ("ProposalAccepted", "tasks.0.amount_cents") in paths
    assert ("FundsReleased", "net_cents") in paths
    assert ("IncidentResolved", "refund_amount_cents") in paths
    assert len(MONEY) >= 15


def _set(message, path, value):
    target = message["data"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return message


def _both_doors_refuse(type_, version, message):
    with pytest.raises(ContractError):
        parse_event(wire(message))
    with pytest.raises(ContractError):
        make_event(type_, message["data"], version=version, correlation_id="c", producer=message["producer"])


@pytest.mark.parametrize(
    ("type_", "version", "path"), MONEY, ids=[f"{t}:{'.'.join(map(str, p))}" for t, _, p in MONEY]
)
@pytest.mark.parametrize(
    "bad", [1250.5, 100.0, -1, "1250", True], ids=["float", "whole-float", "negative", "string", "bool"]
)
def test_money_refuses_floats_negatives_and_strings(type_, version, path, bad):
    _both_doors_refuse(type_, version, _set(example(type_, version), path, bad))


@pytest.mark.parametrize("type_", sorted({t for t, _, _ in MONEY}))
def test_currency_other_than_euro_is_refused(type_):
    message = example(type_)
    if "currency" in message["data"]:
        _both_doors_refuse(type_, 1, with_data(message, currency="USD"))
        # absent, it defaults to EUR
        assert parse_event(with_data(message, currency=...)).data["currency"] == "EUR"


# --- cross-field rules -------------------------------------------------------------------


def _refused(type_, message, field=None):
    with pytest.raises(ContractError) as caught:
        parse_event(wire(message))
    if field is not None:
        assert field in caught.value.errors
    _both_doors_refuse(type_, 1, message)


def test_task_amounts_must_add_up_to_the_contract_price(accepted):
    tasks = accepted["data"]["tasks"]
    tasks[0]["amount_cents"] += 1
    _refused("ProposalAccepted", accepted, "tasks")


@pytest.mark.parametrize("positions", [[1, 2, 2], [0, 1, 2], [1, 2, 4]])
def test_task_positions_are_one_to_n(accepted, positions):
    for task, position in zip(accepted["data"]["tasks"], positions, strict=True):
        task["position"] = position
    _refused("ProposalAccepted", accepted, "tasks")


def test_task_ids_are_unique(accepted):
    tasks = accepted["data"]["tasks"]
    tasks[1]["task_id"] = tasks[0]["task_id"]
    _refused("ProposalAccepted", accepted, "tasks")


def test_a_contract_has_tasks(accepted):
    _refused("ProposalAccepted", with_data(accepted, tasks=[], amount_cents=0), "tasks")


def test_net_is_gross_minus_commission():
    message = example("FundsReleased")
    _refused("FundsReleased", with_data(message, net_cents=message["data"]["net_cents"] + 1), "net_cents")


def test_commission_cannot_exceed_the_payment():
    message = example("PaymentSecured")
    _refused("PaymentSecured", with_data(message, commission_cents=message["data"]["amount_cents"] + 1))


@pytest.mark.parametrize(
    ("outcome", "amount", "valid"),
    [
        ("partial_refund", 30000, True),
        ("partial_refund", None, False),
        ("partial_refund", 0, False),
        ("refund", None, True),
        ("refund", 30000, False),
        ("release", None, True),
        ("release", 1, False),
        ("dismiss", None, True),
    ],
)
def test_incident_refund_amount_goes_with_partial_refund_only(outcome, amount, valid):
    message = with_data(example("IncidentResolved"), outcome=outcome, refund_amount_cents=amount)
    if valid:
        assert parse_event(wire(message)).data["outcome"] == outcome
    else:
        _refused("IncidentResolved", message, "refund_amount_cents")


def test_refund_total_includes_this_refund_and_incident_refunds_name_the_incident():
    message = example("RefundIssued")
    _refused("RefundIssued", with_data(message, total_refunded_cents=1))
    _refused("RefundIssued", with_data(message, incident_id=None))
    _refused("RefundIssued", with_data(message, reason="mission_cancelled"))
    assert parse_event(with_data(message, reason="mission_cancelled", incident_id=None))


def test_a_freeze_is_either_an_incident_or_a_suspension():
    message = example("PayoutsFrozen")
    _refused("PayoutsFrozen", with_data(message, mission_id=None))
    _refused("PayoutsFrozen", with_data(message, reason="account_suspended"))
    assert parse_event(with_data(message, reason="account_suspended", mission_id=None, incident_id=None))


@pytest.mark.parametrize("type_", ["SubscriptionActivated", "SubscriptionCancelled", "SubscriptionLapsed"])
def test_unlimited_proposals_go_with_a_null_quota(type_):
    message = example(type_)
    unlimited = "unlimited_proposals" in message["data"]["features"]
    _refused(type_, with_data(message, proposals_per_month=None if not unlimited else 10))
    _refused(
        type_, with_data(message, features=[*message["data"]["features"], "appointments", "appointments"])
    )


def test_a_period_ends_after_it_starts():
    message = example("SubscriptionActivated")
    _refused("SubscriptionActivated", with_data(message, period_end=message["data"]["period_start"]))


@pytest.mark.parametrize("type_", ["AppointmentRequested", "AppointmentAccepted"])
def test_an_appointment_ends_after_it_starts(type_):
    message = example(type_)
    _refused(type_, with_data(message, ends_at=message["data"]["starts_at"]), "ends_at")
