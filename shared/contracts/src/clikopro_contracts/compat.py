"""Event compatibility: the contracts against the last published catalog.

    python -m clikopro_contracts.compat --snapshot docs/events/schemas.json           # check
    python -m clikopro_contracts.compat --snapshot docs/events/schemas.json --write   # publish

``schemas.json`` holds the JSON Schema of the payload of every published
``(type, version)``. A service ships alone only if what it publishes still
reads as the version its consumers know, so the check refuses, for an
existing version: the version removed, a field removed, a field's type or
format changed, a field that becomes required (or a new required field),
an optional field that stops accepting null, and a narrowed enum. Adding a
new version, a new type or an optional field is fine. ``--write`` refuses to
overwrite the snapshot with a breaking change: the way out is a new version.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clikopro_contracts.catalog import object_schema
from clikopro_contracts.registry import contracts


def current_schemas() -> dict[str, Any]:
    """``{"Type.vN": payload JSON Schema}`` of every registered contract, sorted."""
    schemas = {f"{c.type}.v{c.version}": object_schema(c.schema) for c in contracts()}
    return dict(sorted(schemas.items()))


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    if kind is None:
        return set()
    return set(kind) if isinstance(kind, list) else {kind}


def _compare(old: dict[str, Any], new: dict[str, Any], where: str, problems: list[str]) -> None:
    old_types, new_types = _types(old) - {"null"}, _types(new) - {"null"}
    if old_types != new_types:
        problems.append(f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}")
        return
    if "null" in _types(old) and "null" not in _types(new):
        problems.append(f"{where}: no longer accepts null")
    if old.get("format") != new.get("format"):
        problems.append(f"{where}: format changed from {old.get('format')} to {new.get('format')}")
    if "enum" in old and "enum" in new:
        dropped = [v for v in old["enum"] if v not in new["enum"]]
        if dropped:
            problems.append(f"{where}: enum values removed {dropped}")
    elif "enum" in new and "enum" not in old:
        problems.append(f"{where}: now restricted to {new['enum']}")
    if "object" in old_types:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, old_field in old_props.items():
            if name not in new_props:
                problems.append(f"{where}.{name}: removed")
                continue
            _compare(old_field, new_props[name], f"{where}.{name}", problems)
        for name in sorted(new_required - old_required):
            state = "new required field" if name not in old_props else "became required"
            problems.append(f"{where}.{name}: {state}")
    if "array" in old_types and "items" in old and "items" in new:
        _compare(old["items"], new["items"], f"{where}[]", problems)


def breaking_changes(published: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What in ``current`` breaks a consumer of ``published`` (empty when compatible)."""
    problems: list[str] = []
    for key, old in sorted(published.items()):
        if key not in current:
            problems.append(f"{key}: removed (published versions stay)")
            continue
        _compare(old, current[key], key, problems)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clikopro_contracts.compat", description=__doc__)
    parser.add_argument("--snapshot", type=Path, required=True, help="the published schemas.json")
    parser.add_argument("--write", action="store_true", help="publish: rewrite the snapshot if compatible")
    args = parser.parse_args(argv)
    if not args.snapshot.exists() and not args.write:
        print(
            f"{args.snapshot} is missing: nothing to compare with (make docs publishes it)", file=sys.stderr
        )
        return 1
    published = json.loads(args.snapshot.read_text()) if args.snapshot.exists() else {}
    current = current_schemas()
    problems = breaking_changes(published, current)
    for problem in problems:
        print(f"breaking change: {problem}", file=sys.stderr)
    if problems:
        print("An existing event version must stay readable: publish a new version instead.", file=sys.stderr)
        return 1
    if args.write:
        args.snapshot.write_text(json.dumps(current, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        print(args.snapshot)
    else:
        added = sorted(set(current) - set(published))
        print(f"compatible with {args.snapshot} ({len(published)} published, {len(added)} new: {added})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
