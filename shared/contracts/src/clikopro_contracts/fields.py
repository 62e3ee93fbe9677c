"""Field types shared by every contract, so that a UUID, a time or an amount
of money looks the same in every event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from marshmallow import ValidationError, fields, types, validate

from clikopro_contracts.envelope import format_time


class UtcDateTime(fields.AwareDateTime):
    """An aware time, always written as RFC 3339 UTC with a ``Z``. A naive time
    (no offset) is refused rather than assumed to be UTC."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = self._deserialize(value, attr, obj)
        return format_time(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValidationError("Not a valid aware datetime.")
            return value.astimezone(dt.UTC)
        return super()._deserialize(value, attr, data, **kwargs).astimezone(dt.UTC)


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only (marshmallow's Boolean also takes ``"yes"``, ``1``, ``"on"``...)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)


class StrictFloat(fields.Float):
    """A JSON number only (marshmallow's Float also takes numeric strings); never NaN or infinite."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class Cents(fields.Integer):
    """An amount of money: a non-negative integer of euro cents, never a float."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Range(min=0))
        super().__init__(strict=True, **kwargs)


class Currency(fields.String):
    """Only euros are handled today (R23); the field exists so that it can change."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("load_default", "EUR")
        kwargs.setdefault("dump_default", "EUR")
        super().__init__(validate=validate.OneOf(["EUR"]), **kwargs)


class Id(fields.UUID):
    """A UUID, written as its canonical string."""


def doc(description: str) -> dict[str, str]:
    """Field metadata carrying the description shown in the generated catalog."""
    return {"description": description}


# marshmallow does not pass the ``unknown`` policy of a ``load`` down to nested
# schemas: a nested object would raise on a new field even in a consumer. The
# registry sets the policy here for the duration of one load; :class:`Nested`
# follows it.
_UNKNOWN_POLICY: ContextVar[types.UnknownOption | None] = ContextVar("clikopro_unknown", default=None)


@contextmanager
def unknown_policy(policy: types.UnknownOption) -> Iterator[None]:
    """Within the block, nested objects treat unknown fields with ``policy``."""
    token = _UNKNOWN_POLICY.set(policy)
    try:
        yield
    finally:
        _UNKNOWN_POLICY.reset(token)


class Nested(fields.Nested):
    """A nested object that treats unknown fields like the top-level payload:
    strict in :func:`make_event`, tolerant in :func:`parse_event`. Contracts
    must use it rather than ``marshmallow.fields.Nested``."""

    def _load(self, value: Any, partial: Any = None) -> Any:
        policy = self.unknown or _UNKNOWN_POLICY.get()
        try:
            return self.schema.load(value, unknown=policy, partial=partial)
        except ValidationError as error:
            raise ValidationError(error.messages, valid_data=error.valid_data) from error
