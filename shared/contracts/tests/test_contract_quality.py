"""House rules for contracts, so the generated catalog stays useful and the
consumer door stays tolerant."""

from __future__ import annotations

import pytest
from marshmallow import fields

from clikopro_contracts import contract_for
from clikopro_contracts.fields import Nested
from clikopro_contracts.testing import all_contract_keys

ALL = all_contract_keys()
IDS = [f"{t}.v{v}" for t, v in ALL]


def _walk(schema, prefix=""):
    instance = schema() if isinstance(schema, type) else schema
    for name, field in instance.fields.items():
        yield prefix + name, field
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            yield from _walk(inner.schema, f"{prefix}{name}.")


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_summary_is_one_sentence(type_, version):
    summary = contract_for(type_, version).summary
    assert summary and summary[0].isupper() and summary.endswith(".")
    assert ". " not in summary[:-1], "one sentence only"


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_every_field_is_described(type_, version):
    missing = [
        path
        for path, field in _walk(contract_for(type_, version).schema)
        if not field.metadata.get("description")
    ]
    assert missing == []


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_nested_objects_use_the_policy_aware_nested_field(type_, version):
    plain = [
        path
        for path, field in _walk(contract_for(type_, version).schema)
        if isinstance(field.inner if isinstance(field, fields.List) else field, fields.Nested)
        and not isinstance(field.inner if isinstance(field, fields.List) else field, Nested)
    ]
    assert plain == [], "use clikopro_contracts.fields.Nested, which follows the unknown-field policy"


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_money_sits_beside_a_currency(type_, version):
    names = dict(_walk(contract_for(type_, version).schema))
    top_level_money = [p for p in names if "." not in p and p.endswith("_cents")]
    if top_level_money:
        assert "currency" in names, f"{type_} has {top_level_money} but no currency"


@pytest.mark.parametrize(("type_", "version"), ALL, ids=IDS)
def test_ids_and_times_use_the_shared_field_types(type_, version):
    from clikopro_contracts.fields import Cents, Id, UtcDateTime

    for path, field in _walk(contract_for(type_, version).schema):
        name = path.rsplit(".", 1)[-1]
        if name.endswith("_id") and name not in {"transfer_id", "refund_id", "dispute_id"}:  # Stripe ids
            assert isinstance(field, Id), path
        if name.endswith("_at"):
            assert isinstance(field, UtcDateTime), path
        if name.endswith("_cents"):
            assert isinstance(field, Cents), path
