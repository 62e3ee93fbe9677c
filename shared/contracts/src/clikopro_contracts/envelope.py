"""The envelope every CLIKOPRO event travels in (EVENTS.md, "Envelope").

An :class:`Event` is immutable and always holds its ``data`` in JSON form
(UUIDs and times as strings, money as integer cents), exactly as it crosses
the wire; :func:`clikopro_contracts.registry.load_data` turns it into typed
Python values for a handler that wants them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

#: The durable topic exchange every domain event is published on, with the
#: routing key ``<producer>.<EventType>`` (EVENTS.md, "Topology").
EXCHANGE = "clikopro.events"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def format_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the only form times take on the wire."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not allowed on the wire")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _doc(description: str) -> dict[str, str]:
    return {"description": description}


class EnvelopeSchema(Schema):
    """Shape of the envelope; ``data`` is validated separately by the registry."""

    class Meta:
        unknown = EXCLUDE  # envelopes may grow fields: a minor change

    id = fields.UUID(required=True, metadata=_doc("Unique per event; consumers deduplicate on it."))
    type = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z][A-Za-z]+$"),
        metadata=_doc("Event type, a past-tense fact (e.g. `MissionCompleted`)."),
    )
    version = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata=_doc("Version of the payload schema, per type."),
    )
    # No default_timezone: a naive time is refused, not silently taken as UTC.
    occurred_at = fields.AwareDateTime(required=True, metadata=_doc("When the fact happened, RFC 3339 UTC."))
    producer = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z-]*$"),
        metadata=_doc("The publishing service; first part of the routing key."),
    )
    correlation_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata=_doc("The originating request's id, carried through every hop."),
    )
    causation_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata=_doc("The event or request that caused this one."),
    )
    data = fields.Dict(
        required=True, keys=fields.String(), metadata=_doc("The payload, per type and version.")
    )


@dataclass(frozen=True, slots=True)
class Event:
    """One event in its envelope. ``data`` is the JSON form of the payload."""

    type: str
    version: int
    producer: str
    data: dict[str, Any]
    correlation_id: str
    causation_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: str = field(default_factory=lambda: format_time(utcnow()))

    @property
    def routing_key(self) -> str:
        """``<producer>.<EventType>``, the key the topic exchange routes on."""
        return f"{self.producer}.{self.type}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at,
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "data": self.data,
        }
