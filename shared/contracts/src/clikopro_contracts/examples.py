"""Example messages, one full envelope per ``(type, version)``.

They live as JSON in ``examples/<producer>/<Type>.v<version>.json`` beside this
module (``<producer>`` is the service that owns the contract) and are the
fixtures of the contract tests on both sides: a producer checks that what it
builds has the example's shape, a consumer feeds the example to its handler.
Each call returns a fresh copy, safe to modify.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from clikopro_contracts.registry import contract_for

_NAME = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)\.v(?P<version>[1-9][0-9]*)\.json$")


def _root() -> Traversable:
    return resources.files("clikopro_contracts").joinpath("examples")


def _read(path: Traversable) -> dict[str, Any]:
    message = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(message, dict):
        raise ValueError(f"example {path.name} is not a JSON object")
    return message


def example(type_: str, version: int = 1) -> dict[str, Any]:
    """The example envelope of ``type_`` v``version``, as received from the wire."""
    contract = contract_for(type_, version)
    path = _root().joinpath(contract.producer, f"{type_}.v{version}.json")
    if not path.is_file():
        raise LookupError(f"no example for {type_} v{version} ({contract.producer}/{path.name})")
    return _read(path)


def example_files() -> dict[tuple[str, int], str]:
    """Every example file present, as ``(type, version) -> "<producer>/<file name>"``."""
    found: dict[tuple[str, int], str] = {}
    for directory in sorted(_root().iterdir(), key=lambda p: p.name):
        if not directory.is_dir() or directory.name.startswith(("_", ".")):
            continue
        for path in sorted(directory.iterdir(), key=lambda p: p.name):
            match = _NAME.match(path.name)
            if match is None:
                raise ValueError(f"unexpected file in examples: {directory.name}/{path.name}")
            key = (match["type"], int(match["version"]))
            if key in found:
                raise ValueError(f"two examples for {key[0]} v{key[1]}")
            found[key] = f"{directory.name}/{path.name}"
    return found


def all_examples() -> dict[tuple[str, int], dict[str, Any]]:
    """Every example present, keyed by ``(type, version)``, sorted."""
    root = _root()
    return {
        key: _read(root.joinpath(*relative.split("/"))) for key, relative in sorted(example_files().items())
    }
