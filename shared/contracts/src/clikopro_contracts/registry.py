"""The registry ``(type, version) -> schema`` and the two doors through it:
:func:`make_event` for producers (strict) and :func:`parse_event` for
consumers (tolerant of new fields, strict on everything else)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from clikopro_contracts.envelope import EnvelopeSchema, Event, format_time
from clikopro_contracts.fields import unknown_policy


class ContractError(ValueError):
    """A message or a payload that does not honour its contract."""

    def __init__(self, message: str, errors: Any = None) -> None:
        super().__init__(message if errors is None else f"{message}: {errors}")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Contract:
    """One ``(type, version)``. ``producer`` is the service that owns the contract
    (its module and catalog section); ``producers`` are the services allowed to
    publish it, which is ``(producer,)`` except for the few answers every
    service gives (e.g. ``UserDataErased``)."""

    type: str
    version: int
    producer: str
    schema: type[Schema]
    summary: str
    producers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.producers:
            object.__setattr__(self, "producers", (self.producer,))

    def instance(self) -> Schema:
        """The schema, built once: building a schema (and its nested ones) costs more than
        loading a payload with it, and a schema holds no per-call state."""
        return _instance(self.schema)

    @property
    def routing_keys(self) -> tuple[str, ...]:
        """``<producer>.<EventType>`` for each service that may publish it."""
        return tuple(f"{p}.{self.type}" for p in self.producers)


@functools.cache
def _instance(schema: type[Schema]) -> Schema:
    return schema()


_CONTRACTS: dict[tuple[str, int], Contract] = {}
_ENVELOPE = EnvelopeSchema()

S = TypeVar("S", bound=type[Schema])


def register(type_: str, version: int, *, producer: str, producers: tuple[str, ...] = ()) -> Callable[[S], S]:
    """Class decorator: declare ``schema`` as the payload of ``type_`` v``version``.

    The class docstring is the event's description in the generated catalog.
    ``producers`` lists the services allowed to publish it when that is not
    just ``producer`` (the owner of the contract).
    """

    def decorate(schema: S) -> S:
        key = (type_, version)
        if key in _CONTRACTS:
            raise RuntimeError(f"contract {type_} v{version} registered twice")
        contract = Contract(
            type_, version, producer, schema, " ".join((schema.__doc__ or "").split()), tuple(producers)
        )
        for (other_type, _), other in _CONTRACTS.items():
            if other_type == type_ and (other.producer, other.producers) != (producer, contract.producers):
                raise RuntimeError(f"{type_} has two producers")
        _CONTRACTS[key] = contract
        return schema

    return decorate


def _load_catalog() -> None:
    # Importing the per-producer modules registers their schemas.
    from clikopro_contracts import events  # noqa: F401


def contracts() -> list[Contract]:
    _load_catalog()
    return sorted(_CONTRACTS.values(), key=lambda c: (c.producer, c.type, c.version))


def contract_for(type_: str, version: int) -> Contract:
    _load_catalog()
    try:
        return _CONTRACTS[(type_, version)]
    except KeyError:
        raise ContractError(f"unknown event {type_} v{version}") from None


def latest_version(type_: str) -> int:
    _load_catalog()
    versions = [v for (t, v) in _CONTRACTS if t == type_]
    if not versions:
        raise ContractError(f"unknown event type {type_}")
    return max(versions)


def producer_of(type_: str) -> str:
    """The service that owns ``type_`` (see :attr:`Contract.producers` for who may publish it)."""
    return contract_for(type_, latest_version(type_)).producer


def _json_ready(value: Any) -> Any:
    """Typed Python values to their wire form, so that one strict ``load`` checks them."""
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def make_event(
    type_: str,
    data: Mapping[str, Any],
    *,
    correlation_id: str,
    causation_id: str | None = None,
    version: int | None = None,
    event_id: str | uuid.UUID | None = None,
    occurred_at: dt.datetime | None = None,
    producer: str | None = None,
) -> Event:
    """Build an event for publication; the payload must match its schema exactly.

    Producers are strict (unknown fields raise, nested objects included) so
    that a typo fails in the producer's own tests rather than silently in a
    consumer. ``producer`` is required only for a contract that several
    services publish; otherwise it may be given and must then be the owner.
    """
    version = version or latest_version(type_)
    contract = contract_for(type_, version)
    if producer is None:
        if len(contract.producers) > 1:
            raise ContractError(f"{type_} is published by several services: say which (producer=)")
        producer = contract.producer
    elif producer not in contract.producers:
        raise ContractError(f"{type_} is not published by {producer}")
    schema = contract.instance()
    try:
        wire_data = _json_ready(data)
    except ValueError as exc:
        raise ContractError(f"{type_} v{version} payload is invalid: {exc}") from exc
    try:
        with unknown_policy(RAISE):
            loaded = schema.load(wire_data, unknown=RAISE)
    except ValidationError as exc:
        raise ContractError(f"{type_} v{version} payload is invalid", exc.messages) from exc
    extra: dict[str, str] = {}
    if event_id is not None:
        try:
            extra["id"] = str(uuid.UUID(str(event_id)))
        except ValueError:
            raise ContractError(f"event id {event_id!r} is not a UUID") from None
    if occurred_at is not None:
        try:
            extra["occurred_at"] = format_time(occurred_at)
        except ValueError as exc:
            raise ContractError(str(exc)) from exc
    event = Event(
        type=type_,
        version=version,
        producer=producer,
        data=schema.dump(loaded),
        correlation_id=correlation_id,
        causation_id=causation_id,
        **extra,
    )
    try:  # what a producer builds must pass the consumers' envelope check
        _ENVELOPE.load(event.to_dict())
    except ValidationError as exc:
        raise ContractError("invalid envelope", exc.messages) from exc
    return event


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_event(raw: bytes | str | Mapping[str, Any]) -> Event:
    """Check a received message against the envelope and its payload schema.

    Raises :class:`ContractError` for anything that is not a valid event: not
    JSON, not an envelope, an unknown ``(type, version)``, an invalid payload.
    Unknown payload fields are tolerated (a minor change by the producer).
    """
    if isinstance(raw, bytes | bytearray):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError("message body is not UTF-8") from exc
    if isinstance(raw, str):
        try:
            raw = json.loads(raw, parse_constant=_reject_constant)
        except ValueError as exc:
            raise ContractError("message body is not JSON") from exc
    if not isinstance(raw, Mapping):
        raise ContractError("message body is not a JSON object")
    try:
        envelope = _ENVELOPE.load(raw)
    except ValidationError as exc:
        raise ContractError("invalid envelope", exc.messages) from exc
    contract = contract_for(envelope["type"], envelope["version"])
    if envelope["producer"] not in contract.producers:
        raise ContractError(
            f"{contract.type} is produced by {', '.join(contract.producers)}, not {envelope['producer']}"
        )
    schema = contract.instance()
    try:
        with unknown_policy(EXCLUDE):
            loaded = schema.load(envelope["data"], unknown=EXCLUDE)
    except ValidationError as exc:
        raise ContractError(f"{contract.type} v{contract.version} payload is invalid", exc.messages) from exc
    return Event(
        type=contract.type,
        version=contract.version,
        producer=envelope["producer"],
        data=schema.dump(loaded),
        correlation_id=envelope["correlation_id"],
        causation_id=envelope["causation_id"],
        id=str(envelope["id"]),
        occurred_at=format_time(envelope["occurred_at"]),
    )


def load_data(event: Event) -> dict[str, Any]:
    """The payload as typed Python values (UUID, datetime, date...)."""
    schema = contract_for(event.type, event.version).instance()
    with unknown_policy(EXCLUDE):
        return schema.load(event.data, unknown=EXCLUDE)
