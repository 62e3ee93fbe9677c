"""The two doors: make_event (producers, strict) and parse_event (consumers,
tolerant of new fields only), and the registry behind them."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from marshmallow import Schema, fields

from clikopro_contracts import (
    ContractError,
    contract_for,
    latest_version,
    load_data,
    make_event,
    parse_event,
    producer_of,
)
from clikopro_contracts import registry as registry_module
from clikopro_contracts.events.identity import ERASING_SERVICES
from clikopro_contracts.examples import example
from clikopro_contracts.registry import register
from clikopro_contracts.testing import wire, with_data


def make(type_, data, **kwargs):
    kwargs.setdefault("correlation_id", "req-1")
    return make_event(type_, data, **kwargs)


# --- make_event ----------------------------------------------------------------


def test_make_event_fills_the_envelope(accepted):
    event = make("ProposalAccepted", accepted["data"], causation_id="cause")
    assert event.producer == "missions"
    assert event.version == 1
    assert uuid.UUID(event.id).version == 4
    assert event.occurred_at.endswith("Z")
    assert (event.correlation_id, event.causation_id) == ("req-1", "cause")
    assert parse_event(json.dumps(event.to_dict())).data == accepted["data"]


def test_make_event_refuses_an_unknown_field(accepted):
    with pytest.raises(ContractError) as caught:
        make("ProposalAccepted", {**accepted["data"], "amout_cents": 1})
    assert caught.value.errors == {"amout_cents": ["Unknown field."]}


def test_make_event_refuses_an_unknown_field_in_a_nested_object(accepted):
    data = accepted["data"]
    data["tasks"][0]["colour"] = "blue"
    with pytest.raises(ContractError) as caught:
        make("ProposalAccepted", data)
    assert caught.value.errors == {"tasks": {0: {"colour": ["Unknown field."]}}}


@pytest.mark.parametrize(
    ("type_", "field", "value"),
    [
        ("ProposalAccepted", "payment_mode", "cash"),
        ("ProposalAccepted", "payment_mode", "SECURE"),
        ("ProposalAccepted", "currency", "USD"),
        ("IncidentResolved", "outcome", "refund_all"),
        ("UserRegistered", "role", "superuser"),
        ("SubscriptionActivated", "features", ["direct_payment", "teleportation"]),
        ("CircumventionDetected", "contact_kinds", ["pigeon"]),
        ("MissionCancelled", "cancelled_by", "nobody"),
    ],
)
def test_make_event_refuses_a_bad_enum(type_, field, value):
    data = example(type_)["data"]
    data[field] = value
    with pytest.raises(ContractError) as caught:
        make(type_, data)
    assert field in caught.value.errors


def test_make_event_refuses_a_missing_required_field(accepted):
    data = accepted["data"]
    del data["client_id"]
    with pytest.raises(ContractError) as caught:
        make("ProposalAccepted", data)
    assert caught.value.errors == {"client_id": ["Missing data for required field."]}


def test_make_event_refuses_null_where_not_nullable(accepted):
    with pytest.raises(ContractError):
        make("ProposalAccepted", {**accepted["data"], "pro_id": None})


def test_a_nullable_field_must_still_be_stated(accepted):
    data = example("AccountSuspended")["data"]
    del data["until"]  # null means "until reinstated": a producer must say so
    with pytest.raises(ContractError) as caught:
        make("AccountSuspended", data)
    assert "until" in caught.value.errors


def test_make_event_accepts_python_values_and_writes_their_wire_form(accepted):
    data = accepted["data"]
    typed = {
        **data,
        "mission_id": uuid.UUID(data["mission_id"]),
        "accepted_at": dt.datetime(2025, 3, 8, 15, 20, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        "tasks": [{**t, "due_date": dt.date.fromisoformat(t["due_date"])} for t in data["tasks"]],
    }
    assert make("ProposalAccepted", typed).data == data


def test_make_event_refuses_a_naive_datetime_in_the_payload(accepted):
    with pytest.raises(ContractError, match="naive"):
        make("ProposalAccepted", {**accepted["data"], "accepted_at": dt.datetime(2025, 3, 8, 14, 20)})


@pytest.mark.parametrize("when", ["2025-03-08T14:20:05", "2025-03-08T14:20:05+0100x"])
def test_make_event_refuses_naive_or_bad_time_strings(accepted, when):
    with pytest.raises(ContractError):
        make("ProposalAccepted", {**accepted["data"], "accepted_at": when})


def test_make_event_checks_the_envelope_arguments(accepted):
    with pytest.raises(ContractError, match="not a UUID"):
        make("ProposalAccepted", accepted["data"], event_id="42")
    with pytest.raises(ContractError, match="naive"):
        make("ProposalAccepted", accepted["data"], occurred_at=dt.datetime(2025, 1, 1))
    fixed = make(
        "ProposalAccepted",
        accepted["data"],
        event_id=uuid.UUID(accepted["id"]),
        occurred_at=dt.datetime(2025, 3, 8, 14, 20, 5, tzinfo=dt.UTC),
    )
    assert (fixed.id, fixed.occurred_at) == (accepted["id"], "2025-03-08T14:20:05Z")


@pytest.mark.parametrize(
    ("correlation_id", "causation_id"), [("", None), ("x" * 201, None), ("req-1", "y" * 201)]
)
def test_make_event_refuses_an_envelope_consumers_would_refuse(accepted, correlation_id, causation_id):
    with pytest.raises(ContractError, match="invalid envelope"):
        make_event(
            "ProposalAccepted", accepted["data"], correlation_id=correlation_id, causation_id=causation_id
        )


def test_make_event_refuses_an_unknown_type_or_version(accepted):
    with pytest.raises(ContractError, match="unknown event type"):
        make("ProposalAcepted", accepted["data"])
    with pytest.raises(ContractError, match="unknown event"):
        make("ProposalAccepted", accepted["data"], version=2)


def test_make_event_refuses_another_producer(accepted):
    with pytest.raises(ContractError, match="not published by payments"):
        make("ProposalAccepted", accepted["data"], producer="payments")
    assert make("ProposalAccepted", accepted["data"], producer="missions").producer == "missions"


def test_a_contract_with_several_producers_needs_to_be_told_which():
    data = example("UserDataErased")["data"]
    with pytest.raises(ContractError, match="several services"):
        make("UserDataErased", data)
    with pytest.raises(ContractError, match="not published by identity"):
        make("UserDataErased", data, producer="identity")
    for service in ERASING_SERVICES:
        event = make("UserDataErased", data, producer=service)
        assert event.routing_key == f"{service}.UserDataErased"
        assert parse_event(event.to_dict()).producer == service


# --- parse_event ---------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"{'id': 1}", b'{"a": NaN}'])
def test_parse_event_refuses_non_json(body):
    with pytest.raises(ContractError, match="not JSON"):
        parse_event(body)


def test_parse_event_refuses_non_utf8(accepted):
    body = json.dumps(accepted, ensure_ascii=False).encode("latin-1")
    assert b"\xe9" in body  # "Dépose": the example holds non-ASCII text
    with pytest.raises(ContractError, match="not UTF-8"):
        parse_event(body)


@pytest.mark.parametrize("body", [b"[]", b"42", b'"event"', b"null"])
def test_parse_event_refuses_json_that_is_not_an_object(body):
    with pytest.raises(ContractError, match="not a JSON object"):
        parse_event(body)


def test_parse_event_accepts_bytes_str_and_mappings(accepted):
    for raw in (wire(accepted), json.dumps(accepted), accepted):
        assert parse_event(raw).data == accepted["data"]


def test_parse_event_refuses_an_unknown_type(accepted):
    with pytest.raises(ContractError, match="unknown event ProposalDeclined v1"):
        parse_event(wire({**accepted, "type": "ProposalDeclined"}))


def test_parse_event_refuses_an_unknown_version(accepted):
    with pytest.raises(ContractError, match="unknown event ProposalAccepted v2"):
        parse_event(wire({**accepted, "version": 2}))


def test_parse_event_refuses_the_wrong_producer(accepted):
    with pytest.raises(ContractError, match="produced by missions, not payments"):
        parse_event(wire({**accepted, "producer": "payments"}))
    erased = example("UserDataErased")
    with pytest.raises(ContractError, match="not identity"):
        parse_event(wire({**erased, "producer": "identity"}))


def test_parse_event_accepts_and_drops_an_unknown_payload_field(accepted):
    event = parse_event(wire(with_data(accepted, loyalty_points=12)))
    assert "loyalty_points" not in event.data
    assert event.data == accepted["data"]


def test_parse_event_accepts_an_unknown_field_in_a_nested_object(accepted):
    message = with_data(accepted)
    message["data"]["tasks"][1]["colour"] = "blue"
    event = parse_event(wire(message))
    assert event.data == accepted["data"]
    # ... and the producer door is still strict afterwards (the policy does not leak)
    with pytest.raises(ContractError):
        make("ProposalAccepted", message["data"])


def test_parse_event_refuses_an_invalid_payload(accepted):
    with pytest.raises(ContractError, match="ProposalAccepted v1 payload is invalid") as caught:
        parse_event(wire(with_data(accepted, mission_id="nope", tasks=[])))
    assert set(caught.value.errors) == {"mission_id", "tasks"}


def test_parse_event_fills_optional_fields_added_later():
    message = example("UserRegistered")
    for field in ("phone", "pro_profile"):
        del message["data"][field]
    event = parse_event(wire(message))
    assert event.data["phone"] is None and event.data["pro_profile"] is None


def test_load_data_gives_typed_values(accepted):
    data = load_data(parse_event(accepted))
    assert isinstance(data["mission_id"], uuid.UUID)
    assert data["accepted_at"] == dt.datetime(2025, 3, 8, 14, 20, 5, tzinfo=dt.UTC)
    assert data["tasks"][0]["due_date"] == dt.date(2025, 4, 11)


# --- the registry ----------------------------------------------------------------


def test_lookups():
    assert latest_version("FundsReleased") == 1
    assert producer_of("IncidentOpened") == "trust-safety"
    assert producer_of("UserDataErased") == "identity"
    assert contract_for("UserDataErased", 1).routing_keys == tuple(
        f"{s}.UserDataErased" for s in ERASING_SERVICES
    )
    with pytest.raises(ContractError):
        latest_version("Nothing")


@pytest.fixture
def scratch_registry(monkeypatch):
    contract_for("UserRegistered", 1)  # load the catalog first
    monkeypatch.setattr(registry_module, "_CONTRACTS", dict(registry_module._CONTRACTS))


def test_a_contract_cannot_be_registered_twice(scratch_registry):
    class Payload(Schema):
        user_id = fields.UUID()

    with pytest.raises(RuntimeError, match="registered twice"):
        register("UserRegistered", 1, producer="identity")(Payload)


def test_a_type_cannot_change_producer_between_versions(scratch_registry):
    class Payload(Schema):
        user_id = fields.UUID()

    with pytest.raises(RuntimeError, match="two producers"):
        register("UserRegistered", 2, producer="missions")(Payload)
    register("UserRegistered", 2, producer="identity")(Payload)
    assert latest_version("UserRegistered") == 2
    assert make("UserRegistered", {"user_id": str(uuid.UUID(int=1))}).version == 2
