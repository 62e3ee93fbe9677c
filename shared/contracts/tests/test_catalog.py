"""The generated catalog: up to date with the code, deterministic, and its JSON
Schemas agree with the marshmallow schemas they are derived from."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.validators import validator_for
from marshmallow import Schema, fields, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from clikopro_contracts import ContractError, catalog, contract_for, contracts, parse_event
from clikopro_contracts.examples import example
from clikopro_contracts.fields import Cents, Currency, Id, Nested, UtcDateTime
from clikopro_contracts.testing import all_contract_keys, wire

ALL = all_contract_keys()
IDS = [f"{t}.v{v}" for t, v in ALL]

#: docs/events/ at the root of the monorepo (tests -> contracts -> shared -> repo).
DOCS_EVENTS = Path(__file__).resolve().parents[3] / "docs" / "events"

URI = "urn:clikopro:events"

# Every format jsonschema knows (uuid included), and an RFC 3339 date-time check
# that does not need the optional rfc3339-validator package.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _aware_date_time(value):
    return not isinstance(value, str) or (
        "T" in value and dt.datetime.fromisoformat(value).tzinfo is not None
    )


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load(catalog.render_asyncapi())


@pytest.fixture(scope="module")
def validators(document):
    registry = Registry().with_resource(URI, Resource(contents=document, specification=DRAFT7))

    def validator(key):
        return Draft7Validator(
            {"$ref": f"{URI}#/components/messages/{key}/payload"},
            registry=registry,
            format_checker=FORMATS,
        )

    return {f"{t}.v{v}": validator(f"{t}.v{v}") for t, v in ALL}


# --- up to date and deterministic ------------------------------------------------------


def test_docs_events_is_up_to_date_with_the_code(tmp_path):
    catalog.write(tmp_path)
    for name in (catalog.ASYNCAPI_FILE, catalog.MARKDOWN_FILE):
        committed = DOCS_EVENTS / name
        assert committed.is_file(), (
            f"{committed} missing: run python -m clikopro_contracts.catalog --out docs/events"
        )
        assert committed.read_text(encoding="utf-8") == (tmp_path / name).read_text(encoding="utf-8"), (
            f"{committed} is stale: run python -m clikopro_contracts.catalog --out docs/events"
        )


def test_rendering_is_deterministic():
    assert catalog.render() == catalog.render()


def test_check_mode_reports_stale_files(tmp_path, capsys):
    assert catalog.main(["--out", str(tmp_path), "--check"]) == 1
    assert catalog.main(["--out", str(tmp_path)]) == 0
    assert catalog.main(["--out", str(tmp_path), "--check"]) == 0
    events_md = tmp_path / catalog.MARKDOWN_FILE
    events_md.write_text(events_md.read_text(encoding="utf-8").replace("FundsReleased", "FundsRelease"))
    assert catalog.main(["--out", str(tmp_path), "--check"]) == 1
    assert "events.md is out of date" in capsys.readouterr().out


# --- the AsyncAPI document ------------------------------------------------------------


def test_the_document_is_valid_asyncapi_2_6(document):
    spec = json.loads((Path(__file__).parent / "data" / "asyncapi-2.6.0.schema.json").read_text("utf-8"))
    validator = validator_for(spec)(spec)
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(document)]
    assert errors == []
    broken = copy.deepcopy(document)
    broken["channels"]["missions.ProposalAccepted"]["subscribe"]["publisher"] = "missions"
    assert not validator.is_valid(broken)


def test_one_channel_per_routing_key_on_the_topic_exchange(document):
    expected = sorted({key for c in contracts() for key in c.routing_keys})  # one per type, all versions
    assert list(document["channels"]) == expected
    binding = document["components"]["channelBindings"]["domainEvents"]["amqp"]
    assert binding["exchange"] == {
        "name": "clikopro.events",
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }
    operation_ids = [channel["subscribe"]["operationId"] for channel in document["channels"].values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert document["channels"]["trust-safety.IncidentOpened"]["subscribe"]["operationId"] == (
        "trustSafetyIncidentOpened"
    )


def test_every_message_has_its_payload_schema_and_example(document):
    messages = document["components"]["messages"]
    assert set(messages) == set(IDS)
    for key, message in messages.items():
        type_, version = key.rsplit(".v", 1)
        assert message["examples"][0]["payload"] == example(type_, int(version))
        assert message["payload"]["allOf"][1]["properties"]["data"] == {"$ref": f"#/components/schemas/{key}"}


def test_the_markdown_has_a_section_per_producer_and_event():
    text = catalog.render_markdown()
    for contract in contracts():
        assert f"\n## {contract.producer}\n" in text
        assert f"\n### {contract.type} v{contract.version}\n" in text
    assert "| `tasks[].amount_cents` | cents (≥ 0) | yes |" in text
    assert "| `pro_profile.trades` | list of string" in text
    assert "| `until` | datetime (UTC) | yes, nullable |" in text
    assert "`missions.UserDataErased`" in text


@pytest.mark.parametrize("key", IDS)
def test_every_example_validates_against_its_json_schema(validators, key):
    type_, version = key.rsplit(".v", 1)
    errors = list(validators[key].iter_errors(example(type_, int(version))))
    assert errors == []


def test_the_json_schema_refuses_what_marshmallow_refuses_on_the_envelope(validators):
    message = example("ProposalAccepted")
    validator = validators["ProposalAccepted.v1"]
    for bad in (
        {"type": "ProposalRejected"},
        {"version": 2},
        {"producer": "payments"},
        {"id": "nope"},
        {"occurred_at": "2025-03-08T14:20:05"},
    ):
        assert not validator.is_valid({**message, **bad})
    assert not validator.is_valid({k: v for k, v in message.items() if k != "correlation_id"})


_WRONG = {
    "boolean": "yes",
    "integer": "12",
    "number": "12.5",
    "string": 12345,
    "array": "a list",
    "object": ["x"],
}


def _wrong_type(property_schema):
    """A JSON value of a type the property does not allow."""
    types = property_schema["type"]
    return _WRONG[types[0] if isinstance(types, list) else types]


MUTATIONS = [(f"{t}.v{v}", field) for t, v in ALL for field in contract_for(t, v).schema().fields]


@pytest.mark.parametrize(("key", "field"), MUTATIONS, ids=[f"{k}:{f}" for k, f in MUTATIONS])
def test_json_schema_and_marshmallow_agree_on_each_field(document, validators, key, field):
    """Removing a field, nulling it, or giving it the wrong JSON type: both
    schemas accept or both refuse, except where marshmallow also applies a
    cross-field rule that JSON Schema does not express."""
    type_, version = key.rsplit(".v", 1)
    base = example(type_, int(version))
    validator = validators[key]

    def outcomes(change):
        message = copy.deepcopy(base)
        change(message["data"])
        try:
            parse_event(wire(message))
            accepted = True
        except ContractError:
            accepted = False
        return accepted, validator.is_valid(message)

    removed = outcomes(lambda data: data.pop(field))
    assert removed[0] == removed[1], f"removing {field}: marshmallow, json schema = {removed}"

    nulled_ms, nulled_js = outcomes(lambda data: data.__setitem__(field, None))
    assert not (nulled_ms and not nulled_js), f"null {field}: accepted by marshmallow only"
    if nulled_js and not nulled_ms:
        # only allowed when the field is nullable and a cross-field rule refuses null here
        assert contract_for(type_, int(version)).schema().fields[field].allow_none

    bad = _wrong_type(document["components"]["schemas"][key]["properties"][field])
    wrong = outcomes(lambda data: data.__setitem__(field, bad))
    assert wrong == (False, False), f"wrong type for {field}: marshmallow, json schema = {wrong}"


# --- the converter ----------------------------------------------------------------------


def test_converter_covers_the_field_types_used():
    class Item(Schema):
        n = fields.Integer(strict=True, validate=validate.Range(min=1, max=3, max_inclusive=False))

    class Sample(Schema):
        when = UtcDateTime(required=True, metadata={"description": "When."})
        day = fields.Date(allow_none=True, load_default=None)
        money = Cents(required=True)
        currency = Currency()
        ident = Id()
        mode = fields.String(allow_none=True, validate=validate.OneOf(["a", "b"]))
        code = fields.String(validate=[validate.Regexp(r"^[a-z]+$"), validate.Length(equal=4)])
        items = fields.List(Nested(Item), validate=validate.Length(min=1, max=9))
        one = Nested(Item, allow_none=True)
        ratio = fields.Float()
        flag = fields.Boolean()

    schema = catalog.object_schema(Sample)
    props = schema["properties"]
    assert schema["required"] == ["when", "money"]
    assert props["when"] == {"description": "When.", "type": "string", "format": "date-time"}
    assert props["day"] == {"type": ["string", "null"], "format": "date", "default": None}
    assert props["money"] == {"type": "integer", "minimum": 0}
    assert props["currency"] == {"type": "string", "enum": ["EUR"], "default": "EUR"}
    assert props["ident"] == {"type": "string", "format": "uuid"}
    assert props["mode"] == {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert props["code"] == {"type": "string", "pattern": "^[a-z]+$", "minLength": 4, "maxLength": 4}
    assert props["items"] == {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1, "exclusiveMaximum": 3}},
        },
        "minItems": 1,
        "maxItems": 9,
    }
    assert props["one"]["type"] == ["object", "null"]
    assert props["ratio"] == {"type": "number"}
    assert props["flag"] == {"type": "boolean"}


def test_converter_refuses_what_it_does_not_know():
    with pytest.raises(catalog.UnsupportedFieldError):
        catalog.field_schema(fields.Raw())
    with pytest.raises(catalog.UnsupportedFieldError):
        catalog.field_schema(fields.String(validate=lambda value: True))
