"""Every contract has an example; every example is a valid, canonical message
that survives the consumer door and the producer door unchanged."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from clikopro_contracts import ContractError, contract_for, contracts, load_data, make_event, parse_event
from clikopro_contracts import examples as examples_module
from clikopro_contracts.examples import all_examples, example, example_files
from clikopro_contracts.testing import all_contract_keys, assert_like_example, wire, with_data

ALL = all_contract_keys()
IDS = [f"{t}.v{v}" for t, v in ALL]

# The catalog of EVENTS.md ("Catalog (minimum)"), plus the erasure answer
# UserDataErased that the erasure saga needs (published by every data-holding service)
# and the reminders the notifications to come will send (TaskValidationReminderDue,
# PayoutOnboardingReminderDue).
EXPECTED = {
    "identity": {
        "UserRegistered",
        "ProfessionalVerified",
        "ContactDetailsChanged",
        "UserErasureRequested",
        "UserErased",
        "UserDataErased",
    },
    "missions": {
        "MissionPublished",
        "ProposalSubmitted",
        "ProposalAccepted",
        "ProposalRejected",
        "TaskSubmitted",
        "TaskValidated",
        "TaskContested",
        "MissionCompleted",
        "MissionCancelled",
        "TaskValidationReminderDue",
    },
    "payments": {
        "PaymentSecured",
        "PaymentFailed",
        "FundsReleased",
        "RefundIssued",
        "PayoutsFrozen",
        "PayoutsUnfrozen",
        "PayoutOnboardingReminderDue",
    },
    "subscriptions": {
        "SubscriptionActivated",
        "SubscriptionRenewed",
        "RenewalReminderDue",
        "SubscriptionCancelled",
        "SubscriptionLapsed",
    },
    "appointments": {
        "AppointmentRequested",
        "AppointmentAccepted",
        "AppointmentDeclined",
        "AppointmentCancelled",
    },
    "reputation": {"ReviewPublished", "ReviewHidden", "ReviewRestored", "ReputationUpdated"},
    "trust-safety": {
        "IncidentOpened",
        "IncidentResolved",
        "AccountSuspended",
        "AccountReinstated",
        "DocumentsRequested",
        "CircumventionDetected",
    },
}


def test_the_registry_holds_the_catalog_of_events_md_from_version_1():
    registered: dict[str, set[str]] = {}
    versions: dict[str, set[int]] = {}
    for contract in contracts():
        registered.setdefault(contract.producer, set()).add(contract.type)
        versions.setdefault(contract.type, set()).add(contract.version)
    assert all(registered[producer] >= types for producer, types in EXPECTED.items())  # new types welcome
    # Every type starts at v1 and its versions have no gap (v2 replaces v1 during a migration).
    assert all(found == set(range(1, max(found) + 1)) for found in versions.values())


def test_every_contract_has_an_example_and_every_example_a_contract():
    files = example_files()
    assert set(files) == set(ALL)
    for (type_, version), relative in files.items():
        assert relative == f"{contract_for(type_, version).producer}/{type_}.v{version}.json"


def test_all_examples_loads_every_file_sorted():
    loaded = all_examples()
    assert list(loaded) == sorted(ALL)
    assert all(message["type"] == type_ for (type_, _), message in loaded.items())


def test_example_returns_a_fresh_copy():
    first = example("ProposalAccepted")
    first["data"]["tasks"].clear()
    assert example("ProposalAccepted")["data"]["tasks"]


def test_example_of_an_unknown_contract_is_refused():
    with pytest.raises(ContractError):
        example("ProposalAccepted", 9)


def test_a_stray_file_in_the_examples_is_reported(tmp_path, monkeypatch):
    (tmp_path / "missions").mkdir()
    (tmp_path / "missions" / "ProposalAccepted.json").write_text("{}")
    monkeypatch.setattr(examples_module, "_root", lambda: tmp_path)
    with pytest.raises(ValueError, match="unexpected file"):
        example_files()


def test_two_examples_of_one_contract_are_reported(tmp_path, monkeypatch):
    for producer in ("missions", "payments"):
        (tmp_path / producer).mkdir()
        (tmp_path / producer / "ProposalAccepted.v1.json").write_text("{}")
    monkeypatch.setattr(examples_module, "_root", lambda: tmp_path)
    with pytest.raises(ValueError, match="two examples"):
        example_files()


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_example_parses_and_is_canonical(type_, version):
    message = example(type_, version)
    event = parse_event(wire(message))
    assert (event.type, event.version) == (type_, version)
    assert event.producer in contract_for(type_, version).producers
    # canonical: what a consumer reads back is exactly what is on the wire
    assert event.to_dict() == message


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_example_round_trips_through_the_producer_door(type_, version):
    message = example(type_, version)
    received = parse_event(wire(message))
    rebuilt = make_event(
        type_,
        received.data,
        version=version,
        correlation_id=received.correlation_id,
        causation_id=received.causation_id,
        event_id=received.id,
        occurred_at=dt.datetime.fromisoformat(received.occurred_at),
        producer=received.producer,
    )
    assert rebuilt.data == message["data"]
    assert rebuilt.to_dict() == message
    assert rebuilt.routing_key == f"{message['producer']}.{type_}"


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_typed_values_from_load_data_are_accepted_by_make_event(type_, version):
    message = example(type_, version)
    typed = load_data(parse_event(message))
    ids = [value for value in typed.values() if isinstance(value, uuid.UUID)]
    assert ids, "every payload names at least one entity by its UUID"
    rebuilt = make_event(type_, typed, correlation_id="c", producer=message["producer"], version=version)
    assert rebuilt.data == message["data"]


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_example_envelope_fields_are_fixed(type_, version):
    message = example(type_, version)
    assert uuid.UUID(message["id"])
    assert message["occurred_at"].endswith("Z")
    assert message["correlation_id"] and message["causation_id"]


def test_example_ids_are_unique():
    ids = [message["id"] for message in all_examples().values()]
    assert len(ids) == len(set(ids))


# --- the helpers services use in their own contract tests ---------------------------------


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_assert_like_example_accepts_what_make_event_builds(type_, version):
    message = example(type_, version)
    event = make_event(
        type_, message["data"], version=version, correlation_id="c", producer=message["producer"]
    )
    assert assert_like_example(event).data == message["data"]


def test_assert_like_example_accepts_another_shape_of_the_same_contract():
    client = example("UserRegistered")
    client["data"].update(role="client", pro_profile=None, phone=None)
    assert_like_example(client)


def test_assert_like_example_reports_fields_missing_or_added_by_a_producer():
    raw = with_data(example("UserRegistered"), phone=...)
    with pytest.raises(AssertionError, match=r"data\.phone: missing"):
        assert_like_example(raw)
    raw = example("ProposalAccepted")
    raw["data"]["tasks"][0]["vat_cents"] = 0
    with pytest.raises(AssertionError, match=r"data\.tasks\[\]\.vat_cents: not in the example"):
        assert_like_example(raw)


def test_assert_like_example_still_applies_the_contract():
    with pytest.raises(ContractError):
        assert_like_example(with_data(example("FundsReleased"), net_cents=1))


def test_wire_is_utf8_json_of_an_event_or_a_message(accepted):
    event = parse_event(accepted)
    assert wire(event) == wire(accepted)
    assert "Dépose".encode() in wire(accepted)
