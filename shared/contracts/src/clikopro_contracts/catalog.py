"""Generate the event catalog from the registered contracts.

    python -m clikopro_contracts.catalog --out docs/events           # write
    python -m clikopro_contracts.catalog --out docs/events --check   # exit 1 if stale

Writes ``asyncapi.yaml`` (AsyncAPI 2.6: one channel per routing key on the
topic exchange, message payload = envelope + JSON Schema of ``data``) and
``events.md`` (one section per producer, a table of fields per event and its
example). The output depends only on the code and the examples: no dates, and
everything sorted, so regenerating an unchanged catalog gives no diff.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, fields, missing, validate

from clikopro_contracts import __version__
from clikopro_contracts import fields as cfields
from clikopro_contracts.envelope import EXCHANGE, EnvelopeSchema
from clikopro_contracts.examples import example
from clikopro_contracts.registry import Contract, contracts

ASYNCAPI_FILE = "asyncapi.yaml"
MARKDOWN_FILE = "events.md"
AMQP_BINDING_VERSION = "0.2.0"

# field class -> (JSON Schema, label in events.md); looked up along the MRO, so
# a subclass not listed here gets its closest listed ancestor. A field whose
# ancestors are all missing is an error: extend the table, don't guess.
_SCALARS: dict[type[fields.Field], tuple[dict[str, Any], str]] = {
    cfields.Cents: ({"type": "integer"}, "cents"),
    cfields.Currency: ({"type": "string"}, "currency"),
    cfields.UtcDateTime: ({"type": "string", "format": "date-time"}, "datetime (UTC)"),
    fields.UUID: ({"type": "string", "format": "uuid"}, "uuid"),
    fields.DateTime: ({"type": "string", "format": "date-time"}, "datetime"),
    fields.Date: ({"type": "string", "format": "date"}, "date"),
    fields.Email: ({"type": "string", "format": "email"}, "email"),
    fields.String: ({"type": "string"}, "string"),
    fields.Integer: ({"type": "integer"}, "integer"),
    fields.Float: ({"type": "number"}, "number"),
    fields.Boolean: ({"type": "boolean"}, "boolean"),
}


class UnsupportedFieldError(TypeError):
    """A field or validator the JSON Schema converter does not know."""


def _scalar(field: fields.Field) -> tuple[dict[str, Any], str]:
    for cls in type(field).__mro__:
        if cls in _SCALARS:
            schema, label = _SCALARS[cls]
            return dict(schema), label
    raise UnsupportedFieldError(f"no JSON Schema for {type(field).__name__}")


def _apply_validators(field: fields.Field, schema: dict[str, Any]) -> None:
    is_array = schema.get("type") == "array"
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            if validator.min is not None:
                schema["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
            if validator.max is not None:
                schema["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
        elif isinstance(validator, validate.Length):
            low, high = ("minItems", "maxItems") if is_array else ("minLength", "maxLength")
            lower = validator.equal if validator.equal is not None else validator.min
            upper = validator.equal if validator.equal is not None else validator.max
            if lower is not None:
                schema[low] = lower
            if upper is not None:
                schema[high] = upper
        elif isinstance(validator, validate.OneOf):
            schema["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Regexp):
            schema["pattern"] = validator.regex.pattern
        elif isinstance(validator, validate.Email):
            schema["format"] = "email"
        else:
            raise UnsupportedFieldError(f"no JSON Schema for validator {validator!r} on {field.name}")


def _description(field: fields.Field) -> str | None:
    return field.metadata.get("description")


def _default(field: fields.Field) -> Any:
    default = field.load_default
    return default() if callable(default) else default


def field_schema(field: fields.Field) -> dict[str, Any]:
    """JSON Schema (draft 07, as AsyncAPI 2.6 uses) of one marshmallow field."""
    schema: dict[str, Any] = {}
    if (description := _description(field)) is not None:
        schema["description"] = description
    if isinstance(field, fields.Nested):
        body = object_schema(field.schema)
        if field.many:
            body = {"type": "array", "items": body}
    elif isinstance(field, fields.List):
        body = {"type": "array", "items": field_schema(field.inner)}
    else:
        body, _ = _scalar(field)
    schema.update(body)
    _apply_validators(field, schema)
    if field.allow_none:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    if field.load_default is not missing:
        schema["default"] = _default(field)
    return schema


def object_schema(schema: Schema | type[Schema]) -> dict[str, Any]:
    """JSON Schema of a marshmallow schema (fields in declaration order)."""
    instance = schema() if isinstance(schema, type) else schema
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field in instance.fields.items():
        key = field.data_key or name
        properties[key] = field_schema(field)
        if field.required:
            required.append(key)
    result: dict[str, Any] = {"type": "object"}
    if required:
        result["required"] = required
    result["properties"] = properties
    return result


def _message_key(contract: Contract) -> str:
    return f"{contract.type}.v{contract.version}"


def envelope_schema() -> dict[str, Any]:
    """The envelope every message shares (``data`` is pinned per message)."""
    schema = object_schema(EnvelopeSchema(exclude=("data",)))
    schema["required"].append("data")
    schema["properties"]["data"] = {"description": "The payload, per type and version.", "type": "object"}
    return schema


def message_payload(contract: Contract) -> dict[str, Any]:
    """The whole message of one contract: the envelope, with ``type``, ``version`` and
    ``producer`` pinned and ``data`` pointing at the payload schema."""
    return {
        "allOf": [
            {"$ref": "#/components/schemas/Envelope"},
            {
                "type": "object",
                "properties": {
                    "type": {"const": contract.type},
                    "version": {"const": contract.version},
                    "producer": {"enum": list(contract.producers)},
                    "data": {"$ref": f"#/components/schemas/{_message_key(contract)}"},
                },
            },
        ]
    }


def _operation_id(producer: str, type_: str) -> str:
    head, *rest = producer.split("-")
    return head + "".join(part.capitalize() for part in rest) + type_


def _producer_paragraphs(producer: str) -> list[str]:
    """The docstring of the producer's module, as Markdown paragraphs."""
    module = importlib.import_module(f"clikopro_contracts.events.{producer.replace('-', '_')}")
    text = (module.__doc__ or producer).replace("``", "`")
    return [" ".join(paragraph.split()) for paragraph in text.split("\n\n") if paragraph.strip()]


def _producer_doc(producer: str) -> str:
    return _producer_paragraphs(producer)[0]


def _owners() -> list[str]:
    return sorted({c.producer for c in contracts()})


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 2.6 document of the whole catalog."""
    all_contracts = contracts()
    schemas: dict[str, Any] = {"Envelope": envelope_schema()}
    messages: dict[str, Any] = {}
    for contract in sorted(all_contracts, key=_message_key):
        key = _message_key(contract)
        schemas[key] = {"description": contract.summary, **object_schema(contract.schema)}
        messages[key] = {
            "name": contract.type,
            "title": f"{contract.type} v{contract.version}",
            "summary": contract.summary,
            "contentType": "application/json",
            "tags": [{"name": contract.producer}],
            "bindings": {"amqp": {"messageType": contract.type, "bindingVersion": AMQP_BINDING_VERSION}},
            "payload": message_payload(contract),
            "examples": [{"name": key, "payload": example(contract.type, contract.version)}],
        }

    by_key: dict[tuple[str, str], list[Contract]] = {}
    for contract in all_contracts:
        for producer in contract.producers:
            by_key.setdefault((producer, contract.type), []).append(contract)
    channels: dict[str, Any] = {}
    for (producer, type_), versions in sorted(by_key.items(), key=lambda item: f"{item[0][0]}.{item[0][1]}"):
        versions.sort(key=lambda c: c.version)
        refs = [{"$ref": f"#/components/messages/{_message_key(c)}"} for c in versions]
        channels[f"{producer}.{type_}"] = {
            "description": versions[-1].summary,
            "bindings": {"$ref": "#/components/channelBindings/domainEvents"},
            "subscribe": {
                "operationId": _operation_id(producer, type_),
                "summary": f"{producer} publishes {type_}; consumers bind their queue to this key.",
                "tags": [{"name": versions[-1].producer}],
                "bindings": {"$ref": "#/components/operationBindings/persistentAcked"},
                "message": refs[0] if len(refs) == 1 else {"oneOf": refs},
            },
        }

    return {
        "asyncapi": "2.6.0",
        "id": "urn:clikopro:events",
        "info": {
            "title": "CLIKOPRO domain events",
            "version": __version__,
            "description": (
                "Every domain event of CLIKOPRO, generated from `shared/contracts` "
                "(`python -m clikopro_contracts.catalog`). Messages are JSON envelopes "
                f"published on the durable topic exchange `{EXCHANGE}` with the routing key "
                "`<producer>.<EventType>`: persistent, with publisher confirms, from each "
                "service's transactional outbox. Consumers validate on receipt, deduplicate "
                "on the envelope `id`, tolerate unknown payload fields and must not assume "
                "order across producers. A new optional field is a minor change; a removed "
                "or renamed field is a new `version`."
            ),
        },
        "servers": {
            "rabbitmq": {
                "url": "{host}:{port}",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The RabbitMQ broker of the environment.",
                "variables": {"host": {"default": "localhost"}, "port": {"default": "5672"}},
            }
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "channelBindings": {
                "domainEvents": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {
                            "name": EXCHANGE,
                            "type": "topic",
                            "durable": True,
                            "autoDelete": False,
                            "vhost": "/",
                        },
                        "bindingVersion": AMQP_BINDING_VERSION,
                    }
                }
            },
            "operationBindings": {
                "persistentAcked": {
                    "amqp": {"deliveryMode": 2, "ack": True, "bindingVersion": AMQP_BINDING_VERSION}
                }
            },
        },
        "tags": [{"name": owner, "description": _producer_doc(owner)} for owner in _owners()],
    }


def render_asyncapi() -> str:
    return yaml.safe_dump(
        asyncapi_document(), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


# --- events.md ---------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _type_label(field: fields.Field) -> str:
    if isinstance(field, fields.Nested):
        label = "list of objects" if field.many else "object"
    elif isinstance(field, fields.List):
        label = f"list of {_type_label(field.inner)}"
    else:
        label = _scalar(field)[1]
    constraints: list[str] = []
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            constraints.append("one of " + ", ".join(f"`{choice}`" for choice in validator.choices))
        elif isinstance(validator, validate.Regexp):
            constraints.append(f"matching `{validator.regex.pattern}`")
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                constraints.append(f"{'≥' if validator.min_inclusive else '>'} {validator.min}")
            if validator.max is not None:
                constraints.append(f"{'≤' if validator.max_inclusive else '<'} {validator.max}")
        elif isinstance(validator, validate.Length):
            if validator.equal is not None:
                constraints.append(f"length {validator.equal}")
            if validator.min is not None:
                constraints.append(f"length ≥ {validator.min}")
            if validator.max is not None:
                constraints.append(f"length ≤ {validator.max}")
    return label + (f" ({'; '.join(constraints)})" if constraints else "")


def _required_label(field: fields.Field) -> str:
    if field.required:
        return "yes, nullable" if field.allow_none else "yes"
    if field.load_default is missing:
        return "no"
    return f"no (default {_code(_default(field))})"


def _rows(schema: Schema | type[Schema], prefix: str = "") -> list[str]:
    instance = schema() if isinstance(schema, type) else schema
    rows: list[str] = []
    for name, field in instance.fields.items():
        path = prefix + (field.data_key or name)
        rows.append(
            f"| `{path}` | {_cell(_type_label(field))} | {_required_label(field)} "
            f"| {_cell(_description(field) or '')} |"
        )
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            many = isinstance(field, fields.List) or inner.many
            rows.extend(_rows(inner.schema, f"{path}[]." if many else f"{path}."))
    return rows


_TABLE_HEAD = ["| Field | Type | Required | Description |", "| --- | --- | --- | --- |"]


def _anchor(contract: Contract) -> str:
    return f"{contract.type.lower()}-v{contract.version}"


def render_markdown() -> str:
    all_contracts = contracts()
    lines = [
        "# CLIKOPRO event catalog",
        "",
        "<!-- Generated by `python -m clikopro_contracts.catalog --out docs/events` from "
        "shared/contracts; do not edit by hand. -->",
        "",
        f"Every event travels as a JSON envelope on the durable topic exchange `{EXCHANGE}`, "
        "routed by `<producer>.<EventType>`. Producers build events with `make_event` (strict: "
        "unknown fields are refused); consumers read them with `parse_event` (unknown payload "
        "fields are ignored, everything else is checked). Money is integer cents with a "
        "`currency`; times are RFC 3339 UTC; ids are UUIDs. The machine-readable form of this "
        "page is `asyncapi.yaml` beside it.",
        "",
        "## Envelope",
        "",
        *_TABLE_HEAD,
        *_rows(EnvelopeSchema(exclude=("data",))),
        "| `data` | object | yes | The payload, per type and version (below). |",
        "",
        "## Contents",
        "",
    ]
    for owner in _owners():
        links = ", ".join(
            f"[{c.type} v{c.version}](#{_anchor(c)})" for c in all_contracts if c.producer == owner
        )
        lines.append(f"- **{owner}**: {links}")
    for owner in _owners():
        lines += ["", f"## {owner}"]
        for paragraph in _producer_paragraphs(owner):
            lines += ["", paragraph]
        for contract in (c for c in all_contracts if c.producer == owner):
            keys = ", ".join(f"`{key}`" for key in contract.routing_keys)
            lines += [
                "",
                f"### {contract.type} v{contract.version}",
                "",
                contract.summary,
                "",
                f"Routing key{'s' if len(contract.routing_keys) > 1 else ''}: {keys}",
                "",
                *_TABLE_HEAD,
                *_rows(contract.schema),
                "",
                "Example:",
                "",
                "```json",
                json.dumps(example(contract.type, contract.version), indent=2, ensure_ascii=False),
                "```",
            ]
    return "\n".join(lines) + "\n"


def render() -> dict[str, str]:
    """The catalog files, by name."""
    return {ASYNCAPI_FILE: render_asyncapi(), MARKDOWN_FILE: render_markdown()}


def stale_files(out: Path) -> list[str]:
    """Names of the catalog files in ``out`` that differ from what the code generates."""
    return [
        name
        for name, text in render().items()
        if not (out / name).is_file() or (out / name).read_text(encoding="utf-8") != text
    ]


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clikopro_contracts.catalog", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="directory to write asyncapi.yaml and events.md"
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the files are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        for name in stale:
            print(
                f"{args.out / name} is out of date: run python -m clikopro_contracts.catalog --out {args.out}"
            )
        return 1 if stale else 0
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
