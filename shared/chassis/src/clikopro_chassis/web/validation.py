"""Request-body validation that never answers 500 to bad bytes.

connexion's JSON validator decodes the body without guarding against bytes
that are not UTF-8 (a 500) and reports only the first schema error. This one
answers 400 ``malformed_body`` for undecodable or unparsable bodies (JSON or
forms) and 400
``validation_error`` with every field error for schema violations.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t
import uuid

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import (
    VALIDATOR_MAP,
    FormDataValidator,
    JSONRequestBodyValidator,
    MultiPartFormDataValidator,
)
from jsonschema import Draft4Validator
from starlette.formparsers import MultiPartException
from starlette.types import Scope

from clikopro_chassis.errors import MalformedBody, RequestShapeInvalid, field_error


@Draft4Validator.FORMAT_CHECKER.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    # Draft 4 knows no "uuid" format; without this a malformed id in a path
    # would reach the handler (and its uuid.UUID() call) unchecked.
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


@Draft4Validator.FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    # jsonschema checks "date" for draft 3 and 7+, not for draft 4 (OpenAPI 3.0's): an invalid date
    # would reach the handler's fromisoformat() and be a 500. RFC 3339 full-date, a real day.
    if not isinstance(value, str):
        return True
    return bool(_FULL_DATE.fullmatch(value)) and dt.date.fromisoformat(value) is not None


@Draft4Validator.FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    # Same gap (draft 4 checks "date-time" only with an optional package). RFC 3339: the offset
    # is required, so that no naive time is ever stored or compared.
    if not isinstance(value, str):
        return True
    return bool(_DATE_TIME.fullmatch(value)) and dt.datetime.fromisoformat(value.upper()) is not None


def _field_name(path: t.Iterable[t.Any], extra: str | None = None) -> str:
    parts = [str(p) for p in path]
    if extra:
        parts.append(extra)
    return ".".join(parts) or "body"


NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"


def nul_fields(value: t.Any, path: tuple[t.Any, ...] = ()) -> t.Iterator[str]:
    """Where a NUL character stands in a JSON document (keys included). PostgreSQL cannot store it
    in text, so it would be a 500 deep in a service rather than a 400 here."""
    if isinstance(value, str):
        if NUL in value:
            yield _field_name(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if NUL in str(key):
                yield _field_name((*path, key))
            yield from nul_fields(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nul_fields(item, (*path, index))


def refuse_nul(value: t.Any, where: str) -> None:
    errors = [field_error(name, NUL_MESSAGE) for name in nul_fields(value)]
    if errors:
        raise RequestShapeInvalid(f"The {where} holds a NUL character.", errors=errors)


class StrictJSONBodyValidator(JSONRequestBodyValidator):
    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw:
            return None
        try:
            text = raw.decode(self._encoding or "utf-8")
        except (UnicodeDecodeError, LookupError):
            raise MalformedBody("The request body is not valid UTF-8.") from None
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise MalformedBody(f"The request body is not valid JSON: {exc}") from None
        # JSON can only carry a NUL escaped (a raw one is refused above): walk the document only then.
        if "\\u0000" in text:
            refuse_nul(body, "request body")
        return body

    def _validate(self, body: t.Any) -> dict | None:
        if not self._nullable and body is None:
            raise RequestShapeInvalid(
                "A JSON request body is required.", errors=[field_error("body", "is required")]
            )
        validator = Draft4RequestValidator(self._schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        errors = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path))):
            missing = None
            if error.validator == "required":
                # "'email' is a required property": name the missing field, not its parent.
                missing = error.message.split("'")[1] if "'" in error.message else None
            errors.append(field_error(_field_name(error.path, missing), error.message))
        if errors:
            raise RequestShapeInvalid("The request body does not match the API schema.", errors=errors)
        return None


class StrictFormDataValidator(FormDataValidator):
    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> dict:
        try:
            form = await super()._parse(stream, scope)
        except MultiPartException as exc:
            # starlette refuses a broken form (bad boundary, headers, too many parts): the client's
            # bytes, so a 400 rather than the 500 it would be.
            raise MalformedBody(f"The form body cannot be read: {exc.message}") from None
        refuse_nul(form, "form")
        return form


class StrictMultiPartFormDataValidator(MultiPartFormDataValidator, StrictFormDataValidator):
    pass


def validator_map() -> dict[str, t.Any]:
    body = MediaTypeDict(dict(VALIDATOR_MAP["body"]))
    body["*/*json"] = StrictJSONBodyValidator
    body["application/x-www-form-urlencoded"] = StrictFormDataValidator
    body["multipart/form-data"] = StrictMultiPartFormDataValidator
    return {**VALIDATOR_MAP, "body": body}
