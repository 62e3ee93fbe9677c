"""domain.contact: when the parties may reach each other, and what is masked meanwhile (pure)."""

import pytest

from clikopro_missions.domain.contact import contact_allowed, guard


@pytest.mark.parametrize(
    ("status", "mode", "allowed"),
    [
        ("published", None, False),
        ("contracted", "direct", True),
        ("in_progress", "direct", True),
        ("completed", "direct", True),
        ("awaiting_payment", "secure", False),
        ("in_progress", "secure", True),
        ("completed", "secure", True),
        ("cancelled", "direct", False),
        ("cancelled", "secure", False),
    ],
)
def test_contact_is_allowed_once_a_contract_binds_the_parties(status, mode, allowed):
    assert contact_allowed(status=status, payment_mode=mode) is allowed


TEXT = "Appelez le 06 12 34 56 78 ou sur WhatsApp, je prends le liquide ou PayPal"


def test_before_contact_everything_is_masked():
    guarded = guard(TEXT)
    assert guarded.text == "Appelez le ••• ou sur •••, je prends ••• ou •••"
    assert guarded.kinds == ["phone", "social", "offplatform_payment", "offplatform_payment"]


def test_after_a_secure_contract_only_paying_outside_is_masked():
    guarded = guard(TEXT, contact_allowed=True, payment_mode="secure")
    assert guarded.text == "Appelez le 06 12 34 56 78 ou sur WhatsApp, je prends ••• ou •••"
    assert guarded.kinds == ["offplatform_payment", "offplatform_payment"]


def test_after_a_direct_contract_nothing_is_masked():
    assert guard(TEXT, contact_allowed=True, payment_mode="direct").text == TEXT


def test_a_masked_text_keeps_within_its_columns_length():
    text = "x" * 198 + " fb"
    assert len(guard(text, max_length=200).text) == 200
