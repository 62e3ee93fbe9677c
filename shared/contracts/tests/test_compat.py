"""The compatibility check refuses a breaking change to a published event version (R22)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from clikopro_contracts import compat

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOT = ROOT / "docs" / "events" / "schemas.json"


def published() -> dict:
    return json.loads(SNAPSHOT.read_text())


def test_the_contracts_are_compatible_with_the_published_catalog() -> None:
    assert compat.main(["--snapshot", str(SNAPSHOT)]) == 0


def test_every_published_version_is_in_the_snapshot() -> None:
    # Guards the check itself: a snapshot missing versions would let them change unnoticed.
    assert set(published()) <= set(compat.current_schemas())
    assert len(published()) >= 40


def _some_event_with_a_required_string(schemas: dict) -> tuple[str, str]:
    for key, schema in schemas.items():
        for name in schema.get("required", []):
            if schema["properties"][name].get("type") == "string":
                return key, name
    raise AssertionError("no contract has a required string field")


def test_a_removed_field_is_refused() -> None:
    current = compat.current_schemas()
    key, name = _some_event_with_a_required_string(current)
    changed = copy.deepcopy(current)
    del changed[key]["properties"][name]
    changed[key]["required"].remove(name)
    assert compat.breaking_changes(current, changed) == [f"{key}.{name}: removed"]


def test_a_retyped_field_is_refused() -> None:
    current = compat.current_schemas()
    key, name = _some_event_with_a_required_string(current)
    changed = copy.deepcopy(current)
    changed[key]["properties"][name]["type"] = "integer"
    problems = compat.breaking_changes(current, changed)
    assert problems == [f"{key}.{name}: type changed from ['string'] to ['integer']"]


def test_a_new_required_field_is_refused_and_a_new_optional_one_is_not() -> None:
    current = compat.current_schemas()
    key, _ = _some_event_with_a_required_string(current)
    optional = copy.deepcopy(current)
    optional[key]["properties"]["extra"] = {"type": ["string", "null"]}
    assert compat.breaking_changes(current, optional) == []
    required = copy.deepcopy(optional)
    required[key]["required"].append("extra")
    assert compat.breaking_changes(current, required) == [f"{key}.extra: new required field"]


def test_removing_a_published_version_or_narrowing_an_enum_is_refused() -> None:
    current = compat.current_schemas()
    key = next(k for k, s in current.items() if any("enum" in p for p in s["properties"].values()))
    name = next(n for n, p in current[key]["properties"].items() if "enum" in p)
    changed = copy.deepcopy(current)
    dropped = changed[key]["properties"][name]["enum"].pop(0)
    other = next(k for k in current if k != key)
    del changed[other]
    problems = compat.breaking_changes(current, changed)
    assert f"{other}: removed (published versions stay)" in problems
    assert f"{key}.{name}: enum values removed [{dropped!r}]".replace("'", "'") in problems


def test_the_command_fails_on_a_breaking_change_and_write_keeps_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The published catalog knew a field that the code no longer has: as if the code removed it.
    snapshot = published()
    key, _ = _some_event_with_a_required_string(snapshot)
    snapshot[key]["properties"]["legacy_field"] = {"type": "string"}
    path = tmp_path / "schemas.json"
    path.write_text(json.dumps(snapshot))
    before = path.read_text()
    assert compat.main(["--snapshot", str(path)]) == 1
    assert compat.main(["--snapshot", str(path), "--write"]) == 1
    assert path.read_text() == before
    assert f"breaking change: {key}.legacy_field: removed" in capsys.readouterr().err
