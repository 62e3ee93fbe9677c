"""Helpers for contract tests, in this package and in the services.

A producer checks that what its code publishes has the example's shape::

    event = build_the_event_the_way_the_service_does(...)
    assert_like_example(event)

A consumer feeds the example (or a variant of it) to its handler::

    handle(parse_event(wire(with_data(example("TaskValidated"), auto_validated=True))))
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from clikopro_contracts.envelope import Event
from clikopro_contracts.examples import example
from clikopro_contracts.registry import contracts, parse_event


def all_contract_keys() -> list[tuple[str, int]]:
    """Every registered ``(type, version)``, sorted like :func:`contracts`, for parametrising."""
    return [(c.type, c.version) for c in contracts()]


def wire(message: Event | Mapping[str, Any]) -> bytes:
    """The message body as it travels: UTF-8 JSON."""
    body = message.to_dict() if isinstance(message, Event) else message
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def with_data(message: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of an envelope with payload fields replaced; ``...`` removes one."""
    result = copy.deepcopy(dict(message))
    data = result["data"]
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return result


def _differences(expected: Any, actual: Any, path: str = "data") -> list[str]:
    """Where two payloads do not have the same keys, looking into objects (and the
    first item of lists of objects) present on both sides; null matches anything."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        found = [f"{path}.{key}: missing" for key in expected.keys() - actual.keys()]
        found += [f"{path}.{key}: not in the example" for key in actual.keys() - expected.keys()]
        for key in sorted(expected.keys() & actual.keys()):
            found += _differences(expected[key], actual[key], f"{path}.{key}")
        return sorted(found)
    if isinstance(expected, list) and isinstance(actual, list) and expected and actual:
        return _differences(expected[0], actual[0], f"{path}[]")
    return []


def assert_like_example(event: Event | Mapping[str, Any]) -> Event:
    """Check that ``event`` passes the consumer door and that its payload, as sent,
    has exactly the fields of the contract's example, so that consumer tests built
    on the example cover what the producer really sends. Returns the parsed event."""
    body = event.to_dict() if isinstance(event, Event) else dict(event)
    parsed = parse_event(wire(body))
    reference = example(parsed.type, parsed.version)
    differences = _differences(reference["data"], body["data"])
    if differences:
        raise AssertionError(
            f"{parsed.type} v{parsed.version} differs from its example: " + "; ".join(differences)
        )
    return parsed
