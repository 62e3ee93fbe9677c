"""The envelope (EVENTS.md, "Envelope"): what a consumer refuses before even
looking at the payload."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from clikopro_contracts import EXCHANGE, ContractError, Event, format_time, parse_event
from clikopro_contracts.envelope import EnvelopeSchema
from clikopro_contracts.testing import wire

REQUIRED = ["id", "type", "version", "occurred_at", "producer", "correlation_id", "data"]


def with_envelope(message, **changes):
    result = copy.deepcopy(message)
    for key, value in changes.items():
        if value is ...:
            result.pop(key)
        else:
            result[key] = value
    return result


def test_the_example_itself_is_accepted(accepted):
    assert parse_event(wire(accepted)).id == accepted["id"]


@pytest.mark.parametrize("field", REQUIRED)
def test_a_missing_envelope_field_is_refused(accepted, field):
    with pytest.raises(ContractError, match="invalid envelope") as caught:
        parse_event(wire(with_envelope(accepted, **{field: ...})))
    assert field in caught.value.errors


@pytest.mark.parametrize("field", REQUIRED)
def test_a_null_envelope_field_is_refused(accepted, field):
    with pytest.raises(ContractError, match="invalid envelope"):
        parse_event(wire(with_envelope(accepted, **{field: None})))


def test_causation_id_may_be_absent_or_null(accepted):
    assert parse_event(wire(with_envelope(accepted, causation_id=...))).causation_id is None
    assert parse_event(wire(with_envelope(accepted, causation_id=None))).causation_id is None


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1234", "", 42, "6e0a4c8b-2d6f-4a1c-8e3b-5f7a9c1d3e5"])
def test_a_bad_event_id_is_refused(accepted, bad_id):
    with pytest.raises(ContractError) as caught:
        parse_event(wire(with_envelope(accepted, id=bad_id)))
    assert "id" in caught.value.errors


@pytest.mark.parametrize(
    "when", ["2025-03-08T14:20:05", "2025-03-08 14:20:05", "2025-03-08", "yesterday", 1741443605]
)
def test_a_naive_or_malformed_time_is_refused(accepted, when):
    with pytest.raises(ContractError) as caught:
        parse_event(wire(with_envelope(accepted, occurred_at=when)))
    assert "occurred_at" in caught.value.errors


def test_an_offset_time_is_accepted_and_normalised_to_utc(accepted):
    event = parse_event(wire(with_envelope(accepted, occurred_at="2025-03-08T15:20:05+01:00")))
    assert event.occurred_at == "2025-03-08T14:20:05Z"


@pytest.mark.parametrize("version", ["1", 1.0, 0, -1, True])
def test_version_is_a_positive_integer(accepted, version):
    with pytest.raises(ContractError):
        parse_event(wire(with_envelope(accepted, version=version)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "proposalAccepted"),
        ("type", "Proposal.Accepted"),
        ("producer", "Missions"),
        ("producer", "missions.x"),
        ("correlation_id", ""),
        ("correlation_id", "x" * 201),
        ("data", []),
        ("data", "{}"),
    ],
)
def test_malformed_envelope_values_are_refused(accepted, field, value):
    with pytest.raises(ContractError):
        parse_event(wire(with_envelope(accepted, **{field: value})))


def test_a_new_envelope_field_is_tolerated(accepted):
    event = parse_event(wire(with_envelope(accepted, trace_parent="00-abc-01")))
    assert "trace_parent" not in event.to_dict()


def test_routing_key_and_defaults():
    event = Event(type="MissionCompleted", version=1, producer="missions", data={}, correlation_id="c")
    assert event.routing_key == "missions.MissionCompleted"
    assert EnvelopeSchema().load(event.to_dict())["id"]
    assert event.occurred_at.endswith("Z")
    assert EXCHANGE == "clikopro.events"


def test_format_time_refuses_naive_and_converts_to_utc():
    with pytest.raises(ValueError):
        format_time(dt.datetime(2025, 1, 1, 12, 0))
    paris = dt.timezone(dt.timedelta(hours=2))
    assert format_time(dt.datetime(2025, 6, 1, 12, 0, tzinfo=paris)) == "2025-06-01T10:00:00Z"
